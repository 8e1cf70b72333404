/**
 * Lifecycle spans through the real OpenTelemetry SDK (`@effect/opentelemetry` and the SDK's
 * in-memory exporter): the span tree of a start, a stop and a restart, with the attributes
 * `service.label`, `service.path` and `service.id`.
 */
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { describe, expect } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import { Service } from "@effect-mode/core"
import { it } from "./support/it.js"

const tracing = () => {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const layer = OtelTracer.layerWithoutOtelTracer.pipe(
    Layer.provide(Layer.succeed(OtelTracer.OtelTracer, provider.getTracer("effect-mode-test")))
  )
  return { exporter, layer }
}

/** The finished spans as "name label" lines, indented under their parents, in start order. */
const tree = (spans: ReadonlyArray<ReadableSpan>): Array<string> => {
  const byParent = new Map<string | undefined, Array<ReadableSpan>>()
  const ids = new Set(spans.map((s) => s.spanContext().spanId))
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId
    const key = parent !== undefined && ids.has(parent) ? parent : undefined
    byParent.set(key, [...(byParent.get(key) ?? []), span])
  }
  const lines: Array<string> = []
  const walk = (parent: string | undefined, depth: number) => {
    const children = [...(byParent.get(parent) ?? [])].sort((a, b) =>
      a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]
    )
    for (const span of children) {
      lines.push(`${"  ".repeat(depth)}${span.name} ${String(span.attributes["service.path"])}`)
      walk(span.spanContext().spanId, depth + 1)
    }
  }
  walk(undefined, 0)
  return lines
}

describe("lifecycle spans", () => {
  it.effect("a start, a stop and a restart make span trees along the service tree", () => {
    const { exporter, layer } = tracing()
    return Effect.gen(function*() {
      const child = yield* Service.make("Child", {
        onStart: () => Effect.void,
        onStop: () => Effect.void,
        onRestart: () => Effect.void
      })
      const parent = yield* Service.make("Parent")
      yield* parent.addDependency(child)
      yield* parent.start
      expect(tree(exporter.getFinishedSpans())).toEqual([
        "Service.start Parent",
        "  Service.start Parent/Child",
        "    Service.onStart Parent/Child"
      ])
      exporter.reset()

      yield* child.restart
      expect(tree(exporter.getFinishedSpans())).toEqual([
        "Service.restart Parent/Child",
        "  Service.stop Parent/Child",
        "    Service.onStop Parent/Child",
        "  Service.onRestart Parent/Child",
        "  Service.start Parent/Child",
        "    Service.onStart Parent/Child"
      ])
      exporter.reset()

      yield* parent.stop
      expect(tree(exporter.getFinishedSpans())).toEqual([
        "Service.stop Parent",
        "  Service.stop Parent/Child",
        "    Service.onStop Parent/Child"
      ])
      const [childStop] = exporter.getFinishedSpans().filter((s) => s.name === "Service.stop" && s.attributes["service.label"] === "Child")
      expect(childStop!.attributes).toEqual({ "service.label": "Child", "service.path": "Parent/Child", "service.id": child.id })
    }).pipe(Effect.provide(layer))
  })

  it.effect("a crash has its span; the crash reason keeps the user's own error object", () => {
    const { exporter, layer } = tracing()
    const boom = new Error("boom")
    return Effect.gen(function*() {
      const svc = yield* Service.make("Crashy", { tasks: [Service.task(() => Effect.fail(boom))] })
      const exit = yield* Effect.exit(Service.run(svc))
      expect(Exit.isFailure(exit)).toBe(true)
      const reason = Option.getOrThrow(yield* svc.crashReason)
      expect(Option.getOrThrow(Cause.failureOption(reason))).toBe(boom)
      const crash = exporter.getFinishedSpans().find((s) => s.name === "Service.crash")
      expect(crash?.attributes["service.crash.origin"]).toBe("Crashy")
    }).pipe(Effect.provide(layer))
  })
})
