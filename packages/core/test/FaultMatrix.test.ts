/**
 * The fault matrix (SPEC section 8): a failure, a defect and an interruption injected in
 * each place user code runs, each case checked against the rules of SPEC section 5:
 * what is rolled back, what still runs, the final states, the crash reason (an
 * interruption is not a crash), and that every resource acquired was released exactly once,
 * in reverse order.
 *
 * Every case runs the same tree, P with children A and B. Each service acquires a context
 * and a finalizer in `onStart` and runs an idle task, all recorded in a `Ledger`; every hook
 * call is appended to `calls`. The fault fires once (a retry of the same start succeeds).
 * A supervisor's `replacement` factory has its own cases at the end.
 */
import { describe, expect } from "@effect/vitest"
import { Cause, Effect, Option, TestClock } from "effect"
import { Service, ServiceError, Supervisor } from "@effect-mode/core"
import { bounded, carries, crashOf, type Fault, faults, inject, Ledger, outcome, settle } from "./fixtures/harness.js"
import { it } from "./support/it.js"
import { captureLogs, type Captured } from "./support/logs.js"

type Hook = "onFirstStart" | "onStart" | "onStarted" | "onStop" | "onShutdown" | "onRestart"
const hooks: ReadonlyArray<Hook> = ["onFirstStart", "onStart", "onStarted", "onStop", "onShutdown", "onRestart"]

/** Where the fault is injected, and which rules of SPEC section 5 apply there. */
interface Site {
  readonly name: string
  /**
   * - start: the start fails and is rolled back (rule 1)
   * - stop: the stop completes, the rest of it still runs (rule 2)
   * - restart: the restart's start side fails after its stop (rules 1 and 2)
   * - crash: user code running in the background fails: the tree crashes and is stopped (rules 4, 5)
   * - logged: the same with `onError: "log"`: logged, the service goes on (rule 5)
   */
  readonly kind: "start" | "stop" | "restart" | "crash" | "logged"
  /** The service whose code fails. */
  readonly owner: "P" | "B"
  /** Hook of `owner` that injects the fault, if the site is a hook. */
  readonly hook?: Hook
  /** Extra task of P that injects the fault, if the site is a task. */
  readonly task?: "task" | "timer" | "crontab"
  readonly onError?: "log"
  /** A finalizer of P that injects the fault. */
  readonly finalizer?: true
}

const sites: ReadonlyArray<Site> = [
  { name: "onFirstStart", kind: "start", owner: "P", hook: "onFirstStart" },
  { name: "onStart", kind: "start", owner: "P", hook: "onStart" },
  { name: "onStarted", kind: "start", owner: "P", hook: "onStarted" },
  { name: "onStop", kind: "stop", owner: "P", hook: "onStop" },
  { name: "onShutdown", kind: "stop", owner: "P", hook: "onShutdown" },
  { name: "onRestart", kind: "restart", owner: "P", hook: "onRestart" },
  { name: "a task", kind: "crash", owner: "P", task: "task" },
  { name: "a timer callback", kind: "crash", owner: "P", task: "timer" },
  { name: "a crontab callback", kind: "crash", owner: "P", task: "crontab" },
  { name: "a task with onError: log", kind: "logged", owner: "P", task: "task", onError: "log" },
  { name: "a timer callback with onError: log", kind: "logged", owner: "P", task: "timer", onError: "log" },
  { name: "a crontab callback with onError: log", kind: "logged", owner: "P", task: "crontab", onError: "log" },
  { name: "a child's start (B.onStart)", kind: "start", owner: "B", hook: "onStart" },
  { name: "a child's stop (B.onStop)", kind: "stop", owner: "B", hook: "onStop" },
  { name: "a finalizer (addFinalizer)", kind: "stop", owner: "P", finalizer: true }
]

/** Contexts and finalizers are released in reverse order; tasks (forked) only exactly once. */
const ordered = (name: string) => name.endsWith(".task") ? undefined : "resources"

const build = (site: Site, fault: Fault) =>
  Effect.gen(function*() {
    const ledger = new Ledger()
    const calls: Array<string> = []
    let armed = true
    let faultyCalls = 0
    /** The fault, once; later calls succeed (so a retry can succeed). */
    const strike = Effect.suspend(() => {
      faultyCalls++
      if (!armed) return Effect.void
      armed = false
      return inject(fault)
    })
    const hook = (name: string, h: Hook) => () =>
      Effect.suspend(() => {
        calls.push(`${name}.${h}`)
        return site.owner === name && site.hook === h ? strike : Effect.void
      })
    const options = (name: string): Service.Options<string, never> => {
      const o: Record<string, unknown> = {}
      for (const h of hooks) o[h] = hook(name, h)
      const faultyTask = name === "P" && site.task !== undefined
        ? [
          site.task === "task"
            ? Service.task(() => Effect.zipRight(Effect.sleep("1 second"), strike), {
              name: "faulty",
              ...(site.onError ? { onError: site.onError } : {})
            })
            : site.task === "timer"
            ? Service.timer("1 second", () => strike, { name: "faulty", ...(site.onError ? { onError: site.onError } : {}) })
            : Service.crontab("* * * * *", () => strike, { name: "faulty", ...(site.onError ? { onError: site.onError } : {}) })
        ]
        : []
      return {
        ...o,
        onStart: (self) =>
          Effect.gen(function*() {
            yield* self.addContext(ledger.resource(`${name}.ctx`))
            yield* ledger.finalizer(self, `${name}.fin1`)
            if (name === "P" && site.finalizer) yield* self.addFinalizer(strike as Effect.Effect<void>) // a finalizer that fails (typed out)
            yield* ledger.finalizer(self, `${name}.fin2`)
            yield* hook(name, "onStart")()
          }),
        tasks: [Service.task(() => ledger.task(`${name}.task`), { name: "idle" }), ...faultyTask]
      }
    }
    const a = yield* Service.make("A", options("A"))
    const b = yield* Service.make("B", options("B"))
    const p = yield* Service.make("P", { ...options("P"), dependencies: () => Effect.succeed([a, b]) })
    return { p, a, b, ledger, calls, faultyCalls: () => faultyCalls }
  })

type Tree = Effect.Effect.Success<ReturnType<typeof build>>

const states = (t: Tree) =>
  Effect.all({ P: t.p.state, A: t.a.state, B: t.b.state })

const crashes = (t: Tree) =>
  Effect.all({ P: crashOf(t.p), A: crashOf(t.a), B: crashOf(t.b) })

/** Stops P and checks that nothing is held any more and the releases were in reverse order. */
const stopAndCheckReleases = (t: Tree) =>
  Effect.gen(function*() {
    expect(outcome(yield* bounded(t.p.stop))).toBe("ok")
    expect(t.ledger.problems(ordered)).toEqual([])
    for (const s of [t.p, t.a, t.b]) expect((yield* s.tracebacks).size).toBe(0)
  })

/** The crash reason expected of a service that the fault crashed, by fault. */
const crashedBy = (fault: Fault) => fault === "interrupt" ? "none" : "carries fault"

describe.each(sites)("fault in $name", (site) => {
  for (const fault of faults) {
    const interrupt = fault === "interrupt"
    switch (site.kind) {
      case "start":
        it.effect(`${fault}: the start fails and is rolled back; ${interrupt ? "not a crash" : "crashed"}`, () =>
          Effect.gen(function*() {
            const t = yield* build(site, fault)
            const exit = yield* bounded(t.p.start)
            // rule 1: StartFailed with the cause; an interruption ends the start as interrupted
            expect(outcome(exit)).toBe(interrupt ? "interrupted" : "StartFailed")
            if (!interrupt) {
              const error = Cause.failureOption(exit._tag === "Failure" ? exit.cause : Cause.empty)
              expect(Option.map(error, (e) => carries(Cause.fail(e), fault as "fail"))).toEqual(Option.some(true))
            }
            // everything the start acquired is released, exactly once, in reverse order
            expect(t.ledger.problems(ordered)).toEqual([])
            // the rollback runs no stop hook of the service whose start failed
            expect(t.calls.filter((c) => c === `${site.owner}.onStop` || c === `${site.owner}.onShutdown`)).toEqual([])
            const started = (name: string) => t.calls.includes(`${name}.onStarted`)
            if (site.owner === "P") {
              expect(yield* states(t)).toEqual({
                P: interrupt ? "shutdown" : "crashed",
                // children started before the failure were stopped with their hooks; the others never started
                A: started("A") ? "shutdown" : "init",
                B: started("B") ? "shutdown" : "init"
              })
              if (started("A")) expect(t.calls).toContain("A.onShutdown")
              expect(yield* crashes(t)).toEqual({ P: crashedBy(fault), A: "none", B: "none" })
            } else {
              // B's start failed: A (started before it) is stopped normally, P rolls back
              expect(yield* states(t)).toEqual({
                P: interrupt ? "shutdown" : "crashed",
                A: "shutdown",
                B: interrupt ? "shutdown" : "crashed"
              })
              expect(t.calls.slice(-2)).toEqual(["A.onStop", "A.onShutdown"])
              expect(yield* crashes(t)).toEqual({ P: crashedBy(fault), A: "none", B: crashedBy(fault) })
            }
            // nothing is left behind: the same tree starts again (the fault fires once)
            expect(outcome(yield* bounded(t.p.start))).toBe("ok")
            expect(yield* states(t)).toEqual({ P: "running", A: "running", B: "running" })
            expect(yield* crashes(t)).toEqual({ P: "none", A: "none", B: "none" })
            yield* stopAndCheckReleases(t)
          }))
        break

      case "stop":
        it.effect(`${fault}: the stop completes and every later step still runs; not a crash`, () =>
          Effect.gen(function*() {
            const t = yield* build(site, fault)
            expect(outcome(yield* bounded(t.p.start))).toBe("ok")
            t.calls.length = 0
            // rule 2: stop never fails
            expect(outcome(yield* bounded(t.p.stop))).toBe("ok")
            expect(t.calls).toEqual(["P.onStop", "B.onStop", "B.onShutdown", "A.onStop", "A.onShutdown", "P.onShutdown"])
            expect(t.faultyCalls()).toBe(1)
            expect(t.ledger.problems(ordered)).toEqual([])
            expect(yield* states(t)).toEqual({ P: "shutdown", A: "shutdown", B: "shutdown" })
            expect(yield* crashes(t)).toEqual({ P: "none", A: "none", B: "none" })
            // the failed step is recorded on the service it belongs to
            const owner = site.owner === "P" ? t.p : t.b
            const failure = Option.getOrThrow(yield* owner.stopFailure)
            if (interrupt) expect(Cause.isInterruptedOnly(failure)).toBe(true)
            else expect(carries(failure, fault)).toBe(true)
            for (const s of [t.p, t.a, t.b]) expect((yield* s.tracebacks).size).toBe(0)
          }))
        break

      case "restart":
        it.effect(`${fault}: the restart stops, then fails before starting; ${interrupt ? "not a crash" : "crashed"}`, () =>
          Effect.gen(function*() {
            const t = yield* build(site, fault)
            expect(outcome(yield* bounded(t.p.start))).toBe("ok")
            const exit = yield* bounded(t.p.restart)
            expect(outcome(exit)).toBe(interrupt ? "interrupted" : "StartFailed")
            // the stop side ran in full; the start side never began
            expect(t.calls.filter((c) => c.endsWith(".onShutdown"))).toEqual(["B.onShutdown", "A.onShutdown", "P.onShutdown"])
            expect(t.ledger.entries.filter((e) => e.name === "P.ctx")).toHaveLength(1)
            expect(t.ledger.problems(ordered)).toEqual([])
            expect(yield* states(t)).toEqual({ P: interrupt ? "shutdown" : "crashed", A: "shutdown", B: "shutdown" })
            expect(yield* crashes(t)).toEqual({ P: crashedBy(fault), A: "none", B: "none" })
            // and it starts again
            expect(outcome(yield* bounded(t.p.start))).toBe("ok")
            expect(yield* states(t)).toEqual({ P: "running", A: "running", B: "running" })
            yield* stopAndCheckReleases(t)
          }))
        break

      case "crash":
        it.effect(
          interrupt
            ? `interrupt: ends that ${site.task} only; not a crash, the rest runs on`
            : `${fault}: crashes the tree with that reason and stops it`,
          () =>
            Effect.gen(function*() {
              const t = yield* build(site, fault)
              expect(outcome(yield* bounded(t.p.start))).toBe("ok")
              yield* TestClock.adjust("1 minute") // the fault fires (task at 1 s, timer at 1 s, crontab at 00:01)
              expect(t.faultyCalls()).toBe(1)
              if (interrupt) {
                expect(yield* states(t)).toEqual({ P: "running", A: "running", B: "running" })
                expect(yield* crashes(t)).toEqual({ P: "none", A: "none", B: "none" })
                // the other tasks still run; the interrupted one is over
                expect(t.ledger.held.sort()).toEqual(["A.ctx", "A.fin1", "A.fin2", "A.task", "B.ctx", "B.fin1", "B.fin2", "B.task", "P.ctx", "P.fin1", "P.fin2", "P.task"])
                yield* TestClock.adjust("5 minutes")
                expect(t.faultyCalls()).toBe(1)
                yield* stopAndCheckReleases(t)
                expect(yield* states(t)).toEqual({ P: "shutdown", A: "shutdown", B: "shutdown" })
                return
              }
              // rule 4: no supervisor, so the whole tree is marked and stopped, in order, with its hooks
              yield* stopAndCheckReleases(t) // joins the stop the crash began
              expect(yield* states(t)).toEqual({ P: "crashed", A: "crashed", B: "crashed" })
              expect(yield* crashes(t)).toEqual({ P: "carries fault", A: "carries fault", B: "carries fault" })
              expect(t.calls.filter((c) => c.endsWith(".onStop"))).toEqual(["P.onStop", "B.onStop", "A.onStop"])
              expect(t.faultyCalls()).toBe(1)
            })
        )
        break

      case "logged":
        it.effect(
          interrupt
            ? `interrupt: ends that ${site.task} only; not a crash, not logged as an error`
            : `${fault}: logged with its cause; no crash; ${site.task === "task" ? "the task ends" : "the schedule goes on"}`,
          () =>
            Effect.gen(function*() {
              const lines: Array<Captured> = []
              const t = yield* build(site, fault)
              yield* captureLogs(
                Effect.gen(function*() {
                  expect(outcome(yield* bounded(t.p.start))).toBe("ok")
                  const period = site.task === "crontab" ? "1 minute" : "1 second"
                  yield* TestClock.adjust(period) // the fault fires
                  yield* TestClock.adjust(period) // a timer or crontab fires again
                }),
                lines
              )
              expect(yield* states(t)).toEqual({ P: "running", A: "running", B: "running" })
              expect(yield* crashes(t)).toEqual({ P: "none", A: "none", B: "none" })
              const errors = lines.filter((l) => l.level === "ERROR")
              if (interrupt) {
                expect(errors).toEqual([])
                expect(t.faultyCalls()).toBe(1)
              } else {
                expect(errors.length).toBeGreaterThanOrEqual(1)
                expect(errors[0]!.message).toContain("faulty")
                expect(errors[0]!.cause).toContain(fault === "fail" ? "injected failure" : "injected defect")
                // a plain task ends; a timer or crontab keeps its schedule
                if (site.task === "task") expect(t.faultyCalls()).toBe(1)
                else expect(t.faultyCalls()).toBeGreaterThan(1)
              }
              yield* stopAndCheckReleases(t)
            })
        )
        break
    }
  }
})

/**
 * The supervisor's `replacement(crashed, index)` factory is user code too. A one-for-one
 * supervisor of A and B replaces A after A crashes; the factory fails once (or always).
 */
describe("fault in a supervisor's replacement factory", () => {
  const build = (fault: Fault, always: boolean) =>
    Effect.gen(function*() {
      const ledger = new Ledger()
      const worker = (name: string) =>
        Service.make(name, {
          onStart: (self) =>
            Effect.zipRight(self.addContext(ledger.resource(`${name}.ctx`)), ledger.finalizer(self, `${name}.fin`)),
          tasks: [Service.task(() => ledger.task(`${name}.task`), { name: "idle" })]
        })
      const a = yield* worker("A")
      const b = yield* worker("B")
      let calls = 0
      const sup = yield* Supervisor.oneForOne("Sup", [a, b], {
        maxRestarts: 2,
        within: "1 minute",
        replacement: (crashed) =>
          Effect.suspend(() => {
            calls++
            // the factory's type has no error channel: a failure can only come from a cast
            return calls === 1 || always ? inject(fault) as Effect.Effect<never> : worker(`${crashed.label}'`)
          })
      })
      return { ledger, a, b, sup, calls: () => calls }
    })

  /** Per service: released exactly once, in reverse (the slot's services come and go on their own). */
  const byService = (name: string) => name.endsWith(".task") ? undefined : name.split(".")[0]

  /** Lets the supervisor act: scheduler turns, then clock steps, until `check` holds. */
  const eventually = (check: Effect.Effect<boolean>) =>
    Effect.gen(function*() {
      for (let step = 0; step < 20; step++) {
        for (let turn = 0; turn < 20; turn++) {
          if (yield* check) return
          yield* Effect.yieldNow()
        }
        yield* TestClock.adjust("1 second")
      }
      expect(yield* check).toBe(true)
    })

  for (const fault of faults) {
    const interrupt = fault === "interrupt"
    it.effect(
      interrupt
        ? "interrupt: that replacement is given up; not a crash, the supervisor and B run on"
        : `${fault}: logged and handled as another crash of the slot; the next replacement takes its place`,
      () =>
        Effect.gen(function*() {
          const lines: Array<Captured> = []
          const t = yield* build(fault, false)
          yield* captureLogs(
            Effect.gen(function*() {
              expect(outcome(yield* bounded(t.sup.start))).toBe("ok")
              yield* t.a.crash("A crashed")
              yield* eventually(Effect.map(t.a.started, (started) => !started && t.calls() >= 1))
              if (!interrupt) {
                const replaced = Effect.flatMap(t.sup.services, ([first]) =>
                  first === t.a ? Effect.succeed(false) : Effect.map(first!.state, (s) => s === "running"))
                yield* eventually(replaced)
              }
            }),
            lines
          )
          const [first, second] = yield* t.sup.services
          expect(second).toBe(t.b)
          expect(yield* t.b.state).toBe("running")
          expect(yield* t.b.restartCount).toBe(0)
          expect(yield* t.sup.state).toBe("running")
          expect(yield* crashOf(t.sup)).toBe("none")
          expect(yield* t.a.started).toBe(false)
          if (interrupt) {
            expect(t.calls()).toBe(1)
            expect(first).toBe(t.a)
          } else {
            expect(t.calls()).toBe(2)
            expect(first!.label).toBe("A'")
            const failed = lines.find((l) => l.message.includes("Replacement of Sup/A failed"))
            expect(failed?.cause).toContain(fault === "fail" ? "injected failure" : "injected defect")
          }
          expect(outcome(yield* bounded(t.sup.stop))).toBe("ok")
          expect(t.ledger.problems(byService)).toEqual([])
          for (const s of [t.sup, t.a, t.b, first!]) expect((yield* s.tracebacks).size).toBe(0)
        })
    )
  }

  it.effect("fail, every time: retried within the restart intensity, then escalated (MaxRestartsExceeded)", () =>
    Effect.gen(function*() {
      const t = yield* build("fail", true)
      const running = yield* Effect.fork(Service.run(t.sup))
      yield* eventually(Effect.map(t.sup.state, (s) => s === "running"))
      yield* t.a.crash("A crashed")
      const exit = yield* settle(running)
      expect(outcome(exit)).toBe("Crashed")
      const reason = Option.getOrThrow(yield* t.sup.crashReason)
      expect(Option.map(Cause.failureOption(reason), (e) => e instanceof ServiceError.MaxRestartsExceeded)).toEqual(Option.some(true))
      expect(t.calls()).toBe(2) // maxRestarts 2: two attempts; the crash of the second escalates
      expect(yield* t.b.started).toBe(false)
      expect(t.ledger.problems(byService)).toEqual([])
    }))
})

