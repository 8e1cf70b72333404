/** Helpers of the supervisor tests: recorded lifecycles and waiting without the clock. */
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import { Service, Supervisor } from "@effect-mode/core"

/** Runs `check` until it holds, yielding to the other fibers in between (no clock time). */
export const eventually = (check: Effect.Effect<boolean>, what: string): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (let i = 0; i < 5000; i++) {
      if (yield* check) return
      yield* Effect.yieldNow()
    }
    return yield* Effect.dieMessage(`timed out waiting until ${what}`)
  })

/** Lets every fiber that can run do so (a fixed number of scheduler turns, no clock time). */
export const settle: Effect.Effect<void> = Effect.repeatN(Effect.yieldNow(), 200)

/** A service that records "start X" / "stop X" and keeps one task alive while it runs. */
export const recorded = (
  label: string,
  events: Array<string>,
  options: Service.Options<never, never> = {}
): Effect.Effect<Service.Service> =>
  Service.make(label, {
    onStart: () => Effect.sync(() => events.push(`start ${label}`)),
    onStop: () => Effect.sync(() => events.push(`stop ${label}`)),
    tasks: [Service.task((self) => self.sleep("1 day"), { name: "idle" })],
    ...options
  })

export const isRunning = (s: Service.Service): Effect.Effect<boolean> => Effect.map(s.state, (st) => st === "running")

/** Waits until `s` has been restarted `count` times and runs again. */
export const restarted = (s: Service.Service, count: number): Effect.Effect<void> =>
  eventually(
    Effect.zipWith(s.restartCount, s.state, (n, st) => n === count && st === "running"),
    `${s.label} restarted ${count} time(s)`
  )

export const states = (services: ReadonlyArray<Service.Service>): Effect.Effect<Array<string>> =>
  Effect.forEach(services, (s) => s.state)

export const restartCounts = (services: ReadonlyArray<Service.Service>): Effect.Effect<Array<number>> =>
  Effect.forEach(services, (s) => s.restartCount)

export const restartsOf = (path: string): Effect.Effect<number> =>
  Effect.map(Metric.value(Supervisor.restarts.pipe(Metric.tagged("service", path))), (s) => s.count)

export const escalationsOf = (path: string): Effect.Effect<number> =>
  Effect.map(Metric.value(Supervisor.escalations.pipe(Metric.tagged("supervisor", path))), (s) => s.count)

let unique = 0
/** A label no other test uses (metrics are global). */
export const fresh = (label: string): string => `${label}${++unique}`
