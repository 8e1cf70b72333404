/**
 * The registry of scenarios: their subjects, default sizes and runs, and the figures the
 * table shows. Each scenario module is loaded only by the child process that runs it.
 *
 * @since 0.0.0
 */
import type { Row } from "../Row.js"

/**
 * A column of the table: a figure of the rows and its header.
 *
 * @example
 * ```ts
 * import type { Column } from "@effect-mode/bench/scenarios/index"
 *
 * const start: Column = { key: "startMs", header: "start ms" }
 * ```
 *
 * @since 0.0.0
 */
export interface Column {
  readonly key: string
  readonly header: string
  /** False for a figure whose ratio means nothing (a signed lag, a count). Default true. */
  readonly ratio?: boolean
}

/**
 * A scenario: what it runs, for which subjects, at which sizes by default.
 *
 * @example
 * ```ts
 * import { scenarios } from "@effect-mode/bench/scenarios/index"
 *
 * const tree = scenarios.find((s) => s.name === "tree")
 * ```
 *
 * @since 0.0.0
 */
export interface Scenario {
  readonly name: string
  readonly description: string
  /** The subjects; the first is effect-mode, the others are baselines. */
  readonly subjects: ReadonlyArray<string>
  readonly defaultSizes: ReadonlyArray<number>
  /** Runs per subject and size when `--runs` is not given. */
  readonly defaultRuns: (n: number) => number
  readonly columns: ReadonlyArray<Column>
  /** Runs one subject once, in the calling process. */
  readonly run: (subject: string, n: number) => Promise<Row>
}

const lazy = <M>(load: () => Promise<M>, pick: (m: M) => (subject: string, n: number) => Promise<Row>) =>
async (subject: string, n: number): Promise<Row> => pick(await load())(subject, n)

/**
 * Every scenario, in the order `--scenario all` runs them.
 *
 * @example
 * ```ts
 * import { scenarios } from "@effect-mode/bench/scenarios/index"
 *
 * console.log(scenarios.map((s) => s.name).join(", "))
 * ```
 *
 * @since 0.0.0
 */
export const scenarios: ReadonlyArray<Scenario> = [
  {
    name: "tree",
    description: "start and stop N services (fan-out 10), each with one task and one 1 s timer",
    subjects: ["effect-mode", "effect-mode-no-metrics", "baseline-effect", "floor-fibers"],
    defaultSizes: [1_000, 10_000, 100_000],
    defaultRuns: () => 3,
    columns: [
      { key: "startMs", header: "start ms" },
      { key: "stopMs", header: "stop ms" },
      { key: "heapPerServiceKb", header: "heap/svc KB" },
      { key: "peakRssMb", header: "peak RSS MB" }
    ],
    run: lazy(() => import("./tree.js"), (m) => m.runTree)
  },
  {
    name: "restart",
    description: "one-for-one supervisor, 1,000 children crashing repeatedly, N restarts in all",
    subjects: ["effect-mode", "baseline-effect"],
    defaultSizes: [100_000],
    defaultRuns: () => 1,
    columns: [
      { key: "p50Ms", header: "p50 ms" },
      { key: "p99Ms", header: "p99 ms" },
      { key: "restartsPerSec", header: "restarts/s" },
      { key: "heapFirstMb", header: "heap@1k MB" },
      { key: "heapLastMb", header: "heap@N MB" },
      { key: "peakRssMb", header: "peak RSS MB" }
    ],
    run: lazy(() => import("./restart.js"), (m) => m.runRestart)
  },
  {
    name: "timers",
    description: "N timers at 100 ms for 10 s: per-tick drift and accumulated lag",
    subjects: [
      "effect-mode",
      "effect-mode-fixed",
      "baseline-schedule-spaced",
      "baseline-schedule-fixed",
      "baseline-setinterval"
    ],
    defaultSizes: [1_000],
    defaultRuns: () => 1,
    columns: [
      { key: "p50Ms", header: "drift p50 ms" },
      { key: "p99Ms", header: "drift p99 ms" },
      { key: "lagMs", header: "lag@10s ms", ratio: false },
      { key: "ticks", header: "ticks", ratio: false },
      { key: "cpuMs", header: "cpu ms" },
      { key: "peakRssMb", header: "peak RSS MB" }
    ],
    run: lazy(() => import("./timers.js"), (m) => m.runTimers)
  },
  {
    name: "shutdown",
    description: "an N-service worker as a child process: SIGTERM to exit",
    subjects: ["effect-mode", "baseline-effect"],
    defaultSizes: [10_000],
    defaultRuns: () => 3,
    columns: [
      { key: "wallMs", header: "SIGTERM→exit ms" },
      { key: "readyMs", header: "spawn→ready ms" },
      { key: "peakRssMb", header: "worker peak RSS MB" }
    ],
    run: lazy(() => import("./shutdown.js"), (m) => m.runShutdown)
  },
  {
    name: "soak",
    description: "N restarts under a one-for-one supervisor (children with a task, a timer, a context, a runtime child): heap before and after",
    subjects: ["effect-mode"],
    defaultSizes: [100_000],
    defaultRuns: () => 1,
    columns: [
      { key: "heapBeforeMb", header: "heap before MB" },
      { key: "heapWarmMb", header: "heap@1k MB" },
      { key: "heapAfterMb", header: "heap after MB" },
      { key: "heapGrowthKb", header: "growth KB" },
      { key: "wallMs", header: "wall ms" },
      { key: "peakRssMb", header: "peak RSS MB" }
    ],
    run: lazy(() => import("./soak.js"), (m) => m.runSoak)
  },
  {
    name: "steps",
    description: "Effect steps and fibers per service start and stop (the tree scenario's services, N of them) " +
      "and per restart (2,000 restarts of 100 crashing children under a one-for-one supervisor)",
    subjects: ["effect-mode", "baseline-effect"],
    defaultSizes: [1_000],
    defaultRuns: () => 1,
    columns: [
      { key: "startSteps", header: "start steps/svc" },
      { key: "startFibers", header: "start fibers/svc" },
      { key: "stopSteps", header: "stop steps/svc" },
      { key: "restartSteps", header: "steps/restart" },
      { key: "restartFibers", header: "fibers/restart" }
    ],
    run: lazy(() => import("./steps.js"), (m) => m.runSteps)
  },
  {
    name: "virtual-time",
    description: "N services with a 1 s Service.timer over 10 virtual minutes: Testing.virtualTime vs Effect's TestClock " +
      "(TestClock subjects capped at 20 services), real ms per 1,000 wake-ups; -bare: Effect fibers on Schedule.spaced",
    subjects: ["effect-mode", "effect-mode-bare", "baseline-testclock", "baseline-testclock-bare"],
    defaultSizes: [200],
    defaultRuns: () => 1,
    columns: [
      { key: "msPer1k", header: "ms/1k wake-ups" },
      { key: "wakeupsPerSec", header: "wake-ups/s" },
      { key: "wakeups", header: "wake-ups", ratio: false },
      { key: "services", header: "services", ratio: false },
      { key: "peakRssMb", header: "peak RSS MB" }
    ],
    run: lazy(() => import("./virtualTime.js"), (m) => m.runVirtualTime)
  }
]
