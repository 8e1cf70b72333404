/**
 * Where the tree scenario's time goes, by phase: the wall time of building the tree, starting
 * it and stopping it, and within each the time V8's garbage collector took (young collections
 * and full ones, from `PerformanceObserver` "gc" entries), so that what is left is the time the
 * code itself ran. The subject is `effect-mode` (the tree scenario's services; the variant says
 * which tasks each has: `none`, `task`, `timer`, `both`) or `floor-fibers` (one `Effect.never`
 * fiber per service, forked and interrupted one by one, as the tree scenario's floor).
 * Usage: `node --expose-gc --import tsx src/gcSplit.ts [effect-mode|floor-fibers] [n] [variant]`.
 *
 * @since 0.0.0
 */
import { Service } from "@effect-mode/core"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { constants, PerformanceObserver } from "node:perf_hooks"
import { heapAfterGc, now } from "./measure.js"
import { parentOf, variantTasks } from "./scenarios/tree.js"

/**
 * One phase: its wall time, and how many collections of each kind ran in it and for how long.
 *
 * @example
 * ```ts
 * import type { Phase } from "@effect-mode/bench/gcSplit"
 *
 * const p: Phase = { name: "start", wallMs: 5600, youngGcs: 146, youngMs: 1900, fullGcs: 2, fullMs: 40 }
 * ```
 *
 * @since 0.0.0
 */
export interface Phase {
  readonly name: string
  readonly wallMs: number
  readonly youngGcs: number
  readonly youngMs: number
  readonly fullGcs: number
  readonly fullMs: number
}

interface GcEntry {
  readonly at: number
  readonly ms: number
  readonly young: boolean
}

/** The instants between the phases, as `[name of the phase that ends there, instant]`. */
type Marks = Array<readonly [string, number]>

const effectMode = (n: number, variant: string, marks: Marks): Effect.Effect<void, unknown> =>
  Effect.gen(function*() {
    const tasks = variantTasks(variant, "gcSplit")
    marks.push(["", now()])
    const services: Array<Service.Service> = new Array(n)
    for (let i = 0; i < n; i++) services[i] = yield* Service.make(`s${i}`, { mundaneLevel: "debug", tasks })
    for (let i = 1; i < n; i++) yield* services[parentOf(i)]!.addDependency(services[i]!)
    marks.push(["build", now()])
    yield* services[0]!.start
    marks.push(["start", now()])
    heapAfterGc()
    marks.push(["(full GC)", now()])
    yield* services[0]!.stop
    marks.push(["stop", now()])
  })

const floor = (n: number, marks: Marks): Effect.Effect<void> =>
  Effect.gen(function*() {
    marks.push(["", now()])
    const fibers: Array<Fiber.RuntimeFiber<never>> = new Array(n)
    for (let i = 0; i < n; i++) fibers[i] = yield* Effect.forkDaemon(Effect.never)
    yield* Effect.yieldNow()
    marks.push(["start", now()])
    heapAfterGc()
    marks.push(["(full GC)", now()])
    for (let i = n - 1; i >= 0; i--) yield* Fiber.interrupt(fibers[i]!)
    marks.push(["stop", now()])
  })

/**
 * The phases of one run: the collections are those that began within each phase.
 *
 * @example
 * ```ts
 * import { phasesOf } from "@effect-mode/bench/gcSplit"
 *
 * const phases = phasesOf([["", 0], ["start", 10]], [{ at: 2, ms: 3, young: true }])
 * ```
 *
 * @since 0.0.0
 */
export const phasesOf = (marks: ReadonlyArray<readonly [string, number]>, gcs: ReadonlyArray<GcEntry>): Array<Phase> => {
  const phases: Array<Phase> = []
  for (let i = 1; i < marks.length; i++) {
    const [name, end] = marks[i]!
    const begin = marks[i - 1]![1]
    const within = gcs.filter((g) => g.at >= begin && g.at < end)
    const young = within.filter((g) => g.young)
    const full = within.filter((g) => !g.young)
    phases.push({
      name,
      wallMs: end - begin,
      youngGcs: young.length,
      youngMs: young.reduce((sum, g) => sum + g.ms, 0),
      fullGcs: full.length,
      fullMs: full.reduce((sum, g) => sum + g.ms, 0)
    })
  }
  return phases
}

const main = async (): Promise<void> => {
  const [subject = "effect-mode", nArg, variant = "both"] = process.argv.slice(2)
  if (subject !== "effect-mode" && subject !== "floor-fibers") {
    throw new Error(`gcSplit: unknown subject ${JSON.stringify(subject)} (effect-mode, floor-fibers)`)
  }
  const n = Number(nArg ?? 100_000)
  const gcs: Array<GcEntry> = []
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { readonly detail: { readonly kind: number } }).detail.kind
      gcs.push({ at: e.startTime, ms: e.duration, young: kind === constants.NODE_PERFORMANCE_GC_MINOR })
    }
  })
  observer.observe({ entryTypes: ["gc"] })
  heapAfterGc()
  const marks: Marks = []
  const program = subject === "effect-mode" ? effectMode(n, variant, marks) : floor(n, marks)
  await Effect.runPromise(program.pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.Warning))))
  // The observer is told of the last collections asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 50))
  observer.disconnect()
  console.log(`${subject}${subject === "effect-mode" ? ` (${variant})` : ""}, ${n} services`)
  console.log("phase        wall ms  young GCs  young ms  full GCs  full ms  left ms")
  for (const p of phasesOf(marks, gcs)) {
    const left = p.wallMs - p.youngMs - p.fullMs
    console.log(
      `${p.name.padEnd(11)} ${p.wallMs.toFixed(0).padStart(8)} ${String(p.youngGcs).padStart(10)} ${
        p.youngMs.toFixed(0).padStart(9)
      } ${String(p.fullGcs).padStart(9)} ${p.fullMs.toFixed(0).padStart(8)} ${left.toFixed(0).padStart(8)}`
    )
  }
}

if (process.argv[1]?.endsWith("gcSplit.ts") === true) {
  main().then(() => process.exit(0), (error) => {
    console.error(error)
    process.exit(1)
  })
}
