/**
 * The tree scenario: N services (fan-out 10), each with one task sleeping until stop and one
 * 1 s timer; start the root, wait until every service runs, stop. The baseline does the same
 * work in bare Effect: a child `Scope` per node, the task and the timer forked into it,
 * children started one by one, scopes closed in reverse. The floor (`floor-fibers`) is the
 * idle tasks alone: an `Effect.never` fiber per service, forked, then interrupted in reverse.
 *
 * @since 0.0.0
 */
import { Service, Timer } from "@effect-mode/core"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { heapAfterGc, now, peakRssMb } from "../measure.js"
import { EFFECT_MODE, type Row } from "../Row.js"
import { round } from "../stats.js"

/** Children of node `i` in a complete tree of `n` nodes numbered breadth-first. */
export const FAN_OUT = 10

/**
 * The index of the parent of node `i` (breadth-first numbering, fan-out 10).
 *
 * @example
 * ```ts
 * import { parentOf } from "@effect-mode/bench/scenarios/tree"
 *
 * parentOf(11) // 1
 * ```
 *
 * @since 0.0.0
 */
export const parentOf = (i: number): number => Math.floor((i - 1) / FAN_OUT)

const idle = Service.task(() => Effect.never, { name: "idle" })
const tick = Service.timer("1 second", () => Effect.void, { name: "tick" })
const tasks = [idle, tick]

/**
 * The tasks of a service in the variants the measuring tools (`heapTop`, `gcSplit`) tell
 * apart: `none`, `task` (the idle task), `timer` (the 1 s timer) or `both` (the tree
 * scenario's services). `tool` names the caller in the error for an unknown variant.
 *
 * @example
 * ```ts
 * import { variantTasks } from "@effect-mode/bench/scenarios/tree"
 *
 * variantTasks("timer", "heapTop").length // 1
 * ```
 *
 * @since 0.0.0
 */
export const variantTasks = (variant: string, tool: string): Array<Service.Task<never, never>> => {
  switch (variant) {
    case "none":
      return []
    case "task":
      return [idle]
    case "timer":
      return [tick]
    case "both":
      return [idle, tick]
    default:
      throw new Error(`${tool}: unknown variant ${JSON.stringify(variant)} (none, task, timer, both)`)
  }
}

/**
 * Makes the effect-mode tree: `n` services, fan-out 10, each with one idle task and one 1 s
 * timer, "Starting..."/"Stopping..." lines at debug level. Returns every service, root first.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { makeServiceTree } from "@effect-mode/bench/scenarios/tree"
 *
 * const program = Effect.flatMap(makeServiceTree(100), (services) => services[0]!.start)
 * ```
 *
 * @since 0.0.0
 */
export const makeServiceTree = (
  n: number,
  extra: Partial<Service.Options<never, never>> = {}
): Effect.Effect<Array<Service.Service>> =>
  Effect.gen(function*() {
    const services: Array<Service.Service> = new Array(n)
    for (let i = 0; i < n; i++) {
      services[i] = yield* Service.make(`s${i}`, { mundaneLevel: "debug", tasks, ...(i === 0 ? extra : {}) })
    }
    for (let i = 1; i < n; i++) yield* services[parentOf(i)]!.addDependency(services[i]!)
    return services
  })

const startNode = (i: number, n: number, parent: Scope.Scope): Effect.Effect<void> =>
  Effect.gen(function*() {
    const scope = yield* Scope.fork(parent, ExecutionStrategy.sequential)
    yield* Effect.forkIn(Effect.never, scope)
    yield* Effect.forkIn(Effect.schedule(Effect.void, Schedule.spaced("1 second")), scope)
    const first = i * FAN_OUT + 1
    const end = Math.min(first + FAN_OUT, n)
    for (let c = first; c < end; c++) yield* startNode(c, n, scope)
  })

/**
 * Starts the bare-Effect tree of `n` nodes in `scope`: a child scope per node, holding an idle
 * fiber and a `Schedule.spaced("1 second")` fiber; children started one by one. Closing
 * `scope` closes the children's scopes in reverse order, then interrupts the node's fibers.
 *
 * @example
 * ```ts
 * import { Effect, Exit, Scope } from "effect"
 * import { startBaselineTree } from "@effect-mode/bench/scenarios/tree"
 *
 * const program = Effect.gen(function* () {
 *   const scope = yield* Scope.make()
 *   yield* startBaselineTree(100, scope)
 *   yield* Scope.close(scope, Exit.void)
 * })
 * ```
 *
 * @since 0.0.0
 */
export const startBaselineTree = (n: number, scope: Scope.Scope): Effect.Effect<void> => startNode(0, n, scope)

/** The floor's subject: what the services' idle tasks alone cost in Effect (see `runFloor`). */
const FLOOR = "floor-fibers"

/**
 * The floor: one `Effect.never` fiber per service, forked one by one, then interrupted one by
 * one in reverse, each awaited: what the tree's idle tasks cost by themselves in bare Effect,
 * with no scope, no timer and no tree. No subject that runs an idle fiber per service does
 * less; the baseline and effect-mode do this and the rest.
 */
const runFloor = (n: number, heap0: number): Effect.Effect<Timings> =>
  Effect.gen(function*() {
    const t0 = now()
    const fibers: Array<Fiber.RuntimeFiber<never>> = new Array(n)
    for (let i = 0; i < n; i++) fibers[i] = yield* Effect.forkDaemon(Effect.never)
    // Every fiber runs until it suspends, as a task does before its service counts as running.
    yield* Effect.yieldNow()
    const t1 = now()
    const heapBytes = heapAfterGc() - heap0
    const t2 = now()
    for (let i = n - 1; i >= 0; i--) yield* Fiber.interrupt(fibers[i]!)
    const t3 = now()
    return { startMs: t1 - t0, stopMs: t3 - t2, heapBytes, running: n }
  })

interface Timings {
  readonly startMs: number
  readonly stopMs: number
  readonly heapBytes: number
  readonly running: number
  readonly buildMs?: number
}

const runEffectMode = (n: number, heap0: number, metrics: boolean): Effect.Effect<Timings, unknown> =>
  Effect.gen(function*() {
    const t0 = now()
    const services = yield* makeServiceTree(n)
    const t1 = now()
    yield* metrics ? services[0]!.start : Effect.locally(services[0]!.start, Timer.metricsEnabled, false)
    const t2 = now()
    const heapBytes = heapAfterGc() - heap0
    let running = 0
    for (const s of services) if ((yield* s.state) === "running") running++
    const t3 = now()
    yield* services[0]!.stop
    const t4 = now()
    return { startMs: t2 - t0, stopMs: t4 - t3, heapBytes, running, buildMs: t1 - t0 }
  })

const runBaseline = (n: number, heap0: number): Effect.Effect<Timings> =>
  Effect.gen(function*() {
    const t0 = now()
    const scope = yield* Scope.make()
    yield* startBaselineTree(n, scope)
    const t1 = now()
    const heapBytes = heapAfterGc() - heap0
    const t2 = now()
    yield* Scope.close(scope, Exit.void)
    const t3 = now()
    return { startMs: t1 - t0, stopMs: t3 - t2, heapBytes, running: n }
  })

/**
 * Runs the tree scenario once for `subject` (`effect-mode`, `effect-mode-no-metrics`: with
 * `Timer.metricsEnabled` off, `baseline-effect`, `floor-fibers`) in this process and returns its row: `startMs`
 * (making the tree and starting it until every service runs), `stopMs`, `wallMs` (the sum),
 * `heapPerServiceKb` (live heap after a full GC while everything runs, over `n`), `peakRssMb`.
 * Logging below warning is off for both subjects.
 *
 * @example
 * ```ts
 * import { runTree } from "@effect-mode/bench/scenarios/tree"
 *
 * const row = await runTree("effect-mode", 1000)
 * ```
 *
 * @since 0.0.0
 */
export const runTree = async (subject: string, n: number): Promise<Row> => {
  const heap0 = heapAfterGc()
  const program = subject === EFFECT_MODE
    ? runEffectMode(n, heap0, true)
    : subject === `${EFFECT_MODE}-no-metrics`
    ? runEffectMode(n, heap0, false)
    : subject === "baseline-effect"
    ? runBaseline(n, heap0)
    : subject === FLOOR
    ? runFloor(n, heap0)
    : Effect.dieMessage(`tree: unknown subject ${subject}`)
  // Logs below warning are filtered (the "Starting..." lines are at debug anyway; timers
  // that wake late during a long start log at info).
  const t = await Effect.runPromise(
    (program as Effect.Effect<Timings>).pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.Warning)))
  )
  if (t.running !== n) throw new Error(`tree: only ${t.running} of ${n} services were running`)
  return {
    scenario: "tree",
    n,
    subject,
    wallMs: round(t.startMs + t.stopMs),
    peakRssMb: round(peakRssMb(), 1),
    heapPerServiceKb: round(t.heapBytes / n / 1024, 3),
    startMs: round(t.startMs),
    stopMs: round(t.stopMs),
    ...(t.buildMs === undefined ? {} : { buildMs: round(t.buildMs) })
  }
}
