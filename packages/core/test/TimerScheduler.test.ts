/**
 * The timer scheduler (internal/timerScheduler.ts): a running service's `Service.timer` is an
 * entry of its clock's scheduler between ticks, not a fiber; the scheduler goes with its last
 * timer; timers due at the same instant fire in registration order; a timer due earlier than
 * the one the driver sleeps for wakes it.
 */
import { describe, expect } from "@effect/vitest"
import { Clock, Effect, Fiber, TestClock } from "effect"
import { Service, ServiceGraph } from "@effect-mode/core"
import type { ServiceImpl } from "../src/internal/service/impl.js"
import { registeredCount } from "../src/internal/timerScheduler.js"
import { it } from "./support/it.js"

const runFibers = (svc: Service.Service): number => (svc as ServiceImpl).run?.fibers.length ?? -1

describe("timer scheduler", () => {
  it.effect("a running service's timer holds no fiber between ticks; the scheduler goes with the last timer", () =>
    Effect.gen(function*() {
      let calls = 0
      const svc = yield* Service.make("Ticker", {
        tasks: [Service.timer("1 second", () => Effect.sync(() => calls++), { name: "tick" })]
      })
      yield* svc.start
      yield* Effect.yieldNow()
      expect(runFibers(svc)).toBe(0)
      expect(yield* registeredCount).toBe(1)
      yield* TestClock.adjust("3 seconds")
      expect(calls).toBe(3)
      expect(runFibers(svc)).toBe(0)
      yield* svc.stop
      expect(yield* registeredCount).toBe(0)
      yield* TestClock.adjust("3 seconds")
      expect(calls).toBe(3)
    }))

  it.effect("a tick in progress is a fiber of the run, interrupted by the stop", () =>
    Effect.gen(function*() {
      let started = 0
      const svc = yield* Service.make("Slow", {
        tasks: [Service.timer("1 second", () => Effect.zipRight(Effect.sync(() => started++), Effect.never), { name: "slow" })]
      })
      yield* svc.start
      yield* TestClock.adjust("1 second")
      expect(started).toBe(1)
      expect(runFibers(svc)).toBe(1)
      yield* svc.stop
      expect(yield* registeredCount).toBe(0)
    }))

  it.effect("timers due at the same instant fire in registration order, every tick", () =>
    Effect.gen(function*() {
      const order: Array<string> = []
      const timer = (name: string) => Service.timer("1 second", () => Effect.sync(() => order.push(name)), { name })
      const a = yield* Service.make("A", { tasks: [timer("a1"), timer("a2")] })
      const b = yield* Service.make("B", { tasks: [timer("b1")] })
      yield* a.start
      yield* b.start
      yield* TestClock.adjust("2 seconds")
      expect(order).toEqual(["a1", "a2", "b1", "a1", "a2", "b1"])
      yield* a.stop
      yield* b.stop
    }))

  it.effect("a timer due before the instant the scheduler sleeps until still fires on time", () =>
    Effect.gen(function*() {
      const calls: Array<string> = []
      const record = (name: string) => () =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => calls.push(`${name}@${now}`)))
      const slow = yield* Service.make("Slow", { tasks: [Service.timer("10 seconds", record("slow"))] })
      const fast = yield* Service.make("Fast", { tasks: [Service.timer("1 second", record("fast"))] })
      yield* slow.start
      yield* TestClock.adjust("500 millis")
      yield* fast.start
      yield* TestClock.adjust("2 seconds")
      expect(calls).toEqual(["fast@1500", "fast@2500"])
      yield* TestClock.adjust("8 seconds")
      expect(calls.filter((c) => c.startsWith("slow"))).toEqual(["slow@10000"])
      yield* fast.stop
      yield* slow.stop
      expect(yield* registeredCount).toBe(0)
    }))

  it.effect("each clock has its own scheduler: a timer on a clock of its own is not moved by the TestClock", () =>
    Effect.gen(function*() {
      let calls = 0
      const svc = yield* Service.make("Ticker", { tasks: [Service.timer("1 second", () => Effect.sync(() => calls++))] })
      const fiber = yield* Effect.fork(Effect.withClock(Effect.zipRight(svc.start, Effect.never), Clock.make()))
      yield* Effect.yieldNow()
      yield* TestClock.adjust("5 seconds")
      expect(calls).toBe(0)
      yield* svc.stop
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("a running crontab holds no fiber between runs and runs at every matching minute", () =>
    Effect.gen(function*() {
      const runs: Array<number> = []
      const svc = yield* Service.make("Cron", {
        tasks: [Service.crontab("* * * * *", () => Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => runs.push(now))), { timezone: "UTC" })]
      })
      yield* svc.start
      yield* Effect.yieldNow()
      expect(runFibers(svc)).toBe(0)
      expect(yield* registeredCount).toBe(1)
      yield* TestClock.adjust("3 minutes")
      expect(runs).toEqual([60_000, 120_000, 180_000])
      yield* svc.stop
      expect(yield* registeredCount).toBe(0)
    }))

  it.effect("many timers of different intervals: each on its own grid; at one instant, in the order they were scheduled", () =>
    Effect.gen(function*() {
      const intervals = [700, 300, 1100, 300, 500, 1300, 200, 900, 500, 1700, 100, 600, 300, 1000, 800, 400, 1900, 250, 350, 1500]
      const calls: Array<readonly [number, number]> = []
      const tasks = intervals.map((ms, i) =>
        Service.timer(`${ms} millis`, () => Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => calls.push([now, i]))), { name: `t${i}` }))
      const svc = yield* Service.make("Many", { tasks })
      yield* svc.start
      yield* TestClock.adjust("10 seconds")
      // The model: same-instant ticks fire in the order they were scheduled (FIFO), the first
      // ticks in declaration order; each schedules its next tick when it ran.
      const queue = intervals.map((ms, i) => ({ due: ms, seq: i, i }))
      let seq = queue.length
      const expected: Array<readonly [number, number]> = []
      for (;;) {
        queue.sort((a, b) => a.due - b.due || a.seq - b.seq)
        const first = queue[0]!
        if (first.due > 10_000) break
        expected.push([first.due, first.i])
        queue[0] = { due: first.due + intervals[first.i]!, seq: seq++, i: first.i }
      }
      expect(calls).toEqual(expected)
      yield* svc.stop
      expect(yield* registeredCount).toBe(0)
    }))

  it.effect("a waiting timer is listed as a Scheduled task in the snapshot and the tracebacks", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("Reporter", {
        tasks: [Service.timer("1 second", () => Effect.void, { name: "report" })]
      })
      yield* svc.start
      yield* TestClock.adjust("1500 millis")
      const snap = yield* ServiceGraph.snapshot(svc)
      expect(snap.tasks.map((t) => [t.name, t.status])).toEqual([["report", "Scheduled"]])
      expect(snap.tasks[0]!.ageMillis).toBe(1500)
      const lines = yield* (svc as ServiceImpl).tracebacks
      expect([...lines.keys()]).toEqual(["report"])
      expect([...lines.values()][0]).toBe("status=Scheduled age=1.5s")
      yield* svc.stop
    }))
})
