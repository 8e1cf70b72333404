import { describe, expect } from "@effect/vitest"
import { Cause, Deferred, type Duration, Effect, Exit, Fiber, TestClock } from "effect"
import { Service } from "@effect-mode/core"
import { it } from "./support/it.js"

describe("wait", () => {
  it.effect("returns Completed with the result", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S")
      yield* svc.start
      const r = yield* svc.wait(Effect.succeed(42))
      expect(r).toEqual({ _tag: "Completed", result: 42, stopped: false })
      yield* svc.stop
    }))

  it.effect("returns Stopped when the service stops meanwhile, and interrupts the effect", () =>
    Effect.gen(function*() {
      let interrupted = false
      const svc = yield* Service.make("S")
      yield* svc.start
      const waiting = yield* Effect.fork(
        svc.wait(Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => (interrupted = true)))))
      )
      yield* Effect.yieldNow()
      yield* svc.stop
      expect(yield* Fiber.join(waiting)).toEqual({ _tag: "Stopped", stopped: true })
      expect(interrupted).toBe(true)
    }))

  it.effect("returns TimedOut (not Stopped) on timeout", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S")
      yield* svc.start
      const waiting = yield* Effect.fork(svc.wait(Effect.never, { timeout: "2 seconds" }))
      yield* TestClock.adjust("2 seconds")
      expect(yield* Fiber.join(waiting)).toEqual({ _tag: "TimedOut", stopped: false })
      expect(yield* svc.state).toBe("running")
      yield* svc.stop
    }))

  it.effect("passes the effect's failure through", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S")
      yield* svc.start
      expect(yield* Effect.flip(svc.wait(Effect.fail("nope")))).toBe("nope")
      yield* svc.stop
    }))

  it.effect("returns Stopped at once on a stopped service", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S")
      yield* svc.start
      yield* svc.stop
      expect((yield* svc.wait(Effect.never))._tag).toBe("Stopped")
    }))
})

describe("waitFirst", () => {
  it.effect("returns only the winners and interrupts the losers", () =>
    Effect.gen(function*() {
      const interrupted: Array<number> = []
      const svc = yield* Service.make("S")
      yield* svc.start
      const slow = (i: number, d: Duration.DurationInput) =>
        Effect.as(Effect.sleep(d), i).pipe(Effect.onInterrupt(() => Effect.sync(() => interrupted.push(i))))
      const waiting = yield* Effect.fork(svc.waitFirst([slow(0, "3 seconds"), slow(1, "1 second"), slow(2, "2 seconds")]))
      yield* TestClock.adjust("1 second")
      const r = yield* Fiber.join(waiting)
      expect(r).toEqual({ done: [1], results: [1], stopped: false, timedOut: false })
      expect(interrupted.sort()).toEqual([0, 2])
      yield* svc.stop
    }))

  it.effect("reports every effect done at the same instant", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S")
      yield* svc.start
      const r = yield* svc.waitFirst([Effect.succeed("a"), Effect.never, Effect.succeed("c")])
      expect(r.done).toEqual([0, 2])
      expect(r.results).toEqual(["a", "c"])
      yield* svc.stop
    }))

  it.effect("stopped and timedOut", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S")
      yield* svc.start
      const timing = yield* Effect.fork(svc.waitFirst([Effect.never], { timeout: "1 second" }))
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(timing)).toEqual({ done: [], results: [], stopped: false, timedOut: true })
      const stopping = yield* Effect.fork(svc.waitFirst([Effect.never]))
      yield* Effect.yieldNow()
      yield* svc.stop
      expect(yield* Fiber.join(stopping)).toEqual({ done: [], results: [], stopped: true, timedOut: false })
    }))
})

describe("waitMany, waitForStopped, waitUntilStopped, sleep", () => {
  it.effect("waitMany completes with every result, or TimedOut", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S")
      yield* svc.start
      const all = yield* Effect.fork(svc.waitMany([Effect.as(Effect.sleep("1 second"), 1), Effect.succeed(2)]))
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(all)).toEqual({ _tag: "Completed", result: [1, 2], stopped: false })
      const late = yield* Effect.fork(svc.waitMany([Effect.never, Effect.succeed(2)], { timeout: "1 second" }))
      yield* TestClock.adjust("1 second")
      expect((yield* Fiber.join(late))._tag).toBe("TimedOut")
      yield* svc.stop
    }))

  it.effect("waitForStopped: false on timeout, true on stop", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S")
      yield* svc.start
      const first = yield* Effect.fork(svc.waitForStopped({ timeout: "1 second" }))
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(first)).toBe(false)
      const second = yield* Effect.fork(svc.waitForStopped({ timeout: "1 second" }))
      const until = yield* Effect.fork(svc.waitUntilStopped)
      yield* Effect.yieldNow()
      yield* svc.stop
      expect(yield* Fiber.join(second)).toBe(true)
      expect(Exit.isSuccess(yield* Fiber.await(until))).toBe(true)
    }))

  it.effect("sleep sleeps its duration, and wakes early on stop", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S")
      yield* svc.start
      const done = yield* Deferred.make<void>()
      yield* Effect.fork(Effect.zipRight(svc.sleep("10 seconds"), Deferred.succeed(done, undefined)))
      yield* TestClock.adjust("9 seconds")
      expect(yield* Deferred.isDone(done)).toBe(false)
      yield* TestClock.adjust("1 second")
      expect(yield* Deferred.isDone(done)).toBe(true)
      const sleeper = yield* Effect.fork(svc.sleep("1 hour"))
      yield* Effect.yieldNow()
      yield* svc.stop
      yield* Fiber.join(sleeper)
      expect(yield* svc.state).toBe("shutdown")
    }))
})

describe("the code after a sleep the stop woke", () => {
  it.effect("does not run (the task is interrupted there); a last flush goes in Effect.ensuring", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const svc = yield* Service.make("Flusher", {
        tasks: [Service.task((self) =>
          Effect.gen(function*() {
            while (!(yield* self.shouldStop)) yield* self.sleep("1 second")
            seen.push("after the loop")
          }).pipe(Effect.ensuring(Effect.sync(() => seen.push("flushed")))))]
      })
      yield* svc.start
      yield* TestClock.adjust("2500 millis")
      yield* svc.stop
      expect(seen).toEqual(["flushed"])
    }))
})

describe("bad durations", () => {
  it.effect("sleep and the waits' timeouts die naming the call, the service and the value", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("Waiter")
      const died = (exit: Exit.Exit<unknown, unknown>) => Exit.isFailure(exit) ? String(Cause.squash(exit.cause)) : "no failure"
      expect(died(yield* Effect.exit(svc.sleep("soon" as never)))).toMatch(/Invalid duration of sleep on service Waiter: "soon"/)
      expect(died(yield* Effect.exit(svc.sleep(-1)))).toMatch(/duration of sleep on service Waiter: "-1"/)
      expect(died(yield* Effect.exit(svc.wait(Effect.void, { timeout: -5 })))).toMatch(/timeout of wait on service Waiter: "-5"/)
      expect(died(yield* Effect.exit(svc.waitFirst([Effect.void], { timeout: "later" as never })))).toMatch(
        /timeout of waitFirst on service Waiter: "later"/
      )
      expect(died(yield* Effect.exit(svc.waitForStopped({ timeout: -1 })))).toMatch(/timeout of waitForStopped on service Waiter/)
    }))
})
