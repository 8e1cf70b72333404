/**
 * Test helpers: check that a program leaves no fiber behind.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Supervisor from "effect/Supervisor"

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
