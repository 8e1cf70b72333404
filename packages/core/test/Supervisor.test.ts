/**
 * The supervisor scenarios of SPEC section 6: each strategy, replacement, restart intensity.
 */
import { describe, expect } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { Service, ServiceError, Supervisor } from "@effect-mode/core"
import { it } from "./support/it.js"
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

const three = (events: Array<string>) =>
  Effect.all([recorded("A", events), recorded("B", events), recorded("C", events)])

const failureOf = (cause: Cause.Cause<unknown>): unknown => Option.getOrUndefined(Cause.failureOption(cause))

describe("Supervisor strategies", () => {
  it.effect("one-for-one restarts only the crashed child", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const [a, b, c] = yield* three(events)
      const sup = yield* Supervisor.oneForOne(fresh("OneForOne"), [a, b, c])
      yield* sup.start
      expect(events).toEqual(["start A", "start B", "start C"])
      events.length = 0

      yield* b.crash("boom")
      yield* restarted(b, 1)

      expect(events).toEqual(["stop B", "start B"])
      expect(yield* restartCounts([a, b, c])).toEqual([0, 1, 0])
      expect(yield* states([a, b, c, sup])).toEqual(["running", "running", "running", "running"])
      expect(yield* restartsOf(`${sup.label}/B`)).toBe(1)
      yield* sup.stop
      expect(events.slice(2)).toEqual(["stop C", "stop B", "stop A"])
    }))

  it.effect("one-for-all stops all (in reverse) and restarts all (in order)", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const [a, b, c] = yield* three(events)
      const sup = yield* Supervisor.oneForAll(fresh("OneForAll"), [a, b, c])
      yield* sup.start
      events.length = 0

      yield* b.crash("boom")
      yield* restarted(c, 1)

      expect(events).toEqual(["stop C", "stop B", "stop A", "start A", "start B", "start C"])
      expect(yield* restartCounts([a, b, c])).toEqual([1, 1, 1])
      expect(yield* states([a, b, c])).toEqual(["running", "running", "running"])
      yield* sup.stop
    }))

  it.effect("rest-for-one restarts the crashed child and those after it", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const [a, b, c] = yield* three(events)
      const d = yield* recorded("D", events)
      const sup = yield* Supervisor.restForOne(fresh("RestForOne"), [a, b, c, d])
      yield* sup.start
      events.length = 0

      yield* b.crash("boom")
      yield* restarted(d, 1)

      expect(events).toEqual(["stop D", "stop C", "stop B", "start B", "start C", "start D"])
      expect(yield* restartCounts([a, b, c, d])).toEqual([0, 1, 1, 1])
      yield* sup.stop
    }))

  it.effect("forfeit one-for-one stops the crashed child and does not restart it", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const [a, b, c] = yield* three(events)
      const sup = yield* Supervisor.forfeitOneForOne(fresh("Forfeit"), [a, b, c])
      yield* sup.start
      events.length = 0

      yield* b.crash("boom")
      yield* eventually(Effect.map(b.started, (started) => !started), "B stopped")
      yield* TestClock.adjust("1 minute")
      yield* settle

      expect(events).toEqual(["stop B"])
      expect(yield* states([a, b, c, sup])).toEqual(["running", "crashed", "running", "running"])
      expect(yield* b.started).toBe(false)
      expect(yield* restartCounts([a, b, c])).toEqual([0, 0, 0])
      expect((yield* sup.services).length).toBe(3)
      yield* sup.stop
      expect(events).toEqual(["stop B", "stop C", "stop A"])
    }))

  it.effect("forfeit one-for-all stops every child and restarts none", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const [a, b, c] = yield* three(events)
      const sup = yield* Supervisor.forfeitOneForAll(fresh("ForfeitAll"), [a, b, c])
      yield* sup.start
      events.length = 0

      yield* b.crash("boom")
      yield* eventually(Effect.map(a.started, (started) => !started), "A stopped")
      yield* TestClock.adjust("1 minute")
      yield* settle

      expect(events).toEqual(["stop C", "stop B", "stop A"])
      expect(yield* states([a, b, c, sup])).toEqual(["shutdown", "crashed", "shutdown", "running"])
      expect(yield* restartCounts([a, b, c])).toEqual([0, 0, 0])
      yield* sup.stop
      expect(events.length).toBe(3)
    }))

  it.effect("crashing escalates: the supervisor crashes with the child's cause and Service.run fails", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const [a, b] = yield* Effect.all([recorded("A", events), recorded("B", events)])
      const sup = yield* Supervisor.crashing(fresh("Crashing"), [a, b])
      const run = yield* Effect.fork(Service.run(sup))
      yield* eventually(isRunning(sup), "supervisor running")

      yield* b.crash("boom")
      const error = yield* Effect.flip(Fiber.join(run))

      expect(error._tag).toBe("Crashed")
      expect(failureOf((error as ServiceError.Crashed).cause)).toBe("boom")
      expect(yield* states([a, b, sup])).toEqual(["crashed", "crashed", "crashed"])
      expect(yield* Effect.all([a.started, b.started, sup.started])).toEqual([false, false, false])
      expect(yield* restartCounts([a, b])).toEqual([0, 0])
      expect(yield* escalationsOf(sup.label)).toBe(1)
    }))
})

describe("Supervisor replacement", () => {
  it.effect("replacement(service, index) puts a new service at that index; the old one is stopped and detached", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const [a, b, c] = yield* three(events)
      const calls: Array<readonly [string, number]> = []
      const sup = yield* Supervisor.oneForOne(fresh("Replacing"), [a, b, c], {
        replacement: (crashed, index) =>
          Effect.suspend(() => {
            calls.push([crashed.label, index])
            return recorded(`${crashed.label}'`, events)
          })
      })
      yield* sup.start
      events.length = 0

      yield* b.crash("boom")
      yield* eventually(Effect.map(sup.services, (s) => s[1] !== b), "B replaced")
      const services = yield* sup.services
      const b2 = services[1]!
      yield* eventually(isRunning(b2), "B' running")

      expect(calls).toEqual([["B", 1]])
      expect(services.map((s) => s.label)).toEqual(["A", "B'", "C"])
      expect(events).toEqual(["stop B", "start B'"])
      expect(yield* b.started).toBe(false)
      expect(Option.isNone(yield* b.beacon.parent)).toBe(true)
      expect((yield* sup.beacon.children).map((n) => n.service.label)).toEqual(["A", "B'", "C"])
      expect(yield* b2.beacon.path).toBe(`${sup.label}/B'`)

      // the new service is supervised like the others
      yield* b2.crash("again")
      yield* eventually(Effect.map(sup.services, (s) => s[1]!.label === "B''"), "B' replaced")
      expect(calls).toEqual([["B", 1], ["B'", 1]])
      yield* sup.stop
    }))
})

describe("Supervisor restart intensity", () => {
  const crashTimes = (child: Service.Service, times: number) =>
    Effect.gen(function*() {
      for (let i = 1; i <= times; i++) {
        yield* child.crash(`boom ${i}`)
        yield* restarted(child, i)
      }
    })

  it.effect("N crashes within `within` are restarted, the N+1th escalates with MaxRestartsExceeded", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const a = yield* recorded("A", events)
      const sup = yield* Supervisor.oneForOne(fresh("Intensity"), [a], { maxRestarts: 3, within: "10 seconds" })
      const run = yield* Effect.fork(Service.run(sup))
      yield* eventually(isRunning(sup), "supervisor running")

      yield* crashTimes(a, 3)
      yield* TestClock.adjust("9 seconds")
      expect(yield* sup.state).toBe("running")
      expect(yield* escalationsOf(sup.label)).toBe(0)

      yield* a.crash("one too many")
      const error = yield* Effect.flip(Fiber.join(run))
      expect(error._tag).toBe("Crashed")
      const reason = failureOf((error as ServiceError.Crashed).cause)
      expect(reason).toBeInstanceOf(ServiceError.MaxRestartsExceeded)
      expect(reason).toMatchObject({ label: sup.label, maxRestarts: 3, withinMillis: 10_000 })
      expect(yield* a.restartCount).toBe(3)
      expect(yield* sup.started).toBe(false)
      expect(yield* escalationsOf(sup.label)).toBe(1)
    }))

  it.effect("the window slides: crashes spread wider than `within` never escalate", () =>
    Effect.gen(function*() {
      const a = yield* recorded("A", [])
      const sup = yield* Supervisor.oneForOne(fresh("Sliding"), [a], { maxRestarts: 2, within: "10 seconds" })
      const run = yield* Effect.fork(Service.run(sup))
      yield* eventually(isRunning(sup), "supervisor running")
      // crashes at 0, 6, 12, 18, 24 s: never more than 2 in any 10 s
      for (let i = 1; i <= 5; i++) {
        yield* a.crash(`boom ${i}`)
        yield* restarted(a, i)
        yield* TestClock.adjust("6 seconds")
      }
      expect(yield* sup.state).toBe("running")
      // three crashes within 10 s (at 35, 36 and 37 s): the third escalates
      yield* TestClock.adjust("5 seconds")
      yield* a.crash("x")
      yield* restarted(a, 6)
      yield* TestClock.adjust("1 second")
      yield* a.crash("y")
      yield* restarted(a, 7)
      yield* TestClock.adjust("1 second")
      expect(yield* sup.state).toBe("running")
      yield* a.crash("z")
      const error = yield* Effect.flip(Fiber.join(run))
      expect(failureOf((error as ServiceError.Crashed).cause)).toBeInstanceOf(ServiceError.MaxRestartsExceeded)
      expect(yield* a.restartCount).toBe(7)
    }))

  it.effect("defaults: 3 restarts in any 5 seconds", () =>
    Effect.gen(function*() {
      expect(Supervisor.defaultMaxRestarts).toBe(3)
      const a = yield* recorded("A", [])
      const sup = yield* Supervisor.oneForOne(fresh("Defaults"), [a])
      const run = yield* Effect.fork(Service.run(sup))
      yield* eventually(isRunning(sup), "supervisor running")
      yield* crashTimes(a, 3)
      yield* TestClock.adjust("4999 millis")
      yield* a.crash("fourth")
      const error = yield* Effect.flip(Fiber.join(run))
      expect(failureOf((error as ServiceError.Crashed).cause)).toMatchObject({ maxRestarts: 3, withinMillis: 5000 })
    }))

  it.effect("maxRestarts: 0 escalates the first crash", () =>
    Effect.gen(function*() {
      const a = yield* recorded("A", [])
      const sup = yield* Supervisor.oneForOne(fresh("Zero"), [a], { maxRestarts: 0 })
      const run = yield* Effect.fork(Service.run(sup))
      yield* eventually(isRunning(sup), "supervisor running")
      yield* a.crash("first")
      const error = yield* Effect.flip(Fiber.join(run))
      expect(failureOf((error as ServiceError.Crashed).cause)).toBeInstanceOf(ServiceError.MaxRestartsExceeded)
      expect(yield* a.restartCount).toBe(0)
    }))
})

describe("Supervisor discard during the supervisor's start", () => {
  it.effect("a child whose start is part of the supervisor's is refused (it hung the supervisor's start and stop); one started already is discarded", () =>
    Effect.gen(function*() {
      const turns = Effect.repeatN(Effect.yieldNow(), 50)
      const a = yield* Service.make("A")
      const c = yield* Service.make("C", { onStarted: () => Effect.never })
      const sup = yield* Supervisor.oneForOne("Sup", [a, c])
      const starting = yield* Effect.fork(sup.start)
      yield* turns
      expect(yield* c.state).toBe("starting")
      const refused = yield* Effect.exit(sup.discard(c))
      expect(Exit.isFailure(refused) && Cause.pretty(refused.cause)).toMatch(
        /discard: C cannot leave supervisor Sup while it is starting \(its start holds C\)/
      )
      // A is running: it leaves, as it is
      yield* sup.discard(a)
      expect(yield* a.beacon.path).toBe("A")
      const stopping = yield* Effect.fork(sup.stop)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(stopping)
      yield* Fiber.await(starting)
      expect([yield* sup.state, yield* c.state, yield* a.state]).toEqual(["shutdown", "shutdown", "running"])
      yield* a.stop
    }))
})

describe("a group restart in flight and the slots taken out meanwhile", () => {
  const slow = (label: string) =>
    Service.make(label, { onStart: () => Effect.sleep("500 millis"), tasks: [Service.task(() => Effect.never)] })
  const turns = Effect.repeatN(Effect.yieldNow(), 500)
  const settleFor = (steps: number) =>
    Effect.gen(function*() {
      for (let i = 0; i < steps; i++) {
        yield* TestClock.adjust("500 millis")
        yield* turns
      }
    })

  for (const strategy of ["oneForAll", "restForOne"] as const) {
    for (const how of ["discard", "insert"] as const) {
      it.effect(`${strategy}: a service ${how === "discard" ? "discarded" : "replaced with insert"} while the restart runs is not started again by it`, () =>
        Effect.gen(function*() {
          const [a, b, c] = [yield* slow("A"), yield* slow("B"), yield* slow("C")]
          const sup = yield* Supervisor[strategy]("Sup", [a, b, c], { maxRestarts: 10, within: "1 minute" })
          const starting = yield* Effect.fork(sup.start)
          yield* settleFor(4)
          yield* Fiber.join(starting)
          yield* a.crash("boom")
          yield* turns
          yield* TestClock.adjust("100 millis")
          yield* turns // C is stopped, A is restarting
          expect(yield* c.state).toBe("shutdown")
          if (how === "discard") yield* sup.discard(c)
          else yield* sup.insert(2, yield* Service.make("F"))
          yield* settleFor(10)
          expect(yield* c.state).toBe("shutdown")
          expect(yield* c.beacon.parent).toEqual(Option.none())
          expect((yield* sup.services).map((s) => s.label)).toEqual(how === "discard" ? ["A", "B"] : ["A", "B", "F"])
          expect(yield* a.state).toBe("running")
          yield* sup.stop
        }))
    }
  }

  it.effect("replacement: no service is made for a slot discarded while the restart runs", () =>
    Effect.gen(function*() {
      const indexes: Array<number> = []
      const quick = (label: string) => Service.make(label, { onStart: () => Effect.sleep("20 millis") })
      const [a, b] = [yield* quick("A"), yield* quick("B")]
      const sup = yield* Supervisor.restForOne("Sup", [a, b], {
        maxRestarts: 10,
        within: "1 minute",
        replacement: (_, i) => Effect.tap(quick(`New${i}`), () => Effect.sync(() => indexes.push(i)))
      })
      const starting = yield* Effect.fork(sup.start)
      yield* TestClock.adjust("100 millis")
      yield* Fiber.join(starting)
      yield* a.crash("boom")
      yield* TestClock.adjust("1 millis")
      yield* sup.discard(b)
      yield* TestClock.adjust("1 second")
      yield* turns
      expect(indexes).toEqual([0])
      expect((yield* sup.services).map((s) => s.label)).toEqual(["New0"])
      expect((yield* sup.beacon.children).map((n) => n.service.label)).toEqual(["New0"])
      yield* sup.stop
    }))
})

describe("Supervisor.restarts and restartCount", () => {
  it.effect("count the same restarts, those whose start failed included", () =>
    Effect.gen(function*() {
      let starts = 0
      const label = fresh("Flaky")
      const a = yield* Service.make(label, {
        onStart: () => Effect.suspend(() => ++starts === 2 ? Effect.fail("not yet") : Effect.void)
      })
      const sup = yield* Supervisor.oneForOne(fresh("Sup"), [a], { maxRestarts: 100, within: "1 minute" })
      yield* sup.start
      yield* a.crash("boom")
      for (let i = 0; i < 5; i++) {
        yield* Effect.repeatN(Effect.yieldNow(), 200)
        yield* TestClock.adjust("1 second")
      }
      expect(yield* a.state).toBe("running")
      expect(yield* a.restartCount).toBe(2)
      expect(yield* restartsOf(`${sup.label}/${label}`)).toBe(2)
      yield* sup.stop
    }))
})

describe("a supervised child stopped by someone else while it starts", () => {
  it.effect("is restarted, as a permanent child stopped while it runs is", () =>
    Effect.gen(function*() {
      const slow = yield* Service.make("Slow", { onStart: () => Effect.sleep("500 millis"), tasks: [Service.task(() => Effect.never)] })
      const sup = yield* Supervisor.oneForOne(fresh("Sup"), [], { maxRestarts: 3, within: "10 seconds" })
      yield* sup.start
      const adding = yield* Effect.fork(sup.add(slow))
      yield* Effect.repeatN(Effect.yieldNow(), 500)
      yield* TestClock.adjust("100 millis")
      expect(yield* slow.state).toBe("starting")
      yield* slow.stop
      for (let i = 0; i < 10; i++) {
        yield* TestClock.adjust("1 second")
        yield* Effect.repeatN(Effect.yieldNow(), 500)
      }
      yield* Fiber.await(adding)
      expect([yield* slow.state, yield* sup.state]).toEqual(["running", "running"])
      expect(yield* slow.restartCount).toBe(1)
      yield* sup.stop
    }))
})

describe("a supervised child whose own restart fails", () => {
  for (const strategy of ["oneForOne", "oneForAll", "restForOne"] as const) {
    it.effect(`${strategy}: is handled as a crash by its supervisor, not left crashed`, () =>
      Effect.gen(function*() {
        let starts = 0
        const a = yield* Service.make("A", {
          onStart: () => Effect.suspend(() => ++starts === 2 ? Effect.fail("x") : Effect.void),
          tasks: [Service.task(() => Effect.never)]
        })
        const sup = yield* Supervisor[strategy](fresh("Sup"), [a], { maxRestarts: 10, within: "1 minute" })
        yield* sup.start
        const failed = yield* Effect.exit(a.restart)
        expect(Exit.isFailure(failed)).toBe(true)
        for (let i = 0; i < 5; i++) {
          yield* Effect.repeatN(Effect.yieldNow(), 500)
          yield* TestClock.adjust("1 second")
        }
        expect([yield* a.state, yield* sup.state, starts]).toEqual(["running", "running", 3])
        yield* sup.stop
      }))
  }
})
