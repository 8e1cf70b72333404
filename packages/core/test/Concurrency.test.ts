/**
 * Lifecycle operations that overlap: none may hang (each is awaited with `settle`, which
 * moves the TestClock a bounded number of steps and fails with "hung"), leak a fiber (the
 * leak-checked `it`), or leave a resource held or released twice (the `Ledger`).
 *
 * Extends HookFailures.test.ts ("deadlines and concurrency"), which already covers a single
 * stop during a hanging onStart, a parent's stop during a child's hanging start, an
 * interrupted start during onStarted, restart during stop and a crash from onStop.
 */
import { describe, expect } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, Option, Queue, Stream, TestClock } from "effect"
import { Schedule } from "effect"
import { Service, Supervisor } from "@effect-mode/core"
import { bounded, crashOf, defect, Ledger, outcome, settle } from "./fixtures/harness.js"
import { it } from "./support/it.js"

type Hook = "onFirstStart" | "onStart" | "onStarted" | "onStop" | "onShutdown" | "onRestart"
const hookNames: ReadonlyArray<Hook> = ["onFirstStart", "onStart", "onStarted", "onStop", "onShutdown", "onRestart"]

interface Spec {
  /** What a hook does after it is recorded in `calls` (default: nothing). */
  readonly hooks?: Partial<Record<Hook, (self: Service.Service) => Effect.Effect<void, unknown>>>
  /** The body of the service's task, after it is recorded as acquired (default: never). */
  readonly task?: (self: Service.Service) => Effect.Effect<void, unknown>
}

/**
 * P with children A and B. Each service records its hook calls in `calls`, acquires a
 * context and a finalizer in `onStart` (before the hook's own behaviour) and runs a task,
 * all in `ledger`.
 */
const family = (specs: Partial<Record<"P" | "A" | "B", Spec>> = {}) =>
  Effect.gen(function*() {
    const ledger = new Ledger()
    const calls: Array<string> = []
    const options = (name: "P" | "A" | "B"): Service.Options<unknown, never> => {
      const spec = specs[name] ?? {}
      const hook = (h: Hook) => (self: Service.Service) =>
        Effect.suspend(() => {
          calls.push(`${name}.${h}`)
          return spec.hooks?.[h]?.(self) ?? Effect.void
        })
      const o: Record<string, unknown> = {}
      for (const h of hookNames) o[h] = hook(h)
      return {
        ...o,
        onStart: (self) =>
          Effect.gen(function*() {
            yield* self.addContext(ledger.resource(`${name}.ctx`))
            yield* ledger.finalizer(self, `${name}.fin`)
            yield* hook("onStart")(self)
          }),
        tasks: [Service.task((self) => ledger.task(`${name}.task`, spec.task?.(self)), { name: "work" })]
      }
    }
    const a = yield* Service.make("A", options("A"))
    const b = yield* Service.make("B", options("B"))
    const p = yield* Service.make("P", { ...options("P"), dependencies: () => Effect.succeed([a, b]) })
    const count = (call: string) => calls.filter((c) => c === call).length
    return { p, a, b, all: [p, a, b] as const, ledger, calls, count }
  })

/** Contexts and finalizers are released in reverse order; tasks (forked) only exactly once. */
const ordered = (name: string) => name.endsWith(".task") ? undefined : "resources"

/** The first call hangs (until interrupted); later calls return at once. */
const hangOnce = () => {
  let first = true
  return () =>
    Effect.suspend(() => {
      if (!first) return Effect.void
      first = false
      return Effect.never
    })
}

/** Waits (without clock time) until `service` is running. */
const untilRunning = (service: Service.Service) =>
  service.stateChanges.pipe(Stream.takeUntil((s) => s === "running"), Stream.runDrain)

/** Runs the scheduler until `calls` contains `call` (no clock time passes). */
const until = (calls: ReadonlyArray<string>, call: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 100 && !calls.includes(call); i++) yield* Effect.yieldNow()
    expect(calls).toContain(call)
  })

type Family = Effect.Effect.Success<ReturnType<typeof family>>

const statesOf = (t: Family) => Effect.all(t.all.map((s) => s.state))

/** Stops P, then: nothing held, no fiber in any run, releases in reverse order. */
const finish = (t: Family) =>
  Effect.gen(function*() {
    expect(outcome(yield* bounded(t.p.stop))).toBe("ok")
    for (const s of [t.a, t.b]) expect(outcome(yield* bounded(s.stop))).toBe("ok")
    expect(t.ledger.problems(ordered)).toEqual([])
    for (const s of t.all) expect((yield* s.tracebacks).size).toBe(0)
  })

describe("two stops at once", () => {
  it.effect("of the same tree: each step runs once, and neither returns before the tree is down", () =>
    Effect.gen(function*() {
      const slow = { hooks: { onStop: () => Effect.sleep("1 second") } }
      const t = yield* family({ P: slow, A: slow, B: slow })
      yield* t.p.start
      const one = yield* Effect.fork(t.p.stop)
      const two = yield* Effect.fork(t.p.stop)
      yield* TestClock.adjust("2 seconds") // P.onStop and B.onStop are over, A.onStop is not
      expect(Option.isNone(yield* Fiber.poll(one))).toBe(true)
      expect(Option.isNone(yield* Fiber.poll(two))).toBe(true)
      expect(outcome(yield* settle(one))).toBe("ok")
      expect(yield* statesOf(t)).toEqual(["shutdown", "shutdown", "shutdown"])
      expect(outcome(yield* settle(two))).toBe("ok")
      for (const call of ["P.onStop", "A.onStop", "B.onStop", "P.onShutdown", "A.onShutdown", "B.onShutdown"]) {
        expect(t.count(call)).toBe(1)
      }
      yield* finish(t)
    }))

  it.effect("of a parent and of its child: the child is stopped once", () =>
    Effect.gen(function*() {
      const t = yield* family({ A: { hooks: { onStop: () => Effect.sleep("1 second") } } })
      yield* t.p.start
      const child = yield* Effect.fork(t.a.stop)
      const parent = yield* Effect.fork(t.p.stop)
      expect(outcome(yield* settle(parent))).toBe("ok")
      expect(outcome(yield* settle(child))).toBe("ok")
      expect(t.count("A.onStop")).toBe(1)
      expect(t.count("A.onShutdown")).toBe(1)
      expect(yield* statesOf(t)).toEqual(["shutdown", "shutdown", "shutdown"])
      yield* finish(t)
    }))
})

/** Each step of a start, made to hang once, and the call that shows the start reached it. */
const startSteps: ReadonlyArray<{ readonly step: string; readonly spec: (hang: () => Effect.Effect<void>) => Parameters<typeof family>[0]; readonly reached: string }> = [
  { step: "P.onFirstStart", spec: (hang) => ({ P: { hooks: { onFirstStart: hang } } }), reached: "P.onFirstStart" },
  { step: "P.onStart", spec: (hang) => ({ P: { hooks: { onStart: hang } } }), reached: "P.onStart" },
  { step: "A's start (A.onStart)", spec: (hang) => ({ A: { hooks: { onStart: hang } } }), reached: "A.onStart" },
  { step: "B's start (B.onStarted)", spec: (hang) => ({ B: { hooks: { onStarted: hang } } }), reached: "B.onStarted" },
  { step: "P.onStarted", spec: (hang) => ({ P: { hooks: { onStarted: hang } } }), reached: "P.onStarted" }
]

describe.each(startSteps)("while the start hangs in $step", ({ reached, spec }) => {
  it.effect("a stop cuts it short: rolled back in reverse, not a crash, and it starts again", () =>
    Effect.gen(function*() {
      const t = yield* family(spec(hangOnce()))
      const starting = yield* Effect.fork(t.p.start)
      yield* until(t.calls, reached)
      expect(outcome(yield* bounded(t.p.stop))).toBe("ok")
      expect(outcome(yield* settle(starting))).toBe("ok")
      expect(t.ledger.problems(ordered)).toEqual([])
      for (const s of t.all) expect(yield* crashOf(s)).toBe("none")
      expect((yield* statesOf(t)).every((s) => s === "shutdown" || s === "init")).toBe(true)
      expect(outcome(yield* bounded(t.p.start))).toBe("ok")
      expect(yield* statesOf(t)).toEqual(["running", "running", "running"])
      yield* finish(t)
    }))

  it.effect("interrupting start from outside rolls it back; not a crash, and it starts again", () =>
    Effect.gen(function*() {
      const t = yield* family(spec(hangOnce()))
      const starting = yield* Effect.fork(t.p.start)
      yield* until(t.calls, reached)
      const interrupting = yield* Effect.fork(Fiber.interrupt(starting))
      expect(outcome(yield* settle(interrupting))).toBe("ok")
      expect(outcome(yield* settle(starting))).toBe("interrupted")
      expect(t.ledger.problems(ordered)).toEqual([])
      for (const s of t.all) expect(yield* crashOf(s)).toBe("none")
      expect((yield* statesOf(t)).every((s) => s === "shutdown" || s === "init")).toBe(true)
      expect(outcome(yield* bounded(t.p.start))).toBe("ok")
      yield* finish(t)
    }))

  it.effect("a restart cuts it short and starts again", () =>
    Effect.gen(function*() {
      const t = yield* family(spec(hangOnce()))
      const starting = yield* Effect.fork(t.p.start)
      yield* until(t.calls, reached)
      expect(outcome(yield* bounded(t.p.restart))).toBe("ok")
      expect(outcome(yield* settle(starting))).toBe("ok")
      expect(yield* statesOf(t)).toEqual(["running", "running", "running"])
      expect(yield* t.p.restartCount).toBe(1)
      yield* finish(t)
    }))
})

describe("stop and restart from outside", () => {
  it.effect("interrupting a stop from outside does not cut it short: the interrupt returns once the tree is down", () =>
    Effect.gen(function*() {
      const t = yield* family({ A: { hooks: { onStop: () => Effect.sleep("1 second") } } })
      yield* t.p.start
      const stopping = yield* Effect.fork(t.p.stop)
      yield* until(t.calls, "A.onStop")
      const interrupting = yield* Effect.fork(Fiber.interrupt(stopping))
      yield* Effect.yieldNow()
      expect(Option.isNone(yield* Fiber.poll(interrupting))).toBe(true)
      yield* settle(interrupting)
      expect(yield* statesOf(t)).toEqual(["shutdown", "shutdown", "shutdown"])
      expect(t.calls.slice(-2)).toEqual(["A.onShutdown", "P.onShutdown"])
      yield* finish(t)
    }))

  it.effect("interrupting a restart during its stop: the stop completes, no start follows", () =>
    Effect.gen(function*() {
      const t = yield* family({ P: { hooks: { onStop: () => Effect.sleep("1 second") } } })
      yield* t.p.start
      const restarting = yield* Effect.fork(t.p.restart)
      yield* until(t.calls, "P.onStop")
      yield* Effect.fork(Fiber.interrupt(restarting))
      expect(outcome(yield* settle(restarting))).toBe("interrupted")
      expect(yield* statesOf(t)).toEqual(["shutdown", "shutdown", "shutdown"])
      expect(t.count("P.onStart")).toBe(1)
      yield* finish(t)
    }))

  it.effect("interrupting a restart during its start rolls the start back", () =>
    Effect.gen(function*() {
      let starts = 0
      const t = yield* family({
        P: { hooks: { onStarted: () => Effect.suspend(() => ++starts === 2 ? Effect.never : Effect.void) } }
      })
      yield* t.p.start
      const restarting = yield* Effect.fork(t.p.restart)
      yield* Effect.yieldNow()
      yield* Effect.iterate(0, { while: (n) => n < 100 && starts < 2, body: (n) => Effect.as(Effect.yieldNow(), n + 1) })
      expect(starts).toBe(2)
      yield* Effect.fork(Fiber.interrupt(restarting))
      expect(outcome(yield* settle(restarting))).toBe("interrupted")
      expect(yield* statesOf(t)).toEqual(["shutdown", "shutdown", "shutdown"])
      expect(t.ledger.problems(ordered)).toEqual([])
      yield* finish(t)
    }))

  it.effect("a start during a stop fails with AlreadyStarted and does not disturb the stop", () =>
    Effect.gen(function*() {
      const t = yield* family({ P: { hooks: { onStop: () => Effect.sleep("1 second") } } })
      yield* t.p.start
      const stopping = yield* Effect.fork(t.p.stop)
      yield* until(t.calls, "P.onStop")
      expect(outcome(yield* bounded(t.p.start))).toBe("AlreadyStarted")
      expect(yield* t.p.maybeStart).toBe(false)
      expect(outcome(yield* settle(stopping))).toBe("ok")
      expect(yield* statesOf(t)).toEqual(["shutdown", "shutdown", "shutdown"])
      yield* finish(t)
    }))
})

describe("starts and restarts at once", () => {
  it.effect("two starts: one starts the tree, the other fails with AlreadyStarted", () =>
    Effect.gen(function*() {
      const t = yield* family({ A: { hooks: { onStart: () => Effect.sleep("1 second") } } })
      const one = yield* Effect.fork(t.p.start)
      const two = yield* Effect.fork(t.p.start)
      const outcomes = [outcome(yield* settle(one)), outcome(yield* settle(two))].sort()
      expect(outcomes).toEqual(["AlreadyStarted", "ok"])
      expect(t.count("P.onStart")).toBe(1)
      const maybe = yield* Effect.all([t.p.maybeStart, t.p.maybeStart], { concurrency: "unbounded" })
      expect(maybe).toEqual([false, false])
      yield* finish(t)
    }))

  it.effect("two maybeStarts: exactly one is true", () =>
    Effect.gen(function*() {
      const t = yield* family({ P: { hooks: { onStart: () => Effect.sleep("1 second") } } })
      const one = yield* Effect.fork(t.p.maybeStart)
      const two = yield* Effect.fork(t.p.maybeStart)
      const results = [yield* settle(one), yield* settle(two)].map((e) => e._tag === "Success" ? e.value : e._tag)
      expect(results.sort()).toEqual([false, true])
      expect(t.count("P.onStart")).toBe(1)
      yield* finish(t)
    }))

  it.effect("two restarts at once: one restart, both succeed, the hooks stay paired", () =>
    Effect.gen(function*() {
      const t = yield* family({ P: { hooks: { onStop: () => Effect.sleep("1 second") } } })
      yield* t.p.start
      const one = yield* Effect.fork(t.p.restart)
      const two = yield* Effect.fork(t.p.restart)
      expect(outcome(yield* settle(one))).toBe("ok")
      expect(outcome(yield* settle(two))).toBe("ok")
      expect(yield* statesOf(t)).toEqual(["running", "running", "running"])
      expect(t.count("P.onRestart")).toBe(yield* t.p.restartCount)
      expect(t.count("P.onStart")).toBe(t.count("P.onStop") + 1)
      yield* finish(t)
    }))
})

describe("crashes that overlap", () => {
  it.effect("two children crash at once: one stop of the tree, the first reason everywhere", () =>
    Effect.gen(function*() {
      const boom = (name: string) => () => Effect.zipRight(Effect.sleep("1 second"), Effect.fail(`${name} crashed`))
      const t = yield* family({ A: { task: boom("A") }, B: { task: boom("B") } })
      yield* t.p.start
      yield* TestClock.adjust("1 second")
      yield* finish(t)
      expect(yield* statesOf(t)).toEqual(["crashed", "crashed", "crashed"])
      const reasons = yield* Effect.forEach(t.all, (s) => Effect.map(s.crashReason, Option.map(String)))
      expect(new Set(reasons.map(Option.getOrThrow)).size).toBe(1)
      for (const call of ["P.onStop", "A.onStop", "B.onStop", "P.onShutdown", "A.onShutdown", "B.onShutdown"]) {
        expect(t.count(call)).toBe(1)
      }
    }))

  it.effect("a crash and a stop in the same tick: one stop, the crash recorded", () =>
    Effect.gen(function*() {
      const t = yield* family({ P: { hooks: { onStop: () => Effect.sleep("1 second") } } })
      yield* t.p.start
      const stopping = yield* Effect.fork(t.p.stop)
      const crashing = yield* Effect.fork(t.b.crash("bang"))
      expect(outcome(yield* settle(crashing))).toBe("ok")
      expect(outcome(yield* settle(stopping))).toBe("ok")
      yield* finish(t)
      expect(t.count("P.onStop")).toBe(1)
      expect(t.count("B.onShutdown")).toBe(1)
      expect(yield* t.b.state).toBe("crashed")
    }))

  it.effect("a child's task crashes while the parent stops: the stop completes once", () =>
    Effect.gen(function*() {
      const t = yield* family({
        A: {
          task: (self) => Effect.zipRight(self.waitUntilStopped, Effect.die(defect)),
          hooks: { onStop: () => Effect.sleep("1 second") }
        }
      })
      yield* t.p.start
      expect(outcome(yield* bounded(t.p.stop))).toBe("ok")
      yield* finish(t)
      for (const call of ["P.onStop", "A.onStop", "B.onStop", "P.onShutdown", "A.onShutdown", "B.onShutdown"]) {
        expect(t.count(call)).toBe(1)
      }
      expect(yield* crashOf(t.a)).toBe("carries fault")
    }))

  it.effect("a crash while the tree is starting: the start fails with StartFailed and is rolled back", () =>
    Effect.gen(function*() {
      const t = yield* family({
        P: { task: () => Effect.die(defect) },
        A: { hooks: { onStart: () => Effect.sleep("1 second") } }
      })
      const exit = yield* bounded(t.p.start)
      expect(outcome(exit)).toBe("StartFailed")
      expect(yield* crashOf(t.p)).toBe("carries fault")
      expect(t.count("P.onStarted")).toBe(0)
      yield* finish(t)
    }))

  it.effect("a crash while a restart stops the tree: the restart completes and clears it", () =>
    Effect.gen(function*() {
      const t = yield* family({ P: { hooks: { onStop: () => Effect.sleep("1 second") } } })
      yield* t.p.start
      const restarting = yield* Effect.fork(t.p.restart)
      yield* until(t.calls, "P.onStop")
      yield* t.a.crash("during restart")
      const exit = yield* settle(restarting)
      expect(["ok", "StartFailed"]).toContain(outcome(exit))
      expect(yield* t.p.state).not.toBe("stopping")
      yield* finish(t)
    }))
})

describe("the tree changes while it stops", () => {
  it.effect("removeDependency during the parent's stop stops the child once and detaches it", () =>
    Effect.gen(function*() {
      const t = yield* family({ P: { hooks: { onStop: () => Effect.sleep("1 second") } } })
      yield* t.p.start
      const stopping = yield* Effect.fork(t.p.stop)
      yield* until(t.calls, "P.onStop")
      expect(outcome(yield* bounded(t.p.removeDependency(t.a)))).toBe("ok")
      expect(outcome(yield* settle(stopping))).toBe("ok")
      expect(t.count("A.onStop")).toBe(1)
      expect(yield* t.a.beacon.parent).toEqual(Option.none())
      expect(yield* statesOf(t)).toEqual(["shutdown", "shutdown", "shutdown"])
      // A was taken out of turn, so the order holds per service only
      expect(t.ledger.problems((name) => name.endsWith(".task") ? undefined : name.split(".")[0])).toEqual([])
      for (const s of t.all) expect((yield* s.tracebacks).size).toBe(0)
    }))

  it.effect("a child cannot be moved away while its parent starts (a defect naming both); nothing hangs", () =>
    Effect.gen(function*() {
      const t = yield* family({ A: { hooks: { onStart: hangOnce() } } })
      const other = yield* Service.make("Other")
      const starting = yield* Effect.fork(t.p.start)
      yield* until(t.calls, "A.onStart")
      const exit = yield* Effect.exit(other.addRuntimeDependency(t.a))
      expect(exit._tag === "Failure" && Cause.pretty(exit.cause)).toContain("cannot move to Other while P is starting")
      expect(Option.map(yield* t.a.beacon.parent, (n) => n.service)).toEqual(Option.some(t.p))
      expect(outcome(yield* bounded(t.p.stop))).toBe("ok")
      expect(outcome(yield* settle(starting))).toBe("ok")
      yield* finish(t)
    }))

  it.effect("addRuntimeDependency during the parent's stop does not leave the child running", () =>
    Effect.gen(function*() {
      const t = yield* family({ P: { hooks: { onStop: () => Effect.sleep("1 second") } } })
      const late = yield* Service.make("Late", { tasks: [Service.task(() => Effect.never)] })
      yield* t.p.start
      const stopping = yield* Effect.fork(t.p.stop)
      yield* until(t.calls, "P.onStop")
      expect(outcome(yield* bounded(t.p.addRuntimeDependency(late)))).toBe("ok")
      expect(outcome(yield* settle(stopping))).toBe("ok")
      expect(yield* late.state).not.toBe("running")
      expect((yield* late.tracebacks).size).toBe(0)
      yield* finish(t)
    }))

  it.effect("a child's restart racing the parent's stop: once the parent's stop returns, nothing under it runs", () =>
    Effect.gen(function*() {
      const t = yield* family({ A: { hooks: { onStop: () => Effect.sleep("1 second") } } })
      yield* t.p.start
      const restarting = yield* Effect.fork(t.a.restart)
      yield* until(t.calls, "A.onStop")
      expect(outcome(yield* bounded(t.p.stop))).toBe("ok")
      expect(yield* statesOf(t)).not.toContain("running")
      expect(t.ledger.held).toEqual([])
      yield* settle(restarting)
      yield* finish(t)
    }))
})

describe("more overlaps", () => {
  it.effect("interrupting Service.run while the tree starts rolls the start back", () =>
    Effect.gen(function*() {
      const t = yield* family({ B: { hooks: { onStart: hangOnce() } } })
      const running = yield* Effect.fork(Service.run(t.p))
      yield* until(t.calls, "B.onStart")
      yield* Effect.fork(Fiber.interrupt(running))
      expect(outcome(yield* settle(running))).toBe("interrupted")
      expect(yield* statesOf(t)).toEqual(["shutdown", "shutdown", "shutdown"])
      expect(t.ledger.problems(ordered)).toEqual([])
      yield* finish(t)
    }))

  it.effect("a restart during the stop a crash began: one stop, then running again with the crash cleared", () =>
    Effect.gen(function*() {
      const t = yield* family({ P: { hooks: { onStop: () => Effect.sleep("1 second") } } })
      yield* t.p.start
      yield* t.a.crash("bang")
      yield* until(t.calls, "P.onStop")
      expect(outcome(yield* bounded(t.p.restart))).toBe("ok")
      expect(yield* statesOf(t)).toEqual(["running", "running", "running"])
      expect(t.count("P.onStop")).toBe(1)
      expect(t.count("A.onShutdown")).toBe(1)
      yield* finish(t)
    }))

  it.effect("resources added while stopping: in onStop they are released; in onShutdown they are refused", () =>
    Effect.gen(function*() {
      const ledger = new Ledger()
      let refused = false
      let future: Fiber.RuntimeFiber<void> | undefined
      const svc = yield* Service.make("S", {
        onStop: (self) =>
          Effect.zipRight(
            self.addContext(ledger.resource("late.ctx")),
            Effect.map(self.addFuture(Effect.never), (f) => void (future = f))
          ),
        onShutdown: (self) =>
          Effect.catchAllDefect(self.addFinalizer(Effect.void), () => Effect.sync(() => (refused = true)))
      })
      yield* svc.start
      expect(outcome(yield* bounded(svc.stop))).toBe("ok")
      expect(ledger.problems()).toEqual([])
      expect(ledger.entries.map((e) => e.name)).toEqual(["late.ctx"])
      expect(Exit.isInterrupted(yield* Fiber.await(future!))).toBe(true)
      expect(refused).toBe(true)
      expect(yield* svc.state).toBe("shutdown")
    }))

  it.effect("a task that restarts its own service: the restart runs on its own fiber and the service runs again", () =>
    Effect.gen(function*() {
      let result = "not returned"
      let asked = false
      const t = yield* family({
        P: {
          task: (self) =>
            asked ? Effect.never : Effect.zipRight(
              Effect.sleep("1 second"),
              Effect.suspend(() => {
                asked = true
                return Effect.map(Effect.exit(self.restart), (exit) => void (result = outcome(exit)))
              })
            )
        }
      })
      yield* t.p.start
      yield* TestClock.adjust("1 second")
      yield* until(t.calls, "P.onRestart")
      const restarted = yield* Effect.fork(untilRunning(t.p))
      yield* settle(restarted)
      expect(result).toBe("ok") // the caller went on (before its own task was interrupted)
      expect(yield* statesOf(t)).toEqual(["running", "running", "running"])
      expect(yield* t.p.restartCount).toBe(1)
      expect(t.count("P.onStart")).toBe(2)
      yield* finish(t)
    }))

  it.effect("a child's task that restarts the root: the whole tree runs again", () =>
    Effect.gen(function*() {
      let root: Service.Service | undefined
      let asked = false
      const t = yield* family({
        B: {
          task: () =>
            asked ? Effect.never : Effect.zipRight(Effect.sleep("1 second"), Effect.suspend(() => {
              asked = true
              return root!.restart
            }))
        }
      })
      root = t.p
      yield* t.p.start
      yield* TestClock.adjust("1 second")
      yield* until(t.calls, "P.onRestart")
      yield* settle(yield* Effect.fork(untilRunning(t.p)))
      expect(yield* statesOf(t)).toEqual(["running", "running", "running"])
      expect(yield* t.p.restartCount).toBe(1)
      expect(t.count("B.onStart")).toBe(2)
      yield* finish(t)
    }))
})

/**
 * Two supervised children crash in the same clock tick (their tasks fail on their own
 * fibers), under each strategy. Supervisor.behaviour.test.ts checks which services each
 * strategy restarts; here: nothing hangs, every start is paired with a stop, and every
 * resource of every run is released exactly once, in reverse.
 */
describe("two supervised children crash at once, under each strategy", () => {
  interface Seen {
    readonly states: ReadonlyArray<Service.State> // A, B, C, the supervisor, the root
    readonly restarts: ReadonlyArray<number> // A, B, C
  }
  /**
   * When the supervisor is done with both crashes. The two tasks fail in the same tick, on
   * their own fibers: which one the supervisor sees first is up to the scheduler, and under
   * the all-at-once strategies the other may be stopped before its own crash happens.
   */
  const strategies: ReadonlyArray<{ readonly strategy: Supervisor.Strategy; readonly settled: (seen: Seen) => boolean }> = [
    {
      strategy: "oneForOne",
      settled: ({ restarts, states }) => states.every((s) => s === "running") && restarts.join() === "1,0,1"
    },
    {
      strategy: "oneForAll",
      settled: ({ restarts, states }) => states.every((s) => s === "running") && restarts.every((n) => n >= 1)
    },
    {
      strategy: "restForOne",
      settled: ({ restarts, states }) => states.every((s) => s === "running") && restarts.every((n) => n >= 1)
    },
    {
      strategy: "forfeitOneForOne",
      settled: ({ states }) => states.join() === "crashed,running,crashed,running,running"
    },
    {
      strategy: "forfeitOneForAll",
      settled: ({ states: [a, b, c, sup, root] }) =>
        [a, c].includes("crashed") && [a, b, c].every((s) => s === "crashed" || s === "shutdown") &&
        sup === "running" && root === "running"
    },
    {
      strategy: "crashing",
      settled: ({ states }) => states.every((s) => s === "crashed")
    }
  ]

  const build = (strategy: Supervisor.Strategy, options: Supervisor.Options = {}) =>
    Effect.gen(function*() {
      const ledger = new Ledger()
      const calls: Array<string> = []
      const crashed = new Set<string>()
      const worker = (name: string, crashes: boolean) =>
        Service.make(name, {
          onStart: (self) =>
            Effect.gen(function*() {
              calls.push(`${name}.onStart`)
              yield* self.addContext(ledger.resource(`${name}.ctx`))
              yield* ledger.finalizer(self, `${name}.fin`)
            }),
          onStop: () => Effect.sync(() => calls.push(`${name}.onStop`)),
          tasks: [Service.task(() =>
            ledger.task(
              `${name}.task`,
              crashes && !crashed.has(name)
                ? Effect.zipRight(Effect.sleep("1 second"), Effect.suspend(() => (crashed.add(name), Effect.fail(`${name} crashed`))))
                : Effect.never
            ), { name: "work" })]
        })
      const a = yield* worker("A", true)
      const b = yield* worker("B", false)
      const c = yield* worker("C", true)
      const sup = yield* Supervisor.make(strategy, "Sup", [a, b, c], { maxRestarts: 10, within: "1 minute", ...options })
      const root = yield* Service.make("Root")
      yield* root.addDependency(sup)
      const count = (call: string) => calls.filter((x) => x === call).length
      return { ledger, a, b, c, sup, root, count }
    })

  const byService = (name: string) => name.endsWith(".task") ? undefined : name.split(".")[0]

  for (const { settled, strategy } of strategies) {
    it.effect(`${strategy}: settles, every start paired with a stop, every resource released once`, () =>
      Effect.gen(function*() {
        const t = yield* build(strategy)
        expect(outcome(yield* bounded(t.root.start))).toBe("ok")
        yield* TestClock.adjust("1 second") // A and C fail now
        const seen = Effect.all({
          states: Effect.all([t.a.state, t.b.state, t.c.state, t.sup.state, t.root.state]),
          restarts: Effect.all([t.a.restartCount, t.b.restartCount, t.c.restartCount])
        })
        let now = yield* seen
        for (let turn = 0; turn < 500 && !settled(now); turn++) {
          yield* Effect.yieldNow()
          now = yield* seen
        }
        expect(settled(now), JSON.stringify(now)).toBe(true)
        // a crashed child is never left running
        for (const s of [t.a, t.b, t.c]) if ((yield* s.state) === "crashed") expect(yield* s.started).toBe(false)
        expect(outcome(yield* bounded(t.root.stop))).toBe("ok")
        for (const name of ["A", "B", "C"]) expect(t.count(`${name}.onStart`)).toBe(t.count(`${name}.onStop`))
        expect(t.ledger.problems(byService)).toEqual([])
        for (const s of [t.root, t.sup, t.a, t.b, t.c]) expect((yield* s.tracebacks).size).toBe(0)
      }))
  }

  it.effect("the root stops while both restarts wait out their backoff: nothing is started again", () =>
    Effect.gen(function*() {
      const t = yield* build("oneForOne", { backoff: Schedule.spaced("10 seconds") })
      expect(outcome(yield* bounded(t.root.start))).toBe("ok")
      yield* TestClock.adjust("1 second") // A and C fail; their restarts wait 10 s
      yield* TestClock.adjust("5 seconds")
      expect(t.count("A.onStart")).toBe(1)
      expect(outcome(yield* bounded(t.root.stop))).toBe("ok")
      yield* TestClock.adjust("1 minute")
      expect(t.count("A.onStart")).toBe(1)
      expect(t.count("C.onStart")).toBe(1)
      expect(yield* Effect.all([t.a.started, t.b.started, t.c.started, t.sup.started])).toEqual([false, false, false, false])
      expect(t.ledger.problems(byService)).toEqual([])
    }))
})


describe("found by probing the lifecycle from outside", () => {
  it.effect("a stop during a hung dependencies step cuts it short; interrupting such a start rolls it back", () =>
    Effect.gen(function*() {
      let asked = 0
      const s = yield* Service.make("S", {
        stopTimeout: "1 second",
        dependencies: () => Effect.zipRight(Effect.sync(() => asked++), Effect.as(Effect.never, []))
      })
      const starting = yield* Effect.fork(s.start)
      yield* TestClock.adjust("1 millis")
      expect(asked).toBe(1)
      expect(outcome(yield* bounded(s.stop))).toBe("ok")
      expect(outcome(yield* settle(starting))).toBe("ok")
      expect(yield* s.state).toBe("shutdown")

      const again = yield* Effect.fork(s.start)
      yield* TestClock.adjust("1 millis")
      expect(asked).toBe(2)
      expect(outcome(yield* bounded(Fiber.interrupt(again)))).toBe("ok")
      expect(yield* s.state).toBe("shutdown")
      expect(yield* s.crashed).toBe(false)
    }))

  it.effect("a service that stops itself from its task is stopping before the task's next step", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const s = yield* Service.make("Self", {
        tasks: [Service.task((self) =>
          Effect.gen(function*() {
            yield* self.stop
            seen.push(`${yield* self.state} ${yield* self.shouldStop}`)
            yield* Effect.never
          }))]
      })
      yield* s.start
      yield* s.waitUntilStopped
      yield* TestClock.adjust("1 millis")
      expect(seen).toEqual(["stopping true"])
      expect(yield* s.state).toBe("shutdown")
    }))

  it.effect("a crash of a stopping tree also stops a child started under it after its stop took its children", () =>
    Effect.gen(function*() {
      let failures = 0
      const c = yield* Service.make("C", {
        tasks: [Service.task((self) => Effect.zipRight(self.sleep("10 seconds"), Effect.suspend(() => {
          failures++
          return Effect.fail("task failed")
        })))]
      })
      const r = yield* Service.make("R", { onShutdown: () => Effect.sleep("1 second") })
      yield* r.addDependency(c)
      yield* r.start
      const stopping = yield* Effect.fork(r.stop)
      yield* TestClock.adjust("1 millis")
      expect(yield* c.state).toBe("shutdown")
      yield* c.start // under a parent in its onShutdown: its stop has passed its children
      yield* r.crash("boom")
      expect(outcome(yield* settle(stopping))).toBe("ok")
      yield* TestClock.adjust("1 minute")
      expect(yield* c.started).toBe(false)
      expect(yield* c.crashed).toBe(true)
      expect(failures).toBe(0)
      expect((yield* c.tracebacks).size).toBe(0)
    }))
})

describe("a start during a restart's onRestart", () => {
  it.effect("starts the service; the restart then succeeds (the service runs, restarted once) instead of failing with AlreadyStarted", () =>
    Effect.gen(function*() {
      const s = yield* Service.make("S", { onRestart: () => Effect.sleep("1 second") })
      yield* s.start
      const restarting = yield* Effect.fork(s.restart)
      yield* TestClock.adjust("1 millis")
      expect(yield* s.state).toBe("shutdown")
      yield* s.start
      expect(outcome(yield* settle(restarting))).toBe("ok")
      expect(yield* s.state).toBe("running")
      expect(yield* s.restartCount).toBe(1)
      yield* s.stop
    }))
})

describe("a stop during a restart", () => {
  it.effect("during onRestart: the restart gives way (no start after it); the service stays stopped once the stop returned", () =>
    Effect.gen(function*() {
      let starts = 0
      const s = yield* Service.make("S", {
        onStart: () => Effect.sync(() => void starts++),
        onRestart: () => Effect.sleep("1 second")
      })
      yield* s.start
      const restarting = yield* Effect.fork(s.restart)
      yield* TestClock.adjust("1 millis")
      expect(yield* s.state).toBe("shutdown")
      // the stop returns once the restart has given way (when its onRestart ends)
      const stopping = yield* Effect.fork(s.stop)
      expect(outcome(yield* settle(restarting))).toBe("ok")
      expect(outcome(yield* settle(stopping))).toBe("ok")
      yield* TestClock.adjust("1 minute")
      expect(yield* s.state).toBe("shutdown")
      expect(starts).toBe(1)
      // a later restart starts it again
      yield* Effect.fork(s.restart)
      yield* TestClock.adjust("1 second")
      expect(yield* s.state).toBe("running")
      expect(starts).toBe(2)
      yield* s.stop
    }))

  it.effect("during the restart's own stop (a slow onStop): the stop joins it and the restart does not start the service after", () =>
    Effect.gen(function*() {
      let starts = 0
      const s = yield* Service.make("S", {
        onStart: () => Effect.sync(() => void starts++),
        onStop: () => Effect.sleep("1 second")
      })
      yield* s.start
      const restarting = yield* Effect.fork(s.restart)
      yield* TestClock.adjust("1 millis")
      expect(yield* s.state).toBe("stopping")
      const stopping = yield* Effect.fork(s.stop)
      yield* TestClock.adjust("1 second")
      expect(outcome(yield* settle(stopping))).toBe("ok")
      expect(outcome(yield* settle(restarting))).toBe("ok")
      expect(yield* s.state).toBe("shutdown")
      expect(starts).toBe(1)
    }))

  it.effect("a restart alone (and a supervisor's, which stops first) still starts the service", () =>
    Effect.gen(function*() {
      const s = yield* Service.make("S", { onRestart: () => Effect.sleep("1 second") })
      yield* s.start
      const restarting = yield* Effect.fork(s.restart)
      yield* TestClock.adjust("1 second")
      expect(outcome(yield* settle(restarting))).toBe("ok")
      expect(yield* s.state).toBe("running")
      yield* s.stop
      const again = yield* Effect.fork(s.restart)
      yield* TestClock.adjust("1 second")
      expect(outcome(yield* settle(again))).toBe("ok")
      expect(yield* s.state).toBe("running")
      yield* s.stop
    }))
})

describe("an interrupted stop of a starting service", () => {
  const turns = Effect.repeatN(Effect.yieldNow(), 50)

  it.effect("does not leave the tree half-stopped: the children it had not reached yet are stopped, the start rolled back", () =>
    Effect.gen(function*() {
      const leaf = yield* Service.make("Leaf", { onStart: () => Effect.never })
      const mid = yield* Service.make("Mid")
      yield* mid.addDependency(leaf)
      const other = yield* Service.make("Other", { onStop: () => Effect.sleep("1 second") })
      const starting = yield* Effect.fork(mid.start)
      yield* turns
      expect(yield* leaf.state).toBe("starting")
      yield* mid.addRuntimeDependency(other)
      expect(yield* other.state).toBe("running")
      // the stop reaches Other first (reverse order) and waits for its onStop
      const stopping = yield* Effect.fork(mid.stop)
      yield* turns
      const interrupting = yield* Effect.fork(Fiber.interrupt(stopping))
      yield* TestClock.adjust("1 second")
      yield* turns
      yield* Fiber.join(interrupting)
      yield* Fiber.await(starting)
      expect([yield* mid.state, yield* leaf.state, yield* other.state]).toEqual(["shutdown", "shutdown", "shutdown"])
    }))

  it.effect("a stop during a restart's onRestart returns at once (onRestart may wait for it); the restart gives way when onRestart ends", () =>
    Effect.gen(function*() {
      // onRestart waits for a stop of its own service asked by another service's task
      const asks = yield* Queue.unbounded<Deferred.Deferred<void>>()
      let target: Service.Service | undefined
      const x = yield* Service.make("X", {
        tasks: [Service.task(() =>
          Effect.forever(Effect.flatMap(Queue.take(asks), (d) => Effect.zipRight(target!.stop, Deferred.succeed(d, undefined)))))]
      })
      const s = yield* Service.make("S", {
        onRestart: () => Effect.flatMap(Deferred.make<void>(), (d) => Effect.zipRight(Queue.offer(asks, d), Deferred.await(d)))
      })
      target = s
      yield* x.start
      yield* s.start
      const restarting = yield* Effect.fork(s.restart)
      yield* TestClock.adjust("1 second")
      expect(outcome(yield* settle(restarting))).toBe("ok")
      expect(yield* s.state).toBe("shutdown")
      yield* x.stop
    }))

  it.effect("stops asked by the code the restart's own stop stops (a task's finalizer, onStop) are part of that stop: the service runs again", () =>
    Effect.gen(function*() {
      const s = yield* Service.make("S", {
        onStop: (self) => self.stop,
        tasks: [Service.task((self) => Effect.never.pipe(Effect.ensuring(self.stop)))]
      })
      yield* s.start
      yield* TestClock.adjust("1 second")
      expect(outcome(yield* settle(yield* Effect.fork(s.restart)))).toBe("ok")
      expect(yield* s.state).toBe("running")
      expect(yield* s.restartCount).toBe(1)
      yield* s.stop
    }))
})

describe("a service that stops itself while it starts", () => {
  it.effect("from onStart: shouldStop is true before the hook's next step; the start returns without error and rolls back", () =>
    Effect.gen(function*() {
      const seen: Array<boolean> = []
      const s = yield* Service.make("S", {
        onStart: (self) => Effect.zipRight(self.stop, Effect.flatMap(self.shouldStop, (stop) => Effect.sync(() => void seen.push(stop))))
      })
      expect(outcome(yield* bounded(s.start))).toBe("ok")
      yield* TestClock.adjust("1 millis")
      // the hook is cut at its next step (the stop it asked for wins its race), or sees true
      expect(seen).not.toContain(false)
      expect(yield* s.state).toBe("shutdown")
    }))
})

describe("a start during onRestart, then onRestart fails", () => {
  it.effect("the restart fails with StartFailed and the service, started meanwhile, is crashed and stopped, not left running", () =>
    Effect.gen(function*() {
      const s = yield* Service.make("S", {
        onRestart: () => Effect.zipRight(Effect.sleep("1 second"), Effect.fail("no"))
      })
      yield* s.start
      const restarting = yield* Effect.fork(s.restart)
      yield* TestClock.adjust("1 millis")
      yield* s.start
      const exit = yield* settle(restarting)
      expect(outcome(exit)).toBe("StartFailed")
      yield* TestClock.adjust("1 second")
      expect(yield* s.crashed).toBe(true)
      expect(yield* s.started).toBe(false)
    }))
})
