import { describe, expect } from "@effect/vitest"
import { Chunk, Clock, Duration, Effect, Fiber, Metric, Stream, TestClock } from "effect"
import { Timer } from "@effect-mode/core"
import { it } from "./support/it.js"
import { type Captured, captureLogs } from "./support/logs.js"

/**
 * A clock that wakes every sleep `skewMillis` late (or early, when negative), on top of
 * the TestClock: time still only moves with `TestClock.adjust`, so runs are exact.
 */
const skewedClock = (base: Clock.Clock, skewMillis: number): Clock.Clock => ({
  [Clock.ClockTypeId]: Clock.ClockTypeId,
  unsafeCurrentTimeMillis: () => base.unsafeCurrentTimeMillis(),
  unsafeCurrentTimeNanos: () => base.unsafeCurrentTimeNanos(),
  currentTimeMillis: base.currentTimeMillis,
  currentTimeNanos: base.currentTimeNanos,
  sleep: (d) => base.sleep(Duration.millis(Math.max(0, Duration.toMillis(d) + skewMillis)))
})

/** Runs `n` ticks of `timer` on a forked fiber, recording the Clock time of each (and running `consumer`). */
const collect = (timer: Timer.Timer, n: number, consumer: Effect.Effect<void> = Effect.void) =>
  timer.ticks.pipe(
    Stream.take(n),
    Stream.mapEffect(() => Effect.zipLeft(Clock.currentTimeMillis, consumer)),
    Stream.runCollect,
    Effect.map(Chunk.toArray),
    Effect.fork
  )

describe("Timer.make", () => {
  it.effect("first tick after one interval, then one per interval", () =>
    Effect.gen(function*() {
      const timer = yield* Timer.make("1 second", { name: "first" })
      const fiber = yield* collect(timer, 3)
      yield* TestClock.adjust("999 millis")
      expect((yield* timer.stats).iteration).toBe(0)
      yield* TestClock.adjust("1 milli")
      expect((yield* timer.stats).iteration).toBe(1)
      yield* TestClock.adjust("2 seconds")
      expect(yield* Fiber.join(fiber)).toEqual([1000, 2000, 3000])
      expect(yield* timer.stats).toEqual({ iteration: 3, drifting: 0, driftingEarly: 0, driftingLate: 0, overlaps: 0 })
    }))

  it.effect("ticks is pull-based: nothing sleeps until the consumer asks for the next tick", () =>
    Effect.scoped(Effect.gen(function*() {
      const timer = yield* Timer.make("1 second")
      const pull = yield* Stream.toPull(timer.ticks)
      const pending = Effect.map(TestClock.sleeps(), Chunk.size)
      expect(yield* pending).toBe(0)
      const first = yield* Effect.fork(pull)
      yield* TestClock.adjust("1 second")
      expect(Chunk.toArray(yield* Fiber.join(first))).toEqual([Duration.seconds(1)])
      // The consumer holds the tick for a while: the timer does not sleep meanwhile.
      yield* TestClock.adjust("5 seconds")
      expect(yield* pending).toBe(0)
      const second = yield* Effect.fork(pull)
      yield* Effect.yieldNow()
      expect(yield* pending).toBe(1)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(second)
      expect(yield* Clock.currentTimeMillis).toBe(7000)
    })))

  it.effect("fixed delay: the next interval starts when the consumer is done", () =>
    Effect.gen(function*() {
      const timer = yield* Timer.make("1 second")
      const fiber = yield* collect(timer, 3, Effect.sleep("300 millis"))
      yield* TestClock.adjust("10 seconds")
      expect(yield* Fiber.join(fiber)).toEqual([1000, 2300, 3600])
      expect((yield* timer.stats).overlaps).toBe(0)
    }))

  it.effect("a consumer that outlasts the interval is an overlap: counted, logged, measured", () => {
    const lines: Array<Captured> = []
    return captureLogs(
      Effect.gen(function*() {
        const timer = yield* Timer.make("1 second", { name: "slowpoke" })
        const fiber = yield* collect(timer, 3, Effect.sleep("1500 millis"))
        yield* TestClock.adjust("10 seconds")
        expect(yield* Fiber.join(fiber)).toEqual([1000, 3500, 6000])
        expect((yield* timer.stats).overlaps).toBe(2)
        const warnings = lines.filter((l) => l.level === "WARN")
        expect(warnings.map((l) => l.message)).toEqual([
          "Timer slowpoke is overlapping (interval=1s runtime=1.5s)",
          "Timer slowpoke is overlapping (interval=1s runtime=1.5s)"
        ])
        const metrics = Timer.metrics("slowpoke")
        expect((yield* Metric.value(metrics.overlaps)).count).toBe(2)
        expect((yield* Metric.value(metrics.ticks)).count).toBe(3)
      }),
      lines
    )
  })

  it.effect("late wake-ups are corrected by at most maxDriftCorrection (clock 50 ms late)", () =>
    Effect.gen(function*() {
      const base = yield* Effect.clock
      const timer = yield* Timer.make("1 second", { name: "late50", maxDriftCorrection: "100 millis" })
      const fiber = yield* collect(timer, 6).pipe(Effect.withClock(skewedClock(base, 50)))
      yield* TestClock.adjust("10 seconds")
      const ticks = yield* Fiber.join(fiber)
      // 1000 + 50 late; the next sleep is shortened by the 50 ms drift, and so on (mode's rule).
      expect(ticks).toEqual([1050, 2050, 3100, 4100, 5150, 6150])
      const average = ticks[5]! / 6
      expect(average).toBe(1025)
      expect(average - 1000).toBeLessThanOrEqual(100) // within maxDriftCorrection
      expect(average - 1000).toBeLessThan(50) // better than no correction at all
      // 50 ms is under mode's logging threshold (30 % of 1 s): nothing counted as drifting.
      expect((yield* timer.stats).drifting).toBe(0)
    }))

  it.effect("a large drift is clamped to maxDriftCorrection, counted and logged at info", () => {
    const lines: Array<Captured> = []
    return captureLogs(
      Effect.gen(function*() {
        const base = yield* Effect.clock
        const timer = yield* Timer.make("1 second", { name: "late400" })
        const fiber = yield* collect(timer, 4).pipe(Effect.withClock(skewedClock(base, 400)))
        yield* TestClock.adjust("10 seconds")
        const ticks = yield* Fiber.join(fiber)
        // After the first, every sleep is the interval minus the 100 ms cap, and wakes 400 ms late.
        expect(ticks).toEqual([1400, 2700, 4000, 5300])
        expect(yield* timer.stats).toEqual({ iteration: 4, drifting: 4, driftingEarly: 0, driftingLate: 4, overlaps: 0 })
        const info = lines.filter((l) => l.level === "INFO").map((l) => l.message)
        expect(info).toHaveLength(4)
        expect(info[0]).toBe("Timer late400 woke up too late, with a drift of +400ms runtime=0ms sleeptime=1.4s")
        expect(info[1]).toBe("Timer late400 woke up too late, with a drift of +300ms runtime=0ms sleeptime=1.3s")
      }),
      lines
    )
  })

  it.effect("early wake-ups count as driftingEarly", () => {
    const lines: Array<Captured> = []
    return captureLogs(
      Effect.gen(function*() {
        const base = yield* Effect.clock
        const timer = yield* Timer.make("1 second", { name: "early" })
        const fiber = yield* collect(timer, 2).pipe(Effect.withClock(skewedClock(base, -400)))
        yield* TestClock.adjust("10 seconds")
        expect(yield* Fiber.join(fiber)).toEqual([600, 1300])
        const stats = yield* timer.stats
        expect([stats.drifting, stats.driftingEarly, stats.driftingLate]).toEqual([2, 2, 0])
        expect(lines.filter((l) => l.level === "INFO")[0]?.message).toBe(
          "Timer early woke up too early, with a drift of -400ms runtime=0ms sleeptime=600ms"
        )
      }),
      lines
    )
  })

  it.effect("drift under one-second intervals is only logged at debug", () => {
    const lines: Array<Captured> = []
    return captureLogs(
      Effect.gen(function*() {
        const base = yield* Effect.clock
        const timer = yield* Timer.make("500 millis", { name: "fast" })
        const fiber = yield* collect(timer, 2).pipe(Effect.withClock(skewedClock(base, 400)))
        yield* TestClock.adjust("10 seconds")
        yield* Fiber.join(fiber)
        expect((yield* timer.stats).drifting).toBe(0)
        expect(lines.filter((l) => l.level === "INFO")).toEqual([])
        const debug = lines.filter((l) => l.level === "DEBUG").map((l) => l.message)
        expect(debug[0]).toBe(
          "Timer fast woke up - iteration=1 time_spent_sleeping=900ms drift=-400ms new_interval=400ms since_epoch=900ms"
        )
      }),
      lines
    )
  })

  it.effect("drift is recorded in the drift histogram", () =>
    Effect.gen(function*() {
      const base = yield* Effect.clock
      const timer = yield* Timer.make("1 second", { name: "histogrammed" })
      const fiber = yield* collect(timer, 3).pipe(Effect.withClock(skewedClock(base, 20)))
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      const drift = yield* Metric.value(Timer.metrics("histogrammed").drift)
      expect(drift.count).toBe(3)
      expect(drift.max).toBeCloseTo(0.02)
      expect(drift.min).toBe(0)
    }))

  it.effect("each run of ticks starts over with a full interval", () =>
    Effect.gen(function*() {
      const timer = yield* Timer.make("1 second")
      const a = yield* collect(timer, 1)
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(a)).toEqual([1000])
      yield* TestClock.adjust("3 seconds")
      const b = yield* collect(timer, 1)
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(b)).toEqual([5000])
      expect((yield* timer.stats).overlaps).toBe(0)
    }))

  it.effect("two runs of ticks at once keep time each on their own; the stats add both up", () =>
    Effect.gen(function*() {
      const timer = yield* Timer.make("1 second")
      const a = yield* collect(timer, 3)
      yield* TestClock.adjust("500 millis")
      const b = yield* collect(timer, 3)
      yield* TestClock.adjust("5 seconds")
      expect(yield* Fiber.join(a)).toEqual([1000, 2000, 3000])
      expect(yield* Fiber.join(b)).toEqual([1500, 2500, 3500])
      expect(yield* timer.stats).toEqual({ iteration: 6, drifting: 0, driftingEarly: 0, driftingLate: 0, overlaps: 0 })
      const c = yield* collect(timer, 1)
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(c)).toEqual([6500])
      expect((yield* timer.stats).iteration).toBe(7)
    }))

  it.plain("bad input throws when declared, naming the value", () => {
    expect(() => Timer.make("-1 seconds")).toThrow(/interval of timer timer: "-1 seconds"/)
    // a zero interval would tick without ever letting the event loop run
    expect(() => Timer.make(0)).toThrow(/interval of timer timer: "0" is not a finite duration of at least 1 millisecond/)
    expect(() => Timer.make("1 second", { name: "" })).toThrow(/Invalid timer name: "" is not a non-empty string/)
    expect(() => Timer.make("soon" as Duration.DurationInput, { name: "x" })).toThrow(/"soon"/)
    expect(() => Timer.make("1 second", { name: "y", maxDriftCorrection: -5 })).toThrow(
      /maxDriftCorrection of timer y: "-5"/
    )
  })
})
