/**
 * Property tests (SPEC section 8): random trees (depth up to 4, up to 50 services) and
 * random sequences of start / stop / restart / crash / addRuntimeDependency /
 * removeDependency, checked after every step against `Model`, a small reference model of
 * the lifecycle state machine written below. Invariants: the states, restart counts and
 * parents match the model; a service holds its resources exactly while it runs; every
 * finalizer ran exactly once and in reverse order of acquisition; no fiber is left after
 * the final stop.
 *
 * The cases are sampled with `FastCheck.sample` and run inside the (leak-checked) test, on
 * the TestClock. A failing case is cut down (ops after the failure dropped, then each
 * earlier op dropped while it still fails) and printed with its seed; set FC_SEED to replay.
 */
import { describe, expect } from "@effect/vitest"
import { Cause, Effect, Exit, FastCheck as fc, Fiber, Option } from "effect"
import { Service, Supervisor, Testing } from "@effect-mode/core"
import * as internal from "../src/internal/service.js"
import { Ledger, settle } from "./fixtures/harness.js"
import { it } from "./support/it.js"

const RUNS = 200
const seed = process.env.FC_SEED === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(process.env.FC_SEED)

// ---------------------------------------------------------------------------
// the reference model
// ---------------------------------------------------------------------------

type Phase = "init" | "running" | "shutdown"

interface Node {
  parent: number | undefined
  children: Array<number>
  phase: Phase
  crashed: boolean
  restarts: number
  /** Added with addRuntimeDependency while this parent ran: detached when that run stops. */
  runtimeOf: number | undefined
}

/**
 * SPEC section 5, for operations that do not overlap and hooks that do not fail:
 * - start: the service and, in order, its children that are not running; clears a crash.
 * - stop: only a running service; its children in reverse first; then its runtime children
 *   are detached. A crash is kept.
 * - restart: stop, clear the crash, count, start.
 * - crash: marks the root of the service and everything under it crashed (unless the
 *   service was crashed already), then stops the highest running services there.
 * - addRuntimeDependency: moves the child under the parent (a defect if the child is the
 *   parent or one of its ancestors); if the parent runs, the child belongs to that run and
 *   is started.
 * - removeDependency: stops the child and detaches it.
 */
class Model {
  readonly nodes: Array<Node>

  constructor(parents: ReadonlyArray<number | undefined>) {
    this.nodes = parents.map((parent) => ({
      parent,
      children: [],
      phase: "init",
      crashed: false,
      restarts: 0,
      runtimeOf: undefined
    }))
    parents.forEach((p, i) => p !== undefined && this.nodes[p]!.children.push(i))
  }

  state(i: number): Service.State {
    const n = this.nodes[i]!
    return n.crashed ? "crashed" : n.phase
  }

  root(i: number): number {
    while (this.nodes[i]!.parent !== undefined) i = this.nodes[i]!.parent!
    return i
  }

  subtree(i: number): Array<number> {
    return [i, ...this.nodes[i]!.children.flatMap((c) => this.subtree(c))]
  }

  start(i: number): "ok" | "AlreadyStarted" {
    if (this.nodes[i]!.phase === "running") return "AlreadyStarted"
    this.startTree(i)
    return "ok"
  }

  private startTree(i: number): void {
    const n = this.nodes[i]!
    n.crashed = false
    n.phase = "running"
    for (const c of [...n.children]) if (this.nodes[c]!.phase !== "running") this.startTree(c)
  }

  stop(i: number): void {
    const n = this.nodes[i]!
    if (n.phase !== "running") return
    for (const c of [...n.children].reverse()) this.stop(c)
    n.phase = "shutdown"
    for (const c of [...n.children]) if (this.nodes[c]!.runtimeOf === i) this.detach(c)
  }

  restart(i: number): "ok" {
    this.stop(i)
    const n = this.nodes[i]!
    n.crashed = false
    n.restarts++
    this.startTree(i)
    return "ok"
  }

  crash(i: number): void {
    if (this.nodes[i]!.crashed) return
    const top = this.root(i)
    for (const s of this.subtree(top)) this.nodes[s]!.crashed = true
    this.stopHighestRunning(top)
  }

  private stopHighestRunning(i: number): void {
    if (this.nodes[i]!.phase === "running") this.stop(i)
    else for (const c of [...this.nodes[i]!.children]) this.stopHighestRunning(c)
  }

  addRuntimeDependency(p: number, c: number): "ok" | "defect" {
    for (let a: number | undefined = p; a !== undefined; a = this.nodes[a]!.parent) {
      if (a === c) return "defect"
    }
    if (this.nodes[c]!.parent !== p) {
      this.detach(c)
      this.nodes[c]!.parent = p
      this.nodes[p]!.children.push(c)
    }
    if (this.nodes[p]!.phase === "running") {
      this.nodes[c]!.runtimeOf = p
      if (this.nodes[c]!.phase !== "running") this.startTree(c)
    }
    return "ok"
  }

  removeDependency(p: number, c: number): void {
    if (this.nodes[c]!.parent !== p) return
    this.stop(c)
    this.detach(c)
  }

  private detach(c: number): void {
    const n = this.nodes[c]!
    if (n.parent !== undefined) {
      const siblings = this.nodes[n.parent]!.children
      siblings.splice(siblings.indexOf(c), 1)
    }
    n.parent = undefined
    n.runtimeOf = undefined
  }
}

// ---------------------------------------------------------------------------
// random cases
// ---------------------------------------------------------------------------

type Op =
  | { readonly op: "start" | "stop" | "restart" | "crash"; readonly a: number }
  | { readonly op: "addRuntimeDependency" | "removeDependency"; readonly a: number; readonly b: number }

interface Case {
  /** parents[i] is the parent of service i (undefined: a root); depth at most 4. */
  readonly parents: ReadonlyArray<number | undefined>
  readonly ops: ReadonlyArray<Op>
}

const MAX_DEPTH = 4

/** A random forest: node 0 is a root; each later node hangs under an earlier one of depth < 4, or (1 in 16) is a root. */
const treeArb = fc.array(fc.nat(), { maxLength: 49, size: "max" }).map((picks) => {
  const parents: Array<number | undefined> = [undefined]
  const depth = [1]
  for (const pick of picks) {
    const eligible = depth.flatMap((d, i) => d < MAX_DEPTH ? [i] : [])
    const parent = pick % 16 === 0 ? undefined : eligible[pick % eligible.length]
    parents.push(parent)
    depth.push(parent === undefined ? 1 : depth[parent]! + 1)
  }
  return parents
})

/** A target: one in four ops aims at service 0 (the root of the first tree: big subtrees), the rest anywhere. */
const targetArb = fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.nat(), weight: 3 })

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom("start" as const, "stop" as const, "restart" as const, "crash" as const), a: targetArb }),
  fc.record({ op: fc.constantFrom("addRuntimeDependency" as const, "removeDependency" as const), a: targetArb, b: fc.nat() })
)

const caseArb: fc.Arbitrary<Case> = fc.record({ parents: treeArb, ops: fc.array(opArb, { maxLength: 16, size: "max" }) })

// ---------------------------------------------------------------------------
// running a case against the real services
// ---------------------------------------------------------------------------

const describeOp = (op: Op | OverlapOp, n: number): string =>
  "b" in op ? `${op.op}(${op.a % n}, ${op.b % n})` : `${op.op}(${op.a % n})`

const exitTag = (exit: Exit.Exit<unknown, unknown>): string =>
  Exit.isSuccess(exit)
    ? "ok"
    : Option.match(Cause.failureOption(exit.cause), {
      onNone: () => Cause.isDie(exit.cause) ? "defect" : "interrupted",
      onSome: (e) => (e as { _tag?: string })._tag ?? String(e)
    })

/**
 * Runs `c` and returns the first discrepancy with the model (or undefined), with the
 * index of the op after which it was seen (ops.length: at the final stop).
 */
type Found = { readonly at: number; readonly problem: string } | undefined

const runCase = (c: Case): Effect.Effect<Found> => {
  let found: Found = undefined
  return Effect.gen(function*() {
    const n = c.parents.length
    const model = new Model(c.parents)
    const ledger = new Ledger()
    const services: Array<Service.Service> = []
    for (let i = 0; i < n; i++) {
      services.push(yield* Service.make(`S${i}`, {
        onStart: (self) =>
          Effect.zipRight(self.addContext(ledger.resource(`${i}.ctx`)), ledger.finalizer(self, `${i}.fin`)),
        tasks: [Service.task(() => ledger.task(`${i}.task`))]
      }))
    }
    for (let i = 0; i < n; i++) {
      const p = c.parents[i]
      if (p !== undefined) yield* services[p]!.addDependency(services[i]!)
    }
    const impls = services.map(internal.asImpl)

    /** Waits for the stops that crashes began in the background. */
    const quiesce = Effect.forEach(impls, (s) => s.awaitCrashStop, { discard: true })

    const compare = Effect.gen(function*() {
      for (let i = 0; i < n; i++) {
        const s = services[i]!
        const state = yield* s.state
        if (state !== model.state(i)) return `S${i} is ${state}, the model says ${model.state(i)}`
        const restarts = yield* s.restartCount
        if (restarts !== model.nodes[i]!.restarts) return `S${i} restartCount ${restarts}, model ${model.nodes[i]!.restarts}`
        const parent = Option.map(yield* s.beacon.parent, (p) => services.indexOf(p.service))
        if (Option.getOrUndefined(parent) !== model.nodes[i]!.parent) {
          return `S${i} has parent ${Option.getOrUndefined(parent)}, the model says ${model.nodes[i]!.parent}`
        }
        const held = ledger.held.filter((h) => h === `${i}.ctx` || h === `${i}.fin`).length
        const running = model.nodes[i]!.phase === "running"
        if (held !== (running ? 2 : 0)) return `S${i} holds ${held} resources while ${running ? "running" : "stopped"}`
      }
      return undefined
    })

    /** Stops every service that runs, from the top; then checks what must hold after it. */
    const finalStop = Effect.gen(function*() {
      for (const i of [...Array(n).keys()].sort((x, y) => depthOf(model, x) - depthOf(model, y))) {
        model.stop(i)
        yield* services[i]!.stop
      }
      yield* quiesce
    })

    const steps = Effect.gen(function*() {
      for (let k = 0; k < c.ops.length; k++) {
        const op = c.ops[k]!
        const a = op.a % n
        let expected: string
        let exit: Exit.Exit<unknown, unknown>
        switch (op.op) {
          case "start":
            expected = model.start(a)
            exit = yield* Effect.exit(services[a]!.start)
            break
          case "stop":
            model.stop(a)
            expected = "ok"
            exit = yield* Effect.exit(services[a]!.stop)
            break
          case "restart":
            expected = model.restart(a)
            exit = yield* Effect.exit(services[a]!.restart)
            break
          case "crash":
            model.crash(a)
            expected = "ok"
            exit = yield* Effect.exit(services[a]!.crash("random crash"))
            break
          case "addRuntimeDependency": {
            const b = op.b % n
            expected = model.addRuntimeDependency(a, b)
            exit = yield* Effect.exit(services[a]!.addRuntimeDependency(services[b]!))
            break
          }
          case "removeDependency": {
            // most often one of a's children, so that the op does something
            const kids = model.nodes[a]!.children
            const b = kids.length > 0 && op.b % 4 !== 0 ? kids[op.b % kids.length]! : op.b % n
            model.removeDependency(a, b)
            expected = "ok"
            exit = yield* Effect.exit(services[a]!.removeDependency(services[b]!))
            break
          }
        }
        yield* quiesce
        if (exitTag(exit) !== expected) return { at: k, problem: `${describeOp(op, n)} ended ${exitTag(exit)}, expected ${expected}` }
        const problem = yield* compare
        if (problem !== undefined) return { at: k, problem: `after ${describeOp(op, n)}: ${problem}` }
      }
      return undefined
    })

    const stepProblem = yield* Effect.ensuring(steps, finalStop)
    if (stepProblem !== undefined) return stepProblem
    const problem = yield* compare
    if (problem !== undefined) return { at: c.ops.length, problem: `after the final stop: ${problem}` }
    const ledgerProblems = ledger.problems((name) => name.endsWith(".task") ? undefined : name.split(".")[0])
    if (ledgerProblems.length > 0) return { at: c.ops.length, problem: ledgerProblems.join("; ") }
    for (let i = 0; i < n; i++) {
      const live = (yield* services[i]!.tracebacks).size
      if (live > 0) return { at: c.ops.length, problem: `S${i} still has ${live} fiber(s) after the final stop` }
    }
    return undefined
  }).pipe(
    Effect.tap((result) => {
      found = result
    }),
    Testing.leakFree,
    // a discrepancy seen first is the better report; a leak alone is reported as such
    Effect.catchTag("LeakedFibers", (e) => Effect.succeed(found ?? { at: c.ops.length, problem: e.message }))
  )
}

const depthOf = (model: Model, i: number): number => {
  let d = 1
  for (let p = model.nodes[i]!.parent; p !== undefined; p = model.nodes[p]!.parent) d++
  return d
}

/** Cuts a failing case down: the ops after the failure, then each op that is not needed. */
const minimize = (c: Case, at: number) =>
  Effect.gen(function*() {
    let ops = c.ops.slice(0, at + 1)
    for (let k = ops.length - 1; k >= 0; k--) {
      const fewer = [...ops.slice(0, k), ...ops.slice(k + 1)]
      if ((yield* runCase({ parents: c.parents, ops: fewer })) !== undefined) ops = fewer
    }
    const result = yield* runCase({ parents: c.parents, ops })
    return { parents: c.parents, ops, result }
  })

const report = (c: Case, result: { readonly problem: string }): string => {
  const n = c.parents.length
  return [
    `seed ${seed} (FC_SEED=${seed} replays it)`,
    `tree: ${c.parents.map((p, i) => `${i}<-${p ?? "root"}`).join(" ")}`,
    `ops: ${c.ops.map((o) => describeOp(o, n)).join("; ")}`,
    `problem: ${result.problem}`
  ].join("\n")
}

/** Runs every sampled case; fails with the smallest failing case found. */
const checkAll = (cases: ReadonlyArray<Case>) =>
  Effect.gen(function*() {
    for (const c of cases) {
      const result = yield* runCase(c)
      if (result === undefined) continue
      const small = yield* minimize(c, result.at)
      return yield* Effect.dieMessage(report(small, small.result ?? result))
    }
  })

describe("random trees and random operations, against the model", () => {
  it.effect(`${RUNS} random cases: states, restart counts, parents, resources and fibers match the model`, () =>
    Effect.gen(function*() {
      const cases = fc.sample(caseArb, { numRuns: RUNS, seed })
      expect(cases).toHaveLength(RUNS)
      // the sample really covers big and deep trees and every op
      expect(Math.max(...cases.map((c) => c.parents.length))).toBeGreaterThan(30)
      expect(new Set(cases.flatMap((c) => c.ops.map((o) => o.op))).size).toBe(6)
      yield* checkAll(cases)
    }))

  it.effect(`${RUNS} random trees started, restarted and stopped: every finalizer once, in reverse order of acquisition`, () =>
    Effect.gen(function*() {
      const arb = fc.record({ parents: treeArb, restarts: fc.nat({ max: 2 }) })
      for (const { parents, restarts } of fc.sample(arb, { numRuns: RUNS, seed: seed + 1 })) {
        const ledger = new Ledger()
        const services: Array<Service.Service> = []
        for (let i = 0; i < parents.length; i++) {
          services.push(yield* Service.make(`S${i}`, {
            onStart: (self) =>
              Effect.gen(function*() {
                yield* self.addContext(ledger.resource(`${i}.ctx`))
                yield* ledger.finalizer(self, `${i}.fin1`)
                yield* ledger.finalizer(self, `${i}.fin2`)
              }),
            tasks: [Service.task(() => ledger.task(`${i}.task`))]
          }))
          const p = parents[i]
          if (p !== undefined) yield* services[p]!.addDependency(services[i]!)
        }
        const roots = services.filter((_, i) => parents[i] === undefined)
        for (const root of roots) yield* root.start
        for (let r = 0; r < restarts; r++) for (const root of roots) yield* root.restart
        for (const root of [...roots].reverse()) yield* root.stop
        // one stack per tree: each run released exactly in reverse
        const rootOf = (i: number): number => parents[i] === undefined ? i : rootOf(parents[i]!)
        const problems = ledger.problems((name) => name.endsWith(".task") ? undefined : String(rootOf(Number(name.split(".")[0]))))
        if (problems.length > 0) {
          return yield* Effect.dieMessage(`seed ${seed + 1}, tree ${JSON.stringify(parents)}, restarts ${restarts}: ${problems.join("; ")}`)
        }
        expect(ledger.entries.filter((e) => e.name.endsWith(".fin1"))).toHaveLength(parents.length * (restarts + 1))
      }
    }))

  // cases the properties found, kept as fixed examples
  const regressions: ReadonlyArray<readonly [string, Case]> = [
    [
      "a crash under a root that is not running stops the services that run below it",
      { parents: [undefined, 0, 1], ops: [{ op: "start", a: 1 }, { op: "crash", a: 2 }] }
    ],
    [
      "a restarted child under a stopped root, then a crash anywhere in the tree",
      { parents: [undefined, 0, 0, 1], ops: [{ op: "restart", a: 1 }, { op: "crash", a: 2 }] }
    ]
  ]
  for (const [name, c] of regressions) {
    it.effect(`regression: ${name}`, () =>
      Effect.map(runCase(c), (result) => expect(result && report(c, result)).toBeUndefined()))
  }
})

// ---------------------------------------------------------------------------
// overlapping operations: no model, only the invariants
// ---------------------------------------------------------------------------

/** The ops of the overlap cases: those of the model, and `addDependency` (a move that starts nothing). */
type OverlapOp = Op | { readonly op: "addDependency"; readonly a: number; readonly b: number }

const overlapOpArb: fc.Arbitrary<OverlapOp> = fc.oneof(
  { arbitrary: opArb, weight: 6 },
  { arbitrary: fc.record({ op: fc.constant("addDependency" as const), a: fc.nat(), b: fc.nat() }), weight: 1 }
)

/**
 * Time here is counted in scheduler turns (`Effect.yieldNow`), not clock time: it gives as
 * many interleavings as sleeps would, and costs nothing.
 */
interface OverlapCase {
  readonly parents: ReadonlyArray<number | undefined>
  /** Each op is issued `at` turns after the one before, without waiting for it. */
  readonly ops: ReadonlyArray<{ readonly op: OverlapOp; readonly at: number }>
  /** How many turns each service's onStart and onStop take, by index modulo its length. */
  readonly delays: ReadonlyArray<number>
  /** Which services are supervisors of their children (and of which strategy), by index modulo its length. */
  readonly kinds: ReadonlyArray<Supervisor.Strategy | "service">
}

const overlapArb: fc.Arbitrary<OverlapCase> = fc.record({
  parents: treeArb.map((parents) => parents.slice(0, 16)),
  ops: fc.array(fc.record({ op: overlapOpArb, at: fc.nat({ max: 8 }) }), { maxLength: 12, size: "max" }),
  delays: fc.array(fc.constantFrom(0, 0, 1, 3, 10), { minLength: 1, maxLength: 8 }),
  kinds: fc.oneof(
    fc.constant(["service" as const]),
    fc.array(
      fc.constantFrom(
        "service" as const,
        "service" as const,
        "oneForOne" as const,
        "oneForAll" as const,
        "restForOne" as const,
        "forfeitOneForOne" as const,
        "forfeitOneForAll" as const,
        "crashing" as const
      ),
      { minLength: 1, maxLength: 8 }
    )
  )
})

/**
 * Runs the ops of `c` on their own fibers, overlapping as their start times and the slow
 * hooks make them; then waits for them all (a hang is a failure), stops everything and
 * checks: nothing runs, every resource was released once and in reverse (per service), no
 * fiber is left. Returns what is wrong, if anything.
 */
const runOverlap = (c: OverlapCase): Effect.Effect<string | undefined> => {
  let found: string | undefined = undefined
  return Effect.gen(function*() {
    const n = c.parents.length
    const ledger = new Ledger()
    const services: Array<Service.Service> = []
    // made from the leaves up, so that a supervisor is given its children
    for (let i = n - 1; i >= 0; i--) {
      const children = services.filter((_, j) => c.parents[j] === i)
      const kind = c.kinds[i % c.kinds.length]!
      if (kind !== "service") {
        services[i] = yield* Supervisor.make(kind, `S${i}`, children, { maxRestarts: 3, within: "1 minute" })
        continue
      }
      const pause = Effect.repeatN(Effect.yieldNow(), c.delays[i % c.delays.length]!)
      services[i] = yield* Service.make(`S${i}`, {
        onStart: (self) =>
          Effect.zipRight(
            Effect.zipRight(self.addContext(ledger.resource(`${i}.ctx`)), ledger.finalizer(self, `${i}.fin`)),
            pause
          ),
        onStop: () => pause,
        tasks: [Service.task(() => ledger.task(`${i}.task`))]
      })
      for (const child of children) yield* services[i]!.addDependency(child)
    }
    const run = (op: OverlapOp): Effect.Effect<unknown, unknown> => {
      const a = services[op.a % n]!
      switch (op.op) {
        case "start":
          return a.start
        case "stop":
          return a.stop
        case "restart":
          return a.restart
        case "crash":
          return a.crash("random crash")
        case "addRuntimeDependency":
          return a.addRuntimeDependency(services[op.b % n]!)
        case "removeDependency":
          return a.removeDependency(services[op.b % n]!)
        case "addDependency":
          return a.addDependency(services[op.b % n]!)
      }
    }
    // every op on its own fiber, issued `at` turns after the one before
    const fibers = []
    for (const { at, op } of c.ops) {
      yield* Effect.repeatN(Effect.yieldNow(), at)
      fibers.push(yield* Effect.fork(Effect.exit(run(op))))
    }
    const allOps = yield* Effect.fork(Effect.forEach(fibers, Fiber.join, { discard: true }))
    const opsExit = yield* settle(allOps)
    if (Exit.isFailure(opsExit)) return `an op hung or died: ${Cause.pretty(opsExit.cause)}`
    const impls = services.map(internal.asImpl)
    // then every service is stopped, the ones highest in the tree first, once the stops
    // that crashes began are over
    const depth = (i: number): number => impls[i]!.depthSync()
    const finalStop = Effect.zipRight(
      Effect.forEach(impls, (s) => s.awaitCrashStop, { discard: true }),
      Effect.forEach([...Array(n).keys()].sort((x, y) => depth(x) - depth(y)), (i) => services[i]!.stop, { discard: true })
    )
    const stopExit = yield* settle(yield* Effect.fork(finalStop))
    if (Exit.isFailure(stopExit)) return `the final stop hung or died: ${Cause.pretty(stopExit.cause)}`
    for (let i = 0; i < n; i++) {
      if (yield* services[i]!.started) return `S${i} still runs after its stop`
      if ((yield* services[i]!.tracebacks).size > 0) return `S${i} still has fibers after its stop`
    }
    const problems = ledger.problems((name) => name.endsWith(".task") ? undefined : name.split(".")[0])
    return problems.length > 0 ? problems.join("; ") : undefined
  }).pipe(
    Effect.tap((result) => {
      found = result
    }),
    Testing.leakFree,
    Effect.catchTag("LeakedFibers", (e) => Effect.succeed(found ?? e.message))
  )
}

describe("random trees and overlapping random operations", () => {
  it.effect("regression: services moved from under a start in flight, turning the tree upside down, then crashes", () =>
    Effect.gen(function*() {
      const op = (at: number, o: Op) => ({ at, op: o })
      const problem = yield* runOverlap({
        parents: [undefined, 0, 1, 2, 0],
        delays: [0, 0, 0, 10, 10, 1],
        kinds: ["service"],
        ops: [
          op(1, { op: "start", a: 0 }),
          op(6, { op: "removeDependency", a: 0, b: 3 }),
          op(2, { op: "addRuntimeDependency", a: 4, b: 3 }), // S3 away from under S2, whose start waits for it
          op(0, { op: "addRuntimeDependency", a: 3, b: 2 }), // S2 under S3
          op(3, { op: "restart", a: 0 }),
          op(2, { op: "crash", a: 1 }),
          op(3, { op: "restart", a: 2 }),
          op(1, { op: "restart", a: 3 }),
          op(0, { op: "crash", a: 0 })
        ]
      })
      expect(problem).toBeUndefined()
    }))

  it.effect("regression (issue 10, defect 1): a parent stopping on a slow child, moved under a child it gave up", () =>
    Effect.gen(function*() {
      const op = (at: number, o: OverlapOp) => ({ at, op: o })
      const problem = yield* runOverlap({
        parents: [undefined, 0, 0],
        delays: [0, 0, 60],
        kinds: ["service"],
        ops: [
          op(0, { op: "start", a: 0 }),
          op(150, { op: "stop", a: 0 }), // S0 stops, S2's onStop takes 60 turns
          op(8, { op: "removeDependency", a: 0, b: 1 }), // S1 out of S0 while S0 stops
          op(4, { op: "start", a: 1 }),
          op(2, { op: "addDependency", a: 1, b: 0 }), // S0 under S1, its former child
          op(1, { op: "stop", a: 1 })
        ]
      })
      expect(problem).toBeUndefined()
    }))

  it.effect(`${RUNS} random cases: nothing hangs, nothing runs after the final stop, every resource released once, in reverse`, () =>
    Effect.gen(function*() {
      for (const c of fc.sample(overlapArb, { numRuns: RUNS, seed: seed + 2 })) {
        const problem = yield* runOverlap(c)
        if (problem === undefined) continue
        const n = c.parents.length
        return yield* Effect.dieMessage([
          `seed ${seed + 2} (FC_SEED=${seed} replays it)`,
          `tree: ${c.parents.map((p, i) => `${i}<-${p ?? "root"}`).join(" ")}`,
          `delays: ${c.delays.join(",")}`,
          `kinds: ${c.kinds.join(",")}`,
          `ops: ${c.ops.map(({ at, op }) => `@${at} ${describeOp(op, n)}`).join("; ")}`,
          `problem: ${problem}`
        ].join("\n"))
      }
    }))
})

