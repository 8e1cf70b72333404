import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Supervisor from "effect/Supervisor"
import { performance } from "node:perf_hooks"
import type { ServiceGraph } from "@effect-mode/core"
import type { Roots } from "./roots.js"

/** A fiber that kept the event loop for longer than the timeout in one go. */
interface Slice {
  readonly fiber: Fiber.RuntimeFiber<unknown, unknown>
  readonly millis: number
  readonly service: string | undefined
  readonly task: string | undefined
}

const maxSlices = 16

const annotation = (fiber: Fiber.RuntimeFiber<unknown, unknown>, key: string): string | undefined => {
  const value = HashMap.get(fiber.getFiberRef(FiberRef.currentLogAnnotations), key)
  return Option.isSome(value) && typeof value.value === "string" ? value.value : undefined
}

/**
 * Measures how long each fiber runs every time it is resumed (two `performance.now()`
 * calls per resumption, nothing else) and keeps the ones that ran past the threshold.
 * Nothing is injected into the fiber: a stall is only reported once it is over.
 */
export class SliceMonitor extends Supervisor.AbstractSupervisor<void> {
  private current: Fiber.RuntimeFiber<unknown, unknown> | undefined = undefined
  private since = 0
  private slices: Array<Slice> = []

  constructor(private readonly thresholdMillis: number) {
    super()
  }

  get value(): Effect.Effect<void> {
    return Effect.void
  }

  override onResume<A, E>(fiber: Fiber.RuntimeFiber<A, E>): void {
    this.current = fiber
    this.since = performance.now()
  }

  override onSuspend<A, E>(fiber: Fiber.RuntimeFiber<A, E>): void {
    this.sliceEnds(fiber)
  }

  /**
   * A fiber's last slice ends with it: Effect tells its end (`onEnd`, an observer of the
   * exit) before the suspension that closes the slice, so the slice is measured there.
   */
  override onEnd<A, E>(_value: Exit.Exit<A, E>, fiber: Fiber.RuntimeFiber<A, E>): void {
    this.sliceEnds(fiber)
  }

  private sliceEnds(fiber: Fiber.RuntimeFiber<unknown, unknown>): void {
    if (this.current !== fiber) return
    this.current = undefined
    const millis = performance.now() - this.since
    if (millis < this.thresholdMillis || this.slices.length >= maxSlices) return
    this.slices.push({
      fiber,
      millis,
      service: annotation(fiber, "servicePath"),
      task: annotation(fiber, "task")
    })
  }

  drain(): Array<Slice> {
    const out = this.slices
    this.slices = []
    return out
  }
}

const ms = (millis: number): string => Duration.format(Duration.millis(Math.round(millis)))

const describeSlice = (slice: Slice): string =>
  slice.service === undefined
    ? `fiber #${slice.fiber.id().id} (no service) for ${ms(slice.millis)}`
    : `${slice.service}${slice.task === undefined ? "" : ` task ${slice.task}`} (fiber #${slice.fiber.id().id}) for ${ms(slice.millis)}`

/** Services with live tasks, and the tasks: who may have blocked the loop outside a fiber. */
const liveTasks = (roots: Roots): Effect.Effect<Array<string>> =>
  Effect.map(roots.snapshots, (trees) => {
    const out: Array<string> = []
    const walk = (s: ServiceGraph.Snapshot) => {
      if (s.tasks.length > 0) out.push(`${s.path} (${s.tasks.map((t) => t.name).join(", ")})`)
      s.children.forEach(walk)
    }
    trees.forEach(walk)
    return out
  })

/**
 * The blocking detector: a fiber that sleeps `timeout / 4` (at most one second) on the
 * real clock and compares how long it really slept. When the event loop was held for
 * longer than `timeout`, it logs a warning naming the fibers (service and task) that held
 * it, measured by `monitor`; when no fiber did (the stall was in plain callbacks), it
 * names the services whose tasks were alive.
 */
export const detector = (monitor: SliceMonitor, timeout: Duration.Duration, roots: Roots): Effect.Effect<never> => {
  const timeoutMillis = Duration.toMillis(timeout)
  const interval = Math.max(1, Math.min(1000, Math.floor(timeoutMillis / 4)))
  const check = Effect.gen(function*() {
    const before = yield* Clock.currentTimeMillis
    yield* Effect.sleep(interval)
    const lag = (yield* Clock.currentTimeMillis) - before - interval
    const slices = monitor.drain()
    if (slices.length > 0) {
      const longest = Math.max(lag, ...slices.map((s) => s.millis))
      yield* Effect.logWarning(
        `[Worker] Event loop blocked for ${ms(longest)} (blockingTimeout ${Duration.format(timeout)}): held by ` +
          slices.map(describeSlice).join("; ")
      )
    } else if (lag >= timeoutMillis) {
      const alive = yield* liveTasks(roots)
      yield* Effect.logWarning(
        `[Worker] Event loop blocked for at least ${ms(lag)} (blockingTimeout ${Duration.format(timeout)}) ` +
          `outside any fiber; services with live tasks: ${alive.length === 0 ? "none" : alive.join("; ")}`
      )
    }
  })
  return Effect.forever(check)
}
