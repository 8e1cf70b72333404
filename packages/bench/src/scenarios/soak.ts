/**
 * The soak (issue 7): N restarts under a one-for-one supervisor whose 100 children each have a
 * crashing task, a timer, a context acquired in `onStart`, and a runtime child service made
 * on every start; the heap (after a full GC, every child idle) before the storm, after the
 * first 1,000 restarts, every tenth of the way, and at the end. A leak shows as growth.
 *
 * @since 0.0.0
 */
import { Service, Supervisor } from "@effect-mode/core"
import * as Effect from "effect/Effect"
import { peakRssMb } from "../measure.js"
import type { Row } from "../Row.js"
import { round } from "../stats.js"
import { runStorm } from "./restart.js"
import { runPhases, type Storm } from "./storm.js"
import { stormOptions } from "./supervisor.js"

/** Children under the supervisor. */
export const SOAK_CHILDREN = 100

const boom = Effect.fail("boom")

const makeChild = (storm: Storm, i: number): Effect.Effect<Service.Service> =>
  Service.make(`c${i}`, {
    mundaneLevel: "debug",
    onStart: (self) =>
      Effect.gen(function*() {
        yield* self.addContext(Effect.acquireRelease(Effect.sync(() => new Array<number>(16).fill(i)), () => Effect.void))
        const sub = yield* Service.make(`c${i}-sub`, {
          mundaneLevel: "debug",
          tasks: [Service.task(() => Effect.never, { name: "idle" })]
        })
        yield* self.addRuntimeDependency(sub)
      }).pipe(Effect.orDie),
    tasks: [
      Service.task(() => storm.task(i, boom), { name: "crasher" }),
      Service.timer("1 second", () => Effect.void, { name: "tick" })
    ]
  })

/**
 * The restart counts at which the soak samples the heap: 1,000, then every tenth of `n`.
 *
 * @example
 * ```ts
 * import { soakCheckpoints } from "@effect-mode/bench/scenarios/soak"
 *
 * soakCheckpoints(100_000) // [1000, 10000, 20000, ..., 100000]
 * ```
 *
 * @since 0.0.0
 */
export const soakCheckpoints = (n: number): Array<number> => {
  const points = new Set<number>([Math.min(1_000, n)])
  for (let k = 1; k <= 10; k++) points.add(Math.max(1, Math.round((n * k) / 10)))
  return [...points].filter((p) => p <= n).sort((a, b) => a - b)
}

/**
 * Runs the soak once with `n` restarts. Row: `heapBeforeMb` (every child started, no restart
 * yet), `heapWarmMb` (after 1,000 restarts), `heapAfterMb` (after `n`), `heapGrowthKb`
 * (after − warm), `heapSeries` (restarts:MB at every sample), `wallMs`, `peakRssMb`.
 *
 * @example
 * ```ts
 * import { runSoak } from "@effect-mode/bench/scenarios/soak"
 *
 * const row = await runSoak("effect-mode", 100_000)
 * ```
 *
 * @since 0.0.0
 */
export const runSoak = async (subject: string, n: number): Promise<Row> => {
  if (subject !== "effect-mode") throw new Error(`soak: unknown subject ${subject}`)
  const { samples, stormMs } = await runStorm(subject, SOAK_CHILDREN, soakCheckpoints(n), (storm, checkpoints) =>
    Effect.gen(function*() {
        const children: Array<Service.Service> = []
      for (let i = 0; i < storm.children; i++) children.push(yield* makeChild(storm, i))
      const supervisor = yield* Supervisor.oneForOne("soak", children, stormOptions)
      yield* supervisor.start
      const result = yield* runPhases(storm, checkpoints)
      yield* supervisor.stop
      return result
    }))
  const before = samples[0]!.heapMb
  const warm = samples[1]!.heapMb
  const after = samples.at(-1)!.heapMb
  return {
    scenario: "soak",
    n,
    subject,
    wallMs: round(stormMs),
    peakRssMb: round(peakRssMb(), 1),
    heapBeforeMb: round(before, 2),
    heapWarmMb: round(warm, 2),
    heapAfterMb: round(after, 2),
    heapGrowthKb: round((after - warm) * 1024, 1),
    heapSeries: samples.map((s) => `${s.restarts}:${s.heapMb.toFixed(2)}`).join(" ")
  }
}
