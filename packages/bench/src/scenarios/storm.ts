/**
 * A restart storm, shared by the restart and soak scenarios: C children under a one-for-one
 * supervisor, each crashing as soon as its task runs, until a budget of crashes is spent.
 * The storm runs in phases (a budget each); between two phases every child is up and idle,
 * and the heap is measured after a full GC. The time from each crash to the first moment the
 * restarted child's task runs again is its restart latency, on the live clock.
 *
 * @since 0.0.0
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import { heapAfterGc, now } from "../measure.js"

/**
 * The shared state of a storm: the crash budget, when each child last crashed, the restart
 * latencies, and the signals of the phases.
 *
 * @example
 * ```ts
 * import { Storm } from "@effect-mode/bench/scenarios/storm"
 *
 * const storm = new Storm(1000, 100_000)
 * ```
 *
 * @since 0.0.0
 */
export class Storm {
  crashes = 0
  limit = 0
  idle = 0
  latencyCount = 0
  readonly latencies: Float64Array
  readonly crashedAt: Float64Array
  gate: Deferred.Deferred<void> = Deferred.unsafeMake(FiberId.none)
  quiet: Deferred.Deferred<void> = Deferred.unsafeMake(FiberId.none)

  constructor(readonly children: number, maxRestarts: number) {
    this.latencies = new Float64Array(maxRestarts)
    this.crashedAt = new Float64Array(children).fill(Number.NaN)
  }

  /**
   * The body of child `i`'s task: record the restart latency (when it crashed before), then
   * crash with `fail` while the budget lasts, else idle until the next phase.
   */
  task<E>(i: number, fail: Effect.Effect<never, E>): Effect.Effect<void, E> {
    const self = this
    const crashOrIdle: Effect.Effect<void, E> = Effect.suspend(() => {
      if (self.crashes < self.limit) {
        self.crashes++
        self.crashedAt[i] = now()
        return fail
      }
      self.idle++
      if (self.idle === self.children) Deferred.unsafeDone(self.quiet, Exit.void)
      return Effect.zipRight(Deferred.await(self.gate), crashOrIdle)
    })
    return Effect.suspend(() => {
      const at = self.crashedAt[i]!
      if (!Number.isNaN(at)) {
        if (self.latencyCount < self.latencies.length) self.latencies[self.latencyCount++] = now() - at
        self.crashedAt[i] = Number.NaN
      }
      return crashOrIdle
    })
  }

  /** Allows `budget` more crashes and waits until they were all restarted and every child idles. */
  phase(budget: number): Effect.Effect<void> {
    return Effect.suspend(() => {
      const gate = this.gate
      this.gate = Deferred.unsafeMake(FiberId.none)
      this.quiet = Deferred.unsafeMake(FiberId.none)
      this.idle = 0
      this.limit += budget
      Deferred.unsafeDone(gate, Exit.void)
      return Deferred.await(this.quiet)
    })
  }

  /** Waits until every child idles (after the initial start). */
  get started(): Effect.Effect<void> {
    return Effect.suspend(() => Deferred.await(this.quiet))
  }
}

/**
 * One heap sample of a storm: restarts so far, live heap in MB after a full GC.
 *
 * @example
 * ```ts
 * import type { HeapSample } from "@effect-mode/bench/scenarios/storm"
 *
 * const s: HeapSample = { restarts: 1000, heapMb: 42 }
 * ```
 *
 * @since 0.0.0
 */
export interface HeapSample {
  readonly restarts: number
  readonly heapMb: number
}

/**
 * Runs the phases of `storm` (cumulative restart counts, e.g. [1000, 100000]) and samples
 * the heap after the start and after each phase. Returns the samples and the storm's wall
 * time (GCs excluded).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Storm, runPhases } from "@effect-mode/bench/scenarios/storm"
 *
 * const storm = new Storm(10, 1000)
 * const program = runPhases(storm, [100, 1000])
 * ```
 *
 * @since 0.0.0
 */
export const runPhases = (
  storm: Storm,
  checkpoints: ReadonlyArray<number>
): Effect.Effect<{ readonly samples: Array<HeapSample>; readonly stormMs: number }> =>
  Effect.gen(function*() {
    yield* storm.started
    const samples: Array<HeapSample> = [{ restarts: 0, heapMb: heapAfterGc() / 2 ** 20 }]
    let stormMs = 0
    let done = 0
    for (const target of checkpoints) {
      const t0 = now()
      yield* storm.phase(target - done)
      stormMs += now() - t0
      done = target
      samples.push({ restarts: storm.latencyCount, heapMb: heapAfterGc() / 2 ** 20 })
      if (process.env["BENCH_VERBOSE"] !== undefined) {
        console.error(`    restarts=${storm.latencyCount} heap=${samples.at(-1)!.heapMb.toFixed(2)} MB`)
      }
    }
    return { samples, stormMs }
  })
