/**
 * The restart scenario: a one-for-one supervisor with 1,000 children, each crashing as soon
 * as it runs, until N restarts were done: restart latency p50/p99 on the live clock, and the
 * heap after the first 1,000 restarts vs after all N (it must not grow). The baseline is the
 * floor in bare Effect: per child a loop that opens a scope, forks the task into it, waits
 * for its failure and closes the scope.
 *
 * @since 0.0.0
 */
import { Service, Supervisor } from "@effect-mode/core"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Scope from "effect/Scope"
import { peakRssMb } from "../measure.js"
import type { Row } from "../Row.js"
import { percentile, round } from "../stats.js"
import { type HeapSample, runPhases, Storm } from "./storm.js"
import { stormOptions } from "./supervisor.js"

/** Children under the supervisor. */
export const CHILDREN = 1_000

const boom = Effect.fail("boom")

const makeChild = (storm: Storm, i: number): Effect.Effect<Service.Service> =>
  Service.make(`c${i}`, {
    mundaneLevel: "debug",
    tasks: [Service.task(() => storm.task(i, boom), { name: "crasher" })]
  })

const effectMode = (storm: Storm, checkpoints: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const children: Array<Service.Service> = []
    for (let i = 0; i < storm.children; i++) children.push(yield* makeChild(storm, i))
    const supervisor = yield* Supervisor.oneForOne("storm", children, stormOptions)
    yield* supervisor.start
    const result = yield* runPhases(storm, checkpoints)
    yield* supervisor.stop
    return result
  })

const baseline = (storm: Storm, checkpoints: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const top = yield* Scope.make()
    for (let i = 0; i < storm.children; i++) {
      const once = Effect.scoped(
        Effect.flatMap(Effect.scope, (scope) => Effect.flatMap(Effect.forkIn(storm.task(i, boom), scope), Fiber.await))
      )
      yield* Effect.forkIn(Effect.forever(once), top)
    }
    const result = yield* runPhases(storm, checkpoints)
    yield* Scope.close(top, Exit.void)
    return result
  })

/**
 * Runs a storm of `restarts` restarts (in phases ending at `checkpoints`) for `subject`, with
 * logging off (a crash is logged with its cause, which would dominate).
 *
 * @example
 * ```ts
 * import { runStorm } from "@effect-mode/bench/scenarios/restart"
 *
 * const { storm, samples } = await runStorm("effect-mode", 1000, [1000, 100_000])
 * ```
 *
 * @since 0.0.0
 */
export const runStorm = async (
  subject: string,
  children: number,
  checkpoints: ReadonlyArray<number>,
  make?: (storm: Storm, checkpoints: ReadonlyArray<number>) => Effect.Effect<{ samples: Array<HeapSample>; stormMs: number }, unknown>
): Promise<{ storm: Storm; samples: Array<HeapSample>; stormMs: number }> => {
  const storm = new Storm(children, checkpoints.at(-1)!)
  const program = make !== undefined
    ? make(storm, checkpoints)
    : subject === "effect-mode"
    ? effectMode(storm, checkpoints)
    : subject === "baseline-effect"
    ? baseline(storm, checkpoints)
    : Effect.dieMessage(`restart: unknown subject ${subject}`)
  const result = await Effect.runPromise(
    (program as Effect.Effect<{ samples: Array<HeapSample>; stormMs: number }>).pipe(
      Effect.provide(Logger.minimumLogLevel(LogLevel.None))
    )
  )
  return { storm, ...result }
}

/**
 * Runs the restart scenario once: `n` restarts in all among 1,000 children. Row: `p50Ms`,
 * `p99Ms` (restart latency), `restartsPerSec`, `heapFirstMb` (after the first 1,000
 * restarts), `heapLastMb` (after all), `heapGrowthKb`, `wallMs` (the storm), `peakRssMb`.
 *
 * @example
 * ```ts
 * import { runRestart } from "@effect-mode/bench/scenarios/restart"
 *
 * const row = await runRestart("effect-mode", 100_000)
 * ```
 *
 * @since 0.0.0
 */
export const runRestart = async (subject: string, n: number): Promise<Row> => {
  const first = Math.min(1_000, n)
  const { samples, storm, stormMs } = await runStorm(subject, Math.min(CHILDREN, n), first < n ? [first, n] : [n])
  const lat = storm.latencies.subarray(0, storm.latencyCount)
  const heapFirst = samples[1]!.heapMb
  const heapLast = samples.at(-1)!.heapMb
  return {
    scenario: "restart",
    n,
    subject,
    wallMs: round(stormMs),
    peakRssMb: round(peakRssMb(), 1),
    p50Ms: round(percentile(lat, 50), 3),
    p99Ms: round(percentile(lat, 99), 3),
    restartsPerSec: round(storm.latencyCount / (stormMs / 1000), 0),
    heapFirstMb: round(heapFirst, 2),
    heapLastMb: round(heapLast, 2),
    heapGrowthKb: round((heapLast - heapFirst) * 1024, 1),
    restarts: storm.latencyCount
  }
}
