/**
 * Test helpers: check that a program leaves no fiber behind, and run it on fast virtual time.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Supervisor from "effect/Supervisor"
import * as runner from "./internal/virtualTime/runner.js"
import * as stalled from "./internal/virtualTime/stalled.js"

/**
 * Fibers forked by a program were still alive after it ended.
 *
 * @example
 * ```ts
 * import { Testing } from "@effect-mode/core"
 *
 * const e = new Testing.LeakedFibers({ count: 1, fibers: ["#12 (Suspended)"] })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class LeakedFibers extends Data.TaggedError("LeakedFibers")<{
  readonly count: number
  readonly fibers: ReadonlyArray<string>
}> {
  override get message(): string {
    return `${this.count} fiber(s) still alive after the test: ${this.fibers.join(", ")}`
  }
}

/**
 * Runs `self` under a fiber tracker and fails with `LeakedFibers` if any fiber forked while
 * it ran (by it, or by the services it started) is still alive once it has ended. Fibers
 * still winding down get a few scheduler turns (not clock time) to finish.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, Testing } from "@effect-mode/core"
 *
 * const test = Testing.leakFree(Effect.gen(function* () {
 *   const svc = yield* Service.make("S", { tasks: [Service.task(() => Effect.never)] })
 *   yield* svc.start
 *   yield* svc.stop // without this line, leakFree fails
 * }))
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const leakFree = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | LeakedFibers, R> =>
  Effect.flatMap(Supervisor.track, (tracker) =>
    Effect.flatMap(Effect.supervised(self, tracker), (a) =>
      Effect.gen(function*() {
        let alive: Array<Fiber.RuntimeFiber<any, any>> = []
        for (let turn = 0; turn < 50; turn++) {
          const fibers = yield* tracker.value
          alive = fibers.filter((f) => f.unsafePoll() === null)
          if (alive.length === 0) return a
          yield* Effect.yieldNow()
        }
        const described = yield* Effect.forEach(alive, (f) =>
          Effect.map(f.status, (s) => `#${f.id().id} (${s._tag})`))
        return yield* Effect.fail(new LeakedFibers({ count: alive.length, fibers: described }))
      })))

/**
 * The options of `virtualTime`.
 *
 * - `autoAdvance` (default false): when every fiber is idle and sleeps are pending, time
 *   jumps to the next one by itself (like tokio's `time::pause`), so a program that waits
 *   for time needs no `TestClock.adjust`. It stops once `self` has ended.
 * - `onStall` (default "fail"): what happens when every fiber is idle, nothing can move time
 *   (no `adjust` in progress; with `autoAdvance`, no sleep pending) and `self` has not ended
 *   after `idleRounds` turns of the event loop: "fail" interrupts `self` and fails with
 *   `VirtualTimeStalled`; "warn" logs that error's message and keeps waiting.
 * - `idleRounds` (default 1000): event-loop turns (macrotasks, no timer waits) to wait for
 *   something outside Effect's scheduler before calling the run stalled.
 * - `busyTasks` (default 100,000): time moves when every fiber is idle, and also after this
 *   many scheduler tasks with no idle moment, so that a fiber that never waits (a loop of
 *   `Effect.yieldNow`, a zero-interval timer) cannot hold `TestClock.adjust` forever. Each such
 *   step moves time as an idle moment would. `Infinity` waits for idleness only.
 *
 * @example
 * ```ts
 * import type { Testing } from "@effect-mode/core"
 *
 * const options: Testing.VirtualTimeOptions = { autoAdvance: true, onStall: "warn" }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface VirtualTimeOptions {
  readonly autoAdvance?: boolean | undefined
  readonly onStall?: "fail" | "warn" | undefined
  readonly idleRounds?: number | undefined
  readonly busyTasks?: number | undefined
}

/**
 * A `virtualTime` run that cannot make progress: every fiber idle, nothing that can move
 * time, and the program not ended. Its message says which case it is and what to do (call
 * `TestClock.adjust`, use `autoAdvance`, or take the code that waits outside Effect's
 * scheduler out of the run).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Testing } from "@effect-mode/core"
 *
 * // waits on a promise that never settles: fails with VirtualTimeStalled instead of hanging
 * const stalled = Testing.virtualTime(Effect.promise(() => new Promise<void>(() => {})))
 * const tag = Effect.map(Effect.flip(stalled), (e) => e._tag) // "VirtualTimeStalled"
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export const VirtualTimeStalled: typeof stalled.VirtualTimeStalled = stalled.VirtualTimeStalled

/**
 * @since 0.2.0
 * @category errors
 */
export type VirtualTimeStalled = stalled.VirtualTimeStalled

/**
 * Runs `self` on fast virtual time. Inside it, unchanged code that uses the TestClock works:
 * `TestClock.adjust`, `setTime`, `sleeps`, `currentTimeMillis`, `Clock`, `Effect.sleep`,
 * `Effect.timeout`, every `Schedule`, `Cron`, and every timer, crontab, backoff and deadline of
 * effect-mode. It composes with `@effect/vitest`: the TestClock that `it.effect` provides is
 * replaced, for `self` and every fiber it forks, by a clock driven by the run's own scheduler.
 *
 * Advancing time (an `adjust`, or `autoAdvance`) runs every fiber until all are idle, moves to
 * the next instant a sleep is due, wakes every sleep due then in the order they began, and
 * repeats: no real-time waits, and the same program gives the same sequence of (time, event)
 * on every run. Time starts at the current time of the clock outside.
 *
 * Fibers forked before the run keep the outer clock and scheduler; code that waits outside
 * Effect's scheduler (a promise, a real timer, a socket) is not seen by the clock: see
 * `VirtualTimeOptions` for how such a wait is detected. Dual: `virtualTime(self, options)` or
 * `pipe(self, virtualTime(options))`.
 *
 * @example
 * ```ts
 * import { it } from "@effect/vitest"
 * import { Effect, TestClock } from "effect"
 * import { Service, Testing } from "@effect-mode/core"
 *
 * it.effect("a 1 s timer over ten minutes", () =>
 *   Testing.virtualTime(Effect.gen(function* () {
 *     let ticks = 0
 *     const svc = yield* Service.make("Beat", {
 *       tasks: [Service.timer("1 second", () => Effect.sync(() => { ticks++ }))]
 *     })
 *     yield* svc.start
 *     yield* TestClock.adjust("10 minutes")
 *     yield* svc.stop
 *     // ticks === 600
 *   })))
 *
 * // autoAdvance: a program that waits an hour returns at once
 * const hour = Testing.virtualTime(Effect.sleep("1 hour"), { autoAdvance: true })
 * ```
 *
 * @since 0.2.0
 * @category testing
 */
export const virtualTime: {
  (options?: VirtualTimeOptions): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | VirtualTimeStalled, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, options?: VirtualTimeOptions): Effect.Effect<A, E | VirtualTimeStalled, R>
} = runner.virtualTime
