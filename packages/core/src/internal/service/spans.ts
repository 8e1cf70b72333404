/**
 * The lifecycle spans: `Service.start`, `Service.stop`, `Service.restart`, `Service.crash`
 * and one `Service.<hook>` per hook step, each with the attributes `service.label`,
 * `service.path` and `service.id`. They nest as the work does: a child's start span is under
 * its parent's start span, a hook's under its start or stop. Inside a span Effect wraps
 * every error that user code fails or dies with in a proxy (to carry the span): `original`
 * takes the proxies out of a cause the core records, so a crash reason holds the user's own
 * error objects. When the fiber's tracer is Effect's own native tracer (no tracer installed:
 * nothing would receive the spans) no span is made at all, so a service costs what it did
 * without spans; with tracing disabled (`Effect.withTracerEnabled(false)`) they are no-ops.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as Tracer from "effect/Tracer"
import type { ServiceImpl } from "./impl.js"
import * as tree from "./tree.js"

/** The tracer of a runtime that has none installed. */
const nativeTracer: Tracer.Tracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/** `Effect.withSpan`, unless `fiber` (the current fiber) has no tracer installed. */
const spanOn = <A, E, R>(
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  effect: Effect.Effect<A, E, R>,
  name: string,
  attributes: () => Record<string, unknown>
): Effect.Effect<A, E, R> =>
  fiber.currentTracer === nativeTracer ? effect : Effect.withSpan(effect, name, { attributes: attributes() })

/** `spanOn`, decided in a step of its own. */
const withSpan = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  name: string,
  attributes: () => Record<string, unknown>
): Effect.Effect<A, E, R> => Effect.withFiberRuntime((fiber) => spanOn(fiber, effect, name, attributes))

const attributes = (s: ServiceImpl): Record<string, unknown> => ({
  "service.label": s.label,
  "service.path": tree.path(s),
  "service.id": s.id
})

/** `lifecycle`, decided on `fiber` (the current fiber) instead of in a step of its own. */
export const lifecycleOn = <A, E, R>(
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  s: ServiceImpl,
  name: string,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => spanOn(fiber, effect, name, () => attributes(s))

/** A span around a start, stop or restart (`name` is one of the span names above). */
export const lifecycle = <A, E, R>(s: ServiceImpl, name: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  withSpan(effect, name, () => attributes(s))

/** A span around one hook step (`Service.onStart`, ...). */
export const hook = <A, E, R>(s: ServiceImpl, hookName: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  withSpan(effect, `Service.${hookName}`, () => attributes(s))

/** A span around a crash's propagation, with where it began, decided on `fiber` (the current fiber). */
export const crashOn = <A, E, R>(
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  s: ServiceImpl,
  origin: string,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  spanOn(fiber, effect, "Service.crash", () => ({ ...attributes(s), "service.crash.origin": origin }))

/** `cause` with the errors and defects Effect proxied under a span replaced by the originals. */
export const original = <E>(cause: Cause.Cause<E>): Cause.Cause<E> => {
  switch (cause._tag) {
    case "Fail": {
      const error = Cause.originalError(cause.error)
      return error === cause.error ? cause : Cause.fail(error)
    }
    case "Die": {
      const defect = Cause.originalError(cause.defect)
      return defect === cause.defect ? cause : Cause.die(defect)
    }
    case "Sequential": {
      const left = original(cause.left)
      const right = original(cause.right)
      return left === cause.left && right === cause.right ? cause : Cause.sequential(left, right)
    }
    case "Parallel": {
      const left = original(cause.left)
      const right = original(cause.right)
      return left === cause.left && right === cause.right ? cause : Cause.parallel(left, right)
    }
    default:
      return cause
  }
}
