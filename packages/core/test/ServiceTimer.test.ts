import { describe, expect } from "@effect/vitest"
import { Cause, Clock, Duration, Effect, Metric, Option, Stream, TestClock } from "effect"
import { Service, Timer } from "@effect-mode/core"
import { it } from "./support/it.js"
import { type Captured, captureLogs } from "./support/logs.js"

/** A clock that wakes every sleep `lateMillis` late, on top of the TestClock. */
const lateClock = (base: Clock.Clock, lateMillis: number): Clock.Clock => ({
  [Clock.ClockTypeId]: Clock.ClockTypeId,
  unsafeCurrentTimeMillis: () => base.unsafeCurrentTimeMillis(),
  unsafeCurrentTimeNanos: () => base.unsafeCurrentTimeNanos(),
  currentTimeMillis: base.currentTimeMillis,
  currentTimeNanos: base.currentTimeNanos,
  sleep: (d) => base.sleep(Duration.sum(d, Duration.millis(lateMillis)))
})

/** A callback recording the Clock time of each call, then running `work`. */
const recorder = (calls: Array<number>, work: Effect.Effect<void, unknown> = Effect.void) => () =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => {
    calls.push(now)
    return work
  })

describe("Service.timer", () => {
  it.effect("the first call comes after one interval; N intervals give N calls", () =>
    Effect.gen(function*() {
      const calls: Array<number> = []
      const svc = yield* Service.make("Ticker", { tasks: [Service.timer("1 second", recorder(calls))] })
      yield* svc.start
      yield* TestClock.adjust("999 millis")
      expect(calls).toEqual([])
      yield* TestClock.adjust("1 milli")
      expect(calls).toEqual([1000])
      yield* TestClock.adjust("9 seconds")
      expect(calls).toEqual([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000])
      yield* svc.stop
      yield* TestClock.adjust("5 seconds")
      expect(calls).toHaveLength(10)
    }))

  it.effect("execFirst calls at once, then after every interval", () =>
    Effect.gen(function*() {
      const calls: Array<number> = []
      const svc = yield* Service.make("Eager", {
        tasks: [Service.timer("1 second", recorder(calls), { execFirst: true })]
      })
      yield* svc.start
      yield* Effect.yieldNow()
      expect(calls).toEqual([0])
      yield* TestClock.adjust("3 seconds")
      expect(calls).toEqual([0, 1000, 2000, 3000])
      yield* svc.stop
    }))

  it.effect("fixed delay: the callback's runtime adds to the period", () =>
    Effect.gen(function*() {
      const calls: Array<number> = []
      const svc = yield* Service.make("Slow", {
        tasks: [Service.timer("1 second", recorder(calls, Effect.sleep("300 millis")))]
      })
      yield* svc.start
      yield* TestClock.adjust("4 seconds")
      expect(calls).toEqual([1000, 2300, 3600])
      yield* svc.stop
    }))

  it.effect("an overlap is counted (metric) and logged when the callback outlasts the interval", () => {
    const lines: Array<Captured> = []
    return captureLogs(
      Effect.gen(function*() {
        const calls: Array<number> = []
        const svc = yield* Service.make("Overlapper", {
          tasks: [Service.timer("1 second", recorder(calls, Effect.sleep("1500 millis")), { name: "flush" })]
        })
        yield* svc.start
        yield* TestClock.adjust("7 seconds")
        expect(calls).toEqual([1000, 3500, 6000])
        const warnings = lines.filter((l) => l.level === "WARN")
        expect(warnings.map((l) => l.message)).toEqual([
          "Timer flush is overlapping (interval=1s runtime=1.5s)",
          "Timer flush is overlapping (interval=1s runtime=1.5s)"
        ])
        expect(warnings[0]!.annotations["service"]).toBe("Overlapper")
        const metrics = Timer.metrics("flush", { service: "Overlapper" })
        expect((yield* Metric.value(metrics.overlaps)).count).toBe(2)
        expect((yield* Metric.value(metrics.ticks)).count).toBe(3)
        yield* svc.stop
      }),
      lines
    )
  })

  it.effect("drift correction keeps the average period at the interval within maxDriftCorrection", () =>
    Effect.gen(function*() {
      const base = yield* Effect.clock
      const calls: Array<number> = []
      const svc = yield* Service.make("Drifty", {
        tasks: [Service.timer("1 second", recorder(calls), { maxDriftCorrection: "100 millis" })]
      })
      // Every wake-up of the service's timer comes 80 ms late.
      yield* Effect.withClock(svc.start, lateClock(base, 80))
      yield* TestClock.adjust("20 seconds")
      const periods = calls.slice(1).map((t, i) => t - calls[i]!)
      const average = periods.reduce((a, b) => a + b, 0) / periods.length
      expect(periods.length).toBeGreaterThan(10)
      expect(Math.abs(average - 1000)).toBeLessThanOrEqual(100)
      expect(average).toBeLessThan(1080) // the uncorrected period
      expect(periods.slice(0, 4)).toEqual([1000, 1080, 1000, 1080])
      yield* svc.stop
    }))

  it.effect("rate: fixed is drift-free (late wake-ups and the callback's runtime do not add up)", () =>
    Effect.gen(function*() {
      const base = yield* Effect.clock
      const calls: Array<number> = []
      const svc = yield* Service.make("Metronome", {
        tasks: [Service.timer("1 second", recorder(calls, Effect.sleep("300 millis")), { rate: "fixed" })]
      })
      yield* Effect.withClock(svc.start, lateClock(base, 50))
      yield* TestClock.adjust("4 seconds")
      expect(calls).toEqual([1050, 2050, 3050])
      yield* svc.stop
    }))

  it.effect("at present-day instants the clocks are read exactly: a fixed-rate timer stays on its grid and sleeps whole milliseconds", () =>
    Effect.gen(function*() {
      const start = Date.parse("2024-01-01T00:00:00Z")
      yield* TestClock.setTime(start)
      const at: Array<Array<number>> = [[], []]
      const tick = (list: Array<number>) => () => Effect.map(Clock.currentTimeMillis, (t) => void list.push(t - start))
      const svc = yield* Service.make("Grid", {
        tasks: [
          Service.timer("250 millis", tick(at[0]!), { rate: "fixed" }),
          Service.timer("333 millis", tick(at[1]!), { rate: "fixed" })
        ]
      })
      yield* svc.start
      yield* TestClock.adjust("2 seconds")
      yield* svc.stop
      // nanoseconds since 1970 are above 2^53: read as Number(nanos) / 1e6 they were off by a
      // fraction of a microsecond, and Math.ceil put a tick 1 ms late (501) and the clock at
      // fractional instants
      expect(at[0]).toEqual([250, 500, 750, 1000, 1250, 1500, 1750, 2000])
      expect(at[1]).toEqual([333, 666, 999, 1332, 1665, 1998])
    }))

  it.effect("rate: fixed does not pile up missed ticks behind a slow callback", () =>
    Effect.gen(function*() {
      const calls: Array<number> = []
      const svc = yield* Service.make("Behind", {
        tasks: [Service.timer("1 second", recorder(calls, Effect.sleep("2500 millis")), { rate: "fixed", name: "slow" })]
      })
      yield* svc.start
      yield* TestClock.adjust("9 seconds")
      // One late run at once, never a burst of the missed ones.
      expect(calls).toEqual([1000, 3500, 6000, 8500])
      expect((yield* Metric.value(Timer.metrics("slow", { service: "Behind" }).overlaps)).count).toBe(3)
      yield* svc.stop
    }))

  it.effect("rate: fixed with execFirst is anchored at the start", () =>
    Effect.gen(function*() {
      const calls: Array<number> = []
      const svc = yield* Service.make("Anchored", {
        tasks: [
          Service.timer("1 second", recorder(calls, Effect.sleep("300 millis")), { rate: "fixed", execFirst: true })
        ]
      })
      yield* svc.start
      yield* TestClock.adjust("3 seconds")
      expect(calls).toEqual([0, 1000, 2000, 3000])
      yield* svc.stop
    }))

  it.effect("onError: crash (the default) crashes the service with the callback's failure", () =>
    Effect.gen(function*() {
      const calls: Array<number> = []
      const svc = yield* Service.make("Fragile", {
        tasks: [
          Service.timer("1 second", () =>
            Effect.flatMap(Clock.currentTimeMillis, (now) => {
              calls.push(now)
              return calls.length === 2 ? Effect.fail("boom") : Effect.void
            }))
        ]
      })
      yield* svc.start
      yield* TestClock.adjust("5 seconds")
      expect(calls).toEqual([1000, 2000])
      expect(yield* svc.state).toBe("crashed")
      const reason = yield* svc.crashReason
      expect(Option.map(reason, Cause.failureOption)).toEqual(Option.some(Option.some("boom")))
      yield* svc.stop
    }))

  it.effect("onError: log logs the cause with the timer's name and keeps the schedule", () => {
    const lines: Array<Captured> = []
    return captureLogs(
      Effect.gen(function*() {
        const calls: Array<number> = []
        const svc = yield* Service.make("Sturdy", {
          tasks: [
            Service.timer("1 second", recorder(calls, Effect.fail("flaky")), { onError: "log", name: "poll" }),
            // Unnamed: the timer takes the task's name.
            Service.timer("1 second", () => Effect.die("bug"), { onError: "log" })
          ]
        })
        yield* svc.start
        yield* TestClock.adjust("3 seconds")
        expect(calls).toEqual([1000, 2000, 3000])
        expect(yield* svc.state).toBe("running")
        const errors = lines.filter((l) => l.level === "ERROR")
        expect(errors.filter((l) => l.message.startsWith("Timer poll failed"))).toHaveLength(3)
        expect(errors.find((l) => l.message.startsWith("Timer poll failed"))!.cause).toContain("flaky")
        expect(errors.filter((l) => l.message.startsWith("Timer task-2 failed"))).toHaveLength(3)
        yield* svc.stop
      }),
      lines
    )
  })

  it.effect("onError: log still ends on interruption (a stop during the callback)", () =>
    Effect.gen(function*() {
      const calls: Array<number> = []
      let interrupted = 0
      const svc = yield* Service.make("Busy", {
        tasks: [
          Service.timer(
            "1 second",
            recorder(calls, Effect.onInterrupt(Effect.sleep("1 hour"), () => Effect.sync(() => interrupted++))),
            { onError: "log" }
          )
        ]
      })
      yield* svc.start
      yield* TestClock.adjust("2 seconds")
      expect(calls).toEqual([1000])
      yield* svc.stop
      expect(interrupted).toBe(1)
      expect(yield* svc.state).toBe("shutdown")
      yield* TestClock.adjust("2 hours")
      expect(calls).toEqual([1000])
    }))

  it.effect("a stop signalled while the timer sleeps skips the call", () =>
    Effect.gen(function*() {
      const calls: Array<number> = []
      const svc = yield* Service.make("Late", {
        waitForShutdown: true,
        shutdownTimeout: "10 seconds",
        tasks: [Service.timer("1 second", recorder(calls))]
      })
      yield* svc.start
      // The stop waits for setShutdown (up to 10 s) before it interrupts the tasks: the
      // timer wakes meanwhile, sees the stop, and does not call.
      yield* Effect.fork(svc.stop)
      yield* TestClock.adjust("10 seconds")
      expect(calls).toEqual([])
    }))

  it.effect("metrics are labelled with the service path and the timer name", () =>
    Effect.gen(function*() {
      const child = yield* Service.make("Child", { tasks: [Service.timer("1 second", () => Effect.void, { name: "beat" })] })
      const parent = yield* Service.make("Parent", { dependencies: () => Effect.succeed([child]) })
      yield* parent.start
      yield* TestClock.adjust("3 seconds")
      const { drift, ticks } = Timer.metrics("beat", { service: "Parent/Child" })
      expect((yield* Metric.value(ticks)).count).toBe(3)
      expect((yield* Metric.value(drift)).count).toBe(3)
      yield* parent.stop
    }))

  it.effect("Timer.metricsEnabled = false: the timers started in that region record no metrics", () =>
    Effect.gen(function*() {
      const calls: Array<number> = []
      const svc = yield* Service.make("Unmeasured", {
        tasks: [Service.timer("1 second", recorder(calls), { name: "quiet" })]
      })
      yield* Effect.locally(svc.start, Timer.metricsEnabled, false)
      yield* TestClock.adjust("3 seconds")
      expect(calls).toHaveLength(3)
      expect((yield* Metric.value(Timer.metrics("quiet", { service: "Unmeasured" }).ticks)).count).toBe(0)
      yield* svc.stop
    }))

  it.plain("bad input throws when declared, naming the value", () => {
    expect(() => Service.timer("-1 seconds", () => Effect.void)).toThrow(/interval of Service.timer: "-1 seconds"/)
    expect(() => Service.timer(0, () => Effect.void, { name: "spin" })).toThrow(/interval of Service.timer spin: "0" is not a finite duration of at least 1 millisecond/)
    expect(() => Service.timer("1 second", function flush() { return Effect.void }, { maxDriftCorrection: "a bit" as Duration.DurationInput }))
      .toThrow(/maxDriftCorrection of Service.timer flush: "a bit"/)
    expect(() => Service.timer("1 second", () => Effect.void, { rate: "sometimes" as "fixed" })).toThrow(/"sometimes"/)
    expect(() => Service.timer("1 second", () => Effect.void, { rate: null as never })).toThrow(/Invalid rate of Service.timer: null/)
    expect(() => Service.timer("1 second", () => Effect.void, { execFirst: "yes" as never })).toThrow(
      /Invalid execFirst of Service.timer: "yes"/
    )
    expect(() => Service.timer("1 second", () => Effect.void, { onError: "ignore" as "log" })).toThrow(/"ignore"/)
  })
})

describe("a timer call that ends interrupted, not by a stop", () => {
  for (const onError of ["crash", "log"] as const) {
    it.effect(`ends that timer, as an interruption ends a task, and says so (onError: ${onError}); the service runs on`, () =>
      Effect.gen(function*() {
        const calls: Array<number> = []
        const logs: Array<Captured> = []
        const svc = yield* Service.make("I", {
          tasks: [Service.timer("1 second", () =>
            Effect.flatMap(Clock.currentTimeMillis, (t) => {
              calls.push(t)
              return calls.length === 1 ? Effect.interrupt : Effect.void
            }), { onError, name: "tick" })]
        })
        yield* captureLogs(Effect.gen(function*() {
          yield* svc.start
          yield* TestClock.adjust("4 seconds")
        }), logs)
        expect(calls).toEqual([1000])
        expect(yield* svc.state).toBe("running")
        expect(yield* svc.crashed).toBe(false)
        expect(logs.filter((l) => l.level === "WARN").map((l) => l.message)).toEqual([
          "Timer tick was interrupted, not by a stop: it ends (its service runs on)"
        ])
        expect(logs.filter((l) => l.level === "ERROR")).toEqual([])
        yield* svc.stop
      }))
  }
})

describe("itertimer", () => {
  /** A service whose task consumes `itertimer` and then releases its stop (`setShutdown`). */
  const consumer = (ticks: Array<number>, ended: { value: boolean }, interval: Duration.DurationInput = "1 second") =>
    Service.make("Consumer", {
      waitForShutdown: true,
      tasks: [
        Service.task((self) =>
          self.itertimer(interval, { name: "iter" }).pipe(
            Stream.runForEach(() => Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => ticks.push(now)))),
            Effect.zipRight(Effect.sync(() => {
              ended.value = true
            })),
            Effect.zipRight(self.setShutdown)
          )
        )
      ]
    })

  it.effect("yields after every interval and ends when the service stops", () =>
    Effect.gen(function*() {
      const ticks: Array<number> = []
      const ended = { value: false }
      const svc = yield* consumer(ticks, ended)
      yield* svc.start
      yield* TestClock.adjust("3 seconds")
      expect(ticks).toEqual([1000, 2000, 3000])
      // The stop waits for setShutdown, which the task only reaches once the stream ended.
      yield* svc.stop
      expect(ended.value).toBe(true)
      expect(ticks).toHaveLength(3)
      expect((yield* Metric.value(Timer.metrics("iter", { service: "Consumer" }).ticks)).count).toBeGreaterThanOrEqual(3)
    }))

  it.effect("ends when the service crashes", () =>
    Effect.gen(function*() {
      const ticks: Array<number> = []
      const ended = { value: false }
      const svc = yield* consumer(ticks, ended)
      yield* svc.start
      yield* TestClock.adjust("1 second")
      yield* svc.crash("boom")
      yield* svc.stop
      expect(ended.value).toBe(true)
      expect(yield* svc.state).toBe("crashed")
      expect(ticks).toEqual([1000])
    }))

  it.effect("ends at once when the service is already stopping", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("Gone")
      yield* svc.start
      yield* svc.stop
      const ticks = yield* Stream.runCollect(svc.itertimer("1 second"))
      expect(ticks.length).toBe(0)
    }))

  it.plain("a bad interval throws when called, naming the value", () =>
    Effect.runSync(Effect.gen(function*() {
      const svc = yield* Service.make("Bad")
      expect(() => svc.itertimer(-3)).toThrow(/interval of itertimer itertimer: "-3"/)
      expect(() => svc.itertimer("0 millis")).toThrow(/interval of itertimer itertimer: "0 millis" is not a finite duration of at least 1 millisecond/)
    })))
})
