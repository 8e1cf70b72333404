/**
 * Supervisors beyond SPEC section 6: backoff, stop during a restart, nesting, restart
 * types, simultaneous crashes, add / discard / insert, logs and metrics, bad options.
 */
import { describe, expect } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { Service, ServiceError, Supervisor } from "@effect-mode/core"
import { it } from "./support/it.js"
import { captureLogs, type Captured } from "./support/logs.js"
import {
  escalationsOf,
  eventually,
  fresh,
  isRunning,
  recorded,
  restartCounts,
  restarted,
  restartsOf,
  settle,
  states
} from "./support/supervisor.js"

const failureOf = (cause: Cause.Cause<unknown>): unknown => Option.getOrUndefined(Cause.failureOption(cause))

/** The pending TestClock sleeps, as delays from now. */
const pendingDelays = Effect.gen(function*() {
  const now = yield* TestClock.currentTimeMillis
  return Chunk.toReadonlyArray(yield* TestClock.sleeps()).map((t) => t - now)
})

const awaitSleep = (delay: number) =>
  eventually(Effect.map(pendingDelays, (ds) => ds.includes(delay)), `a pending sleep of ${delay} ms`)

describe("Supervisor backoff", () => {
  it.effect("waits exactly the schedule's delay before each restart, and starts over after a quiet run", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const a = yield* recorded("A", events)
      const sup = yield* Supervisor.oneForOne(fresh("Backoff"), [a], {
        maxRestarts: 10,
        within: "1 minute",
        backoff: Schedule.exponential("1 second"),
        resetBackoffAfter: "30 seconds"
      })
      yield* sup.start

      for (const [i, delay] of [[1, 1000], [2, 2000], [3, 4000]] as const) {
        events.length = 0
        yield* a.crash(`boom ${i}`)
        yield* awaitSleep(delay)
        expect(events).toEqual(["stop A"])
        yield* TestClock.adjust(delay - 1)
        yield* settle
        expect(yield* a.started).toBe(false)
        yield* TestClock.adjust(1)
        yield* restarted(a, i)
        expect(events).toEqual(["stop A", "start A"])
      }

      // 30 s without a crash: the next restart waits the first delay again
      yield* TestClock.adjust("30 seconds")
      yield* a.crash("after a quiet run")
      yield* awaitSleep(1000)
      yield* TestClock.adjust(1000)
      yield* restarted(a, 4)
      yield* sup.stop
    }))

  it.effect("a backoff schedule that ends makes the supervisor give up (MaxRestartsExceeded)", () =>
    Effect.gen(function*() {
      const a = yield* recorded("A", [])
      const sup = yield* Supervisor.oneForOne(fresh("Recurs"), [a], {
        maxRestarts: 100,
        backoff: Schedule.recurs(1)
      })
      const run = yield* Effect.fork(Service.run(sup))
      yield* eventually(isRunning(sup), "supervisor running")
      yield* a.crash("first")
      yield* restarted(a, 1)
      yield* a.crash("second")
      const error = yield* Effect.flip(Fiber.join(run))
      expect(failureOf((error as ServiceError.Crashed).cause)).toBeInstanceOf(ServiceError.MaxRestartsExceeded)
    }))
})

describe("Supervisor stopped while a child is mid-restart", () => {
  it.effect("during the backoff delay: stops cleanly and the child is never started again", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const [a, b] = yield* Effect.all([recorded("A", events), recorded("B", events)])
      const sup = yield* Supervisor.oneForOne(fresh("MidBackoff"), [a, b], {
        backoff: Schedule.spaced("10 seconds")
      })
      yield* sup.start
      events.length = 0
      yield* b.crash("boom")
      yield* awaitSleep(10_000)

      yield* sup.stop
      expect(events).toEqual(["stop B", "stop A"])
      yield* TestClock.adjust("1 minute")
      yield* settle
      expect(yield* Effect.all([a.started, b.started, sup.started])).toEqual([false, false, false])
      expect(yield* b.restartCount).toBe(0)
      expect(events).toEqual(["stop B", "stop A"])
    }))

  it.effect("while the child's start is in progress: the start is cut short and the child ends stopped", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      let starts = 0
      const slow = yield* Service.make("Slow", {
        onStart: (self) =>
          Effect.suspend(() => {
            events.push("start Slow")
            // the first start is quick, every restart is slow
            return ++starts === 1 ? Effect.void : self.sleep("1 hour")
          }),
        onStop: () => Effect.sync(() => events.push("stop Slow"))
      })
      const sup = yield* Supervisor.oneForOne(fresh("MidStart"), [slow])
      yield* sup.start
      yield* slow.crash("boom")
      yield* eventually(Effect.map(slow.state, (s) => s === "starting"), "Slow restarting")

      yield* sup.stop
      expect(yield* states([slow, sup])).toEqual(["shutdown", "shutdown"])
      yield* TestClock.adjust("2 hours")
      yield* settle
      expect(yield* slow.started).toBe(false)
      expect(events).toEqual(["start Slow", "stop Slow", "start Slow"])
    }))
})

describe("Supervisor escalation", () => {
  it.effect("nested supervisors escalate level by level up to Service.run of the root", () =>
    Effect.gen(function*() {
      const leaf = yield* recorded("Leaf", [])
      const inner = yield* Supervisor.oneForOne(fresh("Inner"), [leaf], { maxRestarts: 0 })
      const outer = yield* Supervisor.oneForOne(fresh("Outer"), [inner], { maxRestarts: 1 })
      const root = yield* Service.make(fresh("Root"))
      yield* root.addDependency(outer)
      const lines: Array<Captured> = []
      const run = yield* Effect.fork(captureLogs(Service.run(root), lines))
      yield* eventually(isRunning(root), "root running")
      const innerPath = yield* inner.beacon.path

      // level 1: the inner supervisor escalates, the outer one restarts it (and so the leaf)
      yield* leaf.crash("first")
      yield* restarted(inner, 1)
      yield* eventually(isRunning(leaf), "leaf running again")
      expect(yield* escalationsOf(innerPath)).toBe(1)
      expect(yield* restartsOf(innerPath)).toBe(1)
      expect(yield* root.state).toBe("running")

      // level 2: again, and the outer supervisor is over its intensity: the root ends
      yield* leaf.crash("second")
      const error = yield* Effect.flip(Fiber.join(run))
      expect(error._tag).toBe("Crashed")
      const reason = failureOf((error as ServiceError.Crashed).cause)
      expect(reason).toMatchObject({ _tag: "MaxRestartsExceeded", label: outer.label, maxRestarts: 1 })
      expect(yield* escalationsOf(innerPath)).toBe(2)
      expect(yield* escalationsOf(yield* outer.beacon.path)).toBe(1)
      expect(yield* Effect.all([leaf.started, inner.started, outer.started, root.started]))
        .toEqual([false, false, false, false])
      const escalated = lines.filter((l) => l.message.includes("escalating"))
      expect(escalated.map((l) => l.annotations["servicePath"])).toEqual([
        innerPath,
        innerPath,
        yield* outer.beacon.path
      ])
    }))
})

describe("Supervisor: failed restarts", () => {
  it.effect("a restart whose start fails counts as a crash: retried, then escalated", () =>
    Effect.gen(function*() {
      let starts = 0
      const a = yield* Service.make("A", {
        onStart: () => ++starts === 1 ? Effect.void : Effect.fail(`start ${starts} failed`)
      })
      const sup = yield* Supervisor.oneForOne(fresh("FailingStart"), [a], { maxRestarts: 3 })
      const run = yield* Effect.fork(Service.run(sup))
      yield* eventually(isRunning(sup), "supervisor running")
      yield* a.crash("boom")
      const error = yield* Effect.flip(Fiber.join(run))
      expect(failureOf((error as ServiceError.Crashed).cause)).toBeInstanceOf(ServiceError.MaxRestartsExceeded)
      // the first start, then 3 restarts that failed; the 4th attempt was refused
      expect(starts).toBe(4)
      expect(yield* a.started).toBe(false)
    }))
})

describe("Supervisor restart types", () => {
  it.effect("permanent: restarted after a normal stop too", () =>
    Effect.gen(function*() {
      const a = yield* recorded("A", [])
      const sup = yield* Supervisor.oneForOne(fresh("Permanent"), [a])
      yield* sup.start
      yield* a.stop
      yield* restarted(a, 1)
      expect(sup.restartTypeOf(a)).toBe("permanent")
      yield* sup.stop
    }))

  it.effect("transient: restarted after a crash, left stopped after a normal stop", () =>
    Effect.gen(function*() {
      const a = yield* recorded("A", [])
      const sup = yield* Supervisor.oneForOne(fresh("Transient"), [Supervisor.child(a, { restart: "transient" })])
      yield* sup.start
      yield* a.crash("boom")
      yield* restarted(a, 1)
      yield* a.stop
      yield* TestClock.adjust("1 minute")
      yield* settle
      expect(yield* a.state).toBe("shutdown")
      expect(yield* a.restartCount).toBe(1)
      expect((yield* sup.services).length).toBe(1)
      // a restart asked for by the user is not a normal stop
      yield* a.start
      yield* a.restart
      yield* settle
      expect(yield* states([a, sup])).toEqual(["running", "running"])
      expect(yield* a.restartCount).toBe(2)
      yield* sup.stop
    }))

  it.effect("temporary: never restarted, and no longer supervised once it crashed or stopped", () =>
    Effect.gen(function*() {
      const [a, b, c] = yield* Effect.all([recorded("A", []), recorded("B", []), recorded("C", [])])
      const sup = yield* Supervisor.oneForOne(fresh("Temporary"), [a, b, c], { restart: "temporary" })
      yield* sup.start
      yield* a.crash("boom")
      yield* eventually(Effect.map(sup.services, (s) => s.length === 2), "A dropped")
      expect(yield* a.started).toBe(false)
      yield* b.stop
      yield* eventually(Effect.map(sup.services, (s) => s.length === 1), "B dropped")
      expect(yield* restartCounts([a, b, c])).toEqual([0, 0, 0])
      expect((yield* sup.beacon.children).map((n) => n.service.label)).toEqual(["C"])
      yield* sup.stop
    }))

  it.effect("one-for-all: a temporary sibling is stopped with the group and not restarted", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const [a, b, c] = yield* Effect.all([recorded("A", events), recorded("B", events), recorded("C", events)])
      const sup = yield* Supervisor.oneForAll(fresh("AllTemp"), [a, Supervisor.child(b, { restart: "temporary" }), c])
      yield* sup.start
      events.length = 0
      yield* a.crash("boom")
      yield* restarted(c, 1)
      expect(events).toEqual(["stop C", "stop B", "stop A", "start A", "start C"])
      expect((yield* sup.services).map((s) => s.label)).toEqual(["A", "C"])
      expect(yield* b.started).toBe(false)
      yield* sup.stop
    }))

  it.plain("an invalid restart type throws, naming it", () => {
    expect(() => Supervisor.oneForOne("S", [], { restart: "sometimes" as any })).toThrow(/"sometimes"/)
  })
})

describe("Supervisor: two children crash at once", () => {
  const setup = (make: typeof Supervisor.oneForOne, events: Array<string>) =>
    Effect.gen(function*() {
      const services = yield* Effect.all(["A", "B", "C", "D"].map((l) => recorded(l, events)))
      const sup = yield* make(fresh("Twice"), services)
      yield* sup.start
      events.length = 0
      const [a, b, c, d] = services as [Service.Service, Service.Service, Service.Service, Service.Service]
      yield* Effect.all([b.crash("b"), d.crash("d")])
      return { sup, a, b, c, d }
    })

  it.effect("one-for-one: each crashed child is restarted once", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const { a, b, c, d, sup } = yield* setup(Supervisor.oneForOne, events)
      yield* restarted(b, 1)
      yield* restarted(d, 1)
      yield* settle
      expect(yield* restartCounts([a, b, c, d])).toEqual([0, 1, 0, 1])
      expect(events.filter((e) => e.startsWith("start")).sort()).toEqual(["start B", "start D"])
      yield* sup.stop
    }))

  it.effect("one-for-all: everything restarted once", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const { a, b, c, d, sup } = yield* setup(Supervisor.oneForAll, events)
      yield* restarted(d, 1)
      yield* settle
      expect(yield* restartCounts([a, b, c, d])).toEqual([1, 1, 1, 1])
      expect(events).toEqual(["stop D", "stop C", "stop B", "stop A", "start A", "start B", "start C", "start D"])
      yield* sup.stop
    }))

  it.effect("rest-for-one: from the first crashed child on, restarted once", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const { a, b, c, d, sup } = yield* setup(Supervisor.restForOne, events)
      yield* restarted(d, 1)
      yield* settle
      expect(yield* restartCounts([a, b, c, d])).toEqual([0, 1, 1, 1])
      expect(yield* states([a, b, c, d])).toEqual(["running", "running", "running", "running"])
      expect(events.slice(-3)).toEqual(["start B", "start C", "start D"])
      yield* sup.stop
    }))

  it.effect("forfeit one-for-one: both stopped, the others go on", () =>
    Effect.gen(function*() {
      const { a, b, c, d, sup } = yield* setup(Supervisor.forfeitOneForOne, [])
      yield* eventually(Effect.map(Effect.all([b.started, d.started]), (xs) => xs.every((x) => !x)), "B, D stopped")
      yield* settle
      expect(yield* states([a, b, c, d, sup])).toEqual(["running", "crashed", "running", "crashed", "running"])
      yield* sup.stop
    }))

  it.effect("forfeit one-for-all: all stopped once", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const { a, sup } = yield* setup(Supervisor.forfeitOneForAll, events)
      yield* eventually(Effect.map(a.started, (x) => !x), "A stopped")
      yield* settle
      expect([...events].sort()).toEqual(["stop A", "stop B", "stop C", "stop D"])
      expect(yield* sup.state).toBe("running")
      yield* sup.stop
    }))

  it.effect("crashing: one escalation, with the first cause", () =>
    Effect.gen(function*() {
      const services = yield* Effect.all(["A", "B"].map((l) => recorded(l, [])))
      const sup = yield* Supervisor.crashing(fresh("TwiceCrashing"), services)
      const run = yield* Effect.fork(Service.run(sup))
      yield* eventually(isRunning(sup), "supervisor running")
      yield* Effect.all(services.map((s) => s.crash(s.label)))
      const error = yield* Effect.flip(Fiber.join(run))
      expect(failureOf((error as ServiceError.Crashed).cause)).toBe("A")
      expect(yield* escalationsOf(sup.label)).toBe(1)
    }))
})

describe("Supervisor add, discard, insert", () => {
  it.effect("add while running starts the service and supervises it like the others", () =>
    Effect.gen(function*() {
      const [a, b] = yield* Effect.all([recorded("A", []), recorded("B", [])])
      const sup = yield* Supervisor.oneForOne(fresh("Add"), [a])
      yield* sup.start
      yield* sup.add(b)
      expect(yield* b.state).toBe("running")
      expect((yield* sup.services).map((s) => s.label)).toEqual(["A", "B"])
      yield* b.crash("boom")
      yield* restarted(b, 1)
      yield* sup.stop
      expect(yield* b.started).toBe(false)
    }))

  it.effect("discard stops supervising: not stopped, not restarted, out of the tree", () =>
    Effect.gen(function*() {
      const [a, b] = yield* Effect.all([recorded("A", []), recorded("B", [])])
      const sup = yield* Supervisor.oneForOne(fresh("Discard"), [a, b])
      yield* sup.start
      yield* sup.discard(b)
      expect(yield* b.state).toBe("running")
      expect((yield* sup.services).map((s) => s.label)).toEqual(["A"])
      expect(Option.isNone(yield* b.beacon.parent)).toBe(true)
      yield* sup.stop
      expect(yield* b.state).toBe("running")
      yield* b.stop
    }))

  it.effect("removeDependency on the supervisor takes the service out of supervision", () =>
    Effect.gen(function*() {
      const [a, b] = yield* Effect.all([recorded("A", []), recorded("B", [])])
      const sup = yield* Supervisor.oneForOne(fresh("Removed"), [a, b])
      yield* sup.start
      yield* sup.removeDependency(b)
      yield* eventually(Effect.map(sup.services, (s) => s.length === 1), "B no longer supervised")
      yield* settle
      expect(yield* b.state).toBe("shutdown")
      expect(sup.restartTypeOf(b)).toBeUndefined()
      yield* sup.stop
    }))

  it.effect("insert(index, service) puts it at index; the one there is stopped and detached", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const [a, b, c, x] = yield* Effect.all(["A", "B", "C", "X"].map((l) => recorded(l, events)))
      const sup = yield* Supervisor.oneForOne(fresh("Insert"), [a!, b!, c!])
      yield* sup.start
      events.length = 0
      yield* sup.insert(1, x!)
      expect((yield* sup.services).map((s) => s.label)).toEqual(["A", "X", "C"])
      expect((yield* sup.beacon.children).map((n) => n.service.label)).toEqual(["A", "X", "C"])
      expect(events).toEqual(["stop B", "start X"])
      expect(Option.isNone(yield* b!.beacon.parent)).toBe(true)
      const y = yield* recorded("Y", events)
      yield* sup.insert(3, y)
      expect((yield* sup.services).map((s) => s.label)).toEqual(["A", "X", "C", "Y"])
      const outOfRange = yield* Effect.exit(sup.insert(9, y))
      expect(Exit.isFailure(outOfRange) && String(Cause.squash(outOfRange.cause))).toContain("index 9")
      yield* sup.stop
      expect(events.slice(-4)).toEqual(["stop Y", "stop C", "stop X", "stop A"])
    }))
})

describe("Supervisor logs and metrics", () => {
  it.effect("each restart is logged with the service's path (the cause only once, by the crash), and counted", () =>
    Effect.gen(function*() {
      const lines: Array<Captured> = []
      yield* captureLogs(
        Effect.gen(function*() {
          const a = yield* recorded("A", [])
          const sup = yield* Supervisor.oneForOne(fresh("Logged"), [a])
          yield* sup.start
          yield* a.crash(new Error("disk full"))
          yield* restarted(a, 1)
          const path = yield* a.beacon.path
          const restart = lines.find((l) => l.message.includes(`Restarting ${path}`))
          expect(restart?.level).toBe("WARN")
          expect(restart?.cause).not.toContain("disk full")
          const atError = lines.filter((l) => l.level === "ERROR" || l.level === "WARN")
          expect(atError.filter((l) => `${l.message} ${l.cause}`.includes("disk full")).length).toBe(1)
          expect(yield* restartsOf(path)).toBe(1)
          yield* sup.stop
        }),
        lines
      )
    }))

  it.plain("bad options throw when the supervisor is declared, naming the value", () => {
    expect(() => Supervisor.oneForOne("S", [], { maxRestarts: -1 })).toThrow(/maxRestarts of supervisor S: "-1"/)
    expect(() => Supervisor.oneForOne("S", [], { maxRestarts: 1.5 })).toThrow(/"1.5"/)
    expect(() => Supervisor.oneForOne("S", [], { within: "soon" as any })).toThrow(/within of supervisor S: "soon"/)
    expect(() => Supervisor.oneForOne("S", [], { within: 0 })).toThrow(/within of supervisor S/)
  })
})
