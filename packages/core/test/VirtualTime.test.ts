/**
 * `Testing.virtualTime` (issue 13): a drop-in for the TestClock (both the `Clock` that
 * `Effect.sleep` reads and the `TestClock` accessors), quiescence that covers yielding
 * fibers, wake order and determinism, effect-mode's timers, crontabs, backoffs and deadlines
 * on it, a 200-service tree over ten virtual minutes, auto-advance, and stall detection.
 */
import { describe, expect } from "@effect/vitest"
import {
  Cause,
  Chunk,
  Clock,
  Cron,
  Duration,
  Effect,
  Fiber,
  Logger,
  LogLevel,
  Option,
  Ref,
  Schedule,
  Stream,
  TestClock
} from "effect"
import { Service, Supervisor, Testing, Timer } from "@effect-mode/core"
import { it } from "./support/it.js"
import { fresh, recorded } from "./support/supervisor.js"

const { virtualTime } = Testing

/** Lets every fiber of the world run until all are idle (an adjust by nothing). */
const quiesce = TestClock.adjust(0)

const iso = (millis: number) => new Date(millis).toISOString()

describe("a drop-in for the TestClock", () => {
  it.effect("a program that ends interrupted gives its interrupted exit (by itself, or by a fiber it forked)", () =>
    Effect.gen(function*() {
      const itself = yield* Effect.exit(virtualTime(Effect.interrupt))
      expect(itself._tag === "Failure" && Cause.isInterruptedOnly(itself.cause)).toBe(true)
      const byChild = yield* Effect.exit(virtualTime(
        Effect.withFiberRuntime((main) =>
          Effect.zipRight(
            Effect.forkDaemon(Effect.zipRight(Effect.sleep("1 second"), Fiber.interruptFork(main))),
            Effect.sleep("1 hour")
          )
        ),
        { autoAdvance: true }
      ))
      expect(byChild._tag === "Failure" && Cause.isInterruptedOnly(byChild.cause)).toBe(true)
    }))

  it.effect("Effect.sleep (the Clock service) is woken by TestClock.adjust (the TestClock accessors)", () =>
    virtualTime(Effect.gen(function*() {
      const woke = yield* Effect.fork(Effect.zipRight(Effect.sleep("1 second"), Clock.currentTimeMillis))
      yield* quiesce
      expect(Chunk.toArray(yield* TestClock.sleeps())).toEqual([1000])
      yield* TestClock.adjust("999 millis")
      expect(woke.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 milli")
      expect(yield* Fiber.join(woke)).toBe(1000)
      expect(yield* TestClock.currentTimeMillis).toBe(1000)
      expect(yield* Clock.currentTimeMillis).toBe(1000)
      expect(Chunk.toArray(yield* TestClock.sleeps())).toEqual([])
    })))

  it.effect("the TestClock of it.effect is replaced inside and left alone outside; time starts at its time", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(5000)
      const outer = yield* TestClock.testClock()
      const inside = yield* virtualTime(Effect.gen(function*() {
        const start = yield* Clock.currentTimeMillis
        const clock = yield* TestClock.testClock()
        const tagged = Option.getOrUndefined(yield* Effect.serviceOption(TestClock.TestClock))
        yield* TestClock.adjust("1 hour")
        return { start, same: clock === outer, tagged: tagged === clock, end: yield* Clock.currentTimeMillis }
      }))
      expect(inside).toEqual({ start: 5000, same: false, tagged: true, end: 5000 + 3_600_000 })
      expect(yield* TestClock.currentTimeMillis).toBe(5000)
    }))

  it.effect("interrupted sleeps are dropped: a thousand timeouts that did not fire leave one pending sleep", () =>
    virtualTime(Effect.gen(function*() {
      const woke = yield* Effect.fork(Effect.zipRight(Effect.sleep("30 minutes"), Clock.currentTimeMillis))
      for (let i = 0; i < 1000; i++) {
        expect(yield* Effect.timeoutOption(Effect.as(Effect.sleep(Duration.millis(i)), i), Duration.minutes(1 + (i % 50)))).toEqual(Option.some(i))
      }
      const now = yield* Clock.currentTimeMillis
      expect(Chunk.toArray(yield* TestClock.sleeps())).toEqual([1_800_000])
      yield* TestClock.adjust(1_800_000 - now)
      expect(yield* Fiber.join(woke)).toBe(1_800_000)
    }), { autoAdvance: true }))

  it.effect("a fiber forked before the run keeps the outer TestClock; joining it inside is a stall that says so", () =>
    Effect.gen(function*() {
      const before = yield* Effect.fork(Effect.zipRight(Effect.sleep("1 second"), Clock.currentTimeMillis))
      yield* virtualTime(TestClock.adjust("1 hour"))
      expect(before.unsafePoll()).toBeNull()
      const error = yield* Effect.flip(virtualTime(Fiber.join(before)))
      expect(error.message).toContain("a fiber forked before virtualTime")
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(before)).toBe(1000)
    }))

  it.effect("setTime, save, adjustWith, Effect.timeout, Schedule and Cron", () =>
    virtualTime(Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2024-01-01T00:00:00Z"))
      const restore = yield* TestClock.save()
      yield* TestClock.adjust("1 day")
      yield* restore
      expect(iso(yield* Clock.currentTimeMillis)).toBe("2024-01-01T00:00:00.000Z")

      const slow = yield* Effect.fork(Effect.timeoutOption(Effect.sleep("5 minutes"), "1 minute"))
      yield* TestClock.adjust("1 minute")
      expect(yield* Fiber.join(slow)).toEqual(Option.none())

      expect(yield* TestClock.adjustWith(Effect.as(Effect.sleep("10 seconds"), "done"), "10 seconds")).toBe("done")

      const spaced: Array<string> = []
      const cron: Array<string> = []
      const record = (into: Array<string>) => Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => into.push(iso(t))))
      const a = yield* Effect.fork(Effect.repeat(record(spaced), Schedule.spaced("20 minutes")))
      const hourly = yield* Effect.fork(Effect.repeat(record(cron), Schedule.cron(Cron.unsafeParse("0 * * * *"))))
      yield* TestClock.adjust("2 hours")
      yield* Fiber.interrupt(a)
      yield* Fiber.interrupt(hourly)
      expect(spaced).toEqual([
        "2024-01-01T00:01:10.000Z",
        "2024-01-01T00:21:10.000Z",
        "2024-01-01T00:41:10.000Z",
        "2024-01-01T01:01:10.000Z",
        "2024-01-01T01:21:10.000Z",
        "2024-01-01T01:41:10.000Z",
        "2024-01-01T02:01:10.000Z"
      ])
      // the cron schedule runs once at once, then on each hour
      expect(cron).toEqual(["2024-01-01T00:01:10.000Z", "2024-01-01T01:00:00.000Z", "2024-01-01T02:00:00.000Z"])
      // interrupted sleeps are gone (Effect's TestClock keeps them)
      expect(Chunk.toArray(yield* TestClock.sleeps())).toEqual([])
    })))
})

describe("quiescence, order and determinism", () => {
  it.effect("an adjust waits for fibers that yield (Effect.yieldNow, long loops) before moving time", () =>
    virtualTime(Effect.gen(function*() {
      const seen = yield* Ref.make<Array<string>>([])
      const note = (what: string) => Effect.flatMap(Clock.currentTimeMillis, (t) => Ref.update(seen, (s) => [...s, `${t} ${what}`]))
      // 5,000 yields, then a sleep: the sleep is only registered after many scheduler turns
      yield* Effect.fork(Effect.zipRight(Effect.repeatN(Effect.yieldNow(), 5000), Effect.zipRight(Effect.sleep("1 second"), note("yielder"))))
      // a long synchronous loop: Effect makes it yield every 2,048 operations
      yield* Effect.fork(Effect.zipRight(Effect.forEach(Array.from({ length: 20_000 }), () => Effect.void, { discard: true }), Effect.zipRight(Effect.sleep("1 second"), note("looper"))))
      yield* TestClock.adjust("1 second")
      expect((yield* Ref.get(seen)).sort()).toEqual(["1000 looper", "1000 yielder"])
    })))

  it.effect("a fiber that never waits does not hold an adjust forever: time moves every busyTasks tasks", () =>
    virtualTime(Effect.gen(function*() {
      let spins = 0
      const spinner = yield* Effect.fork(Effect.forever(Effect.suspend(() => {
        spins++
        return Effect.yieldNow()
      })))
      const sleeper = yield* Effect.fork(Effect.as(Effect.sleep("1 second"), "woke"))
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(sleeper)).toBe("woke")
      expect(yield* Clock.currentTimeMillis).toBe(1000)
      yield* Fiber.interrupt(spinner)
      // time moved only after the spinner had run for a while, never before the world was busy
      expect(spins).toBeGreaterThanOrEqual(5_000)
    }), { busyTasks: 10_000 }))

  it.effect("a service whose task never waits keeps spinning while an adjust moves time past it", () =>
    virtualTime(Effect.gen(function*() {
      let calls = 0
      const svc = yield* Service.make("Busy", {
        tasks: [Service.task(() => Effect.forever(Effect.suspend(() => {
          calls++
          return Effect.yieldNow()
        })), { name: "spin" })]
      })
      yield* svc.start
      yield* TestClock.adjust("1 second")
      expect(calls).toBeGreaterThan(0)
      expect(yield* svc.state).toBe("running")
      yield* svc.stop
      expect(yield* svc.state).toBe("shutdown")
    }), { busyTasks: 10_000 }))

  it.effect("sleeps due at the same instant wake in the order they began", () =>
    virtualTime(Effect.gen(function*() {
      const order: Array<string> = []
      for (const name of ["a", "b", "c", "d"]) {
        // each begins at a different time, all end at 3 s
        yield* Effect.fork(Effect.zipRight(Effect.sleep(Duration.millis(3000 - (name.charCodeAt(0) - 97) * 500)), Effect.sync(() => order.push(name))))
        yield* TestClock.adjust("500 millis")
      }
      yield* TestClock.adjust("5 seconds")
      expect(order).toEqual(["a", "b", "c", "d"])
    })))

  /** Timers, a fixed-rate timer, a crontab, a supervisor restarting a crashing child: (time, event) pairs. */
  const busyProgram = Effect.gen(function*() {
    const events: Array<string> = []
    const at = (what: string) => Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => events.push(`${t} ${what}`)))
    const crashy = yield* Service.make(fresh("Crashy"), {
      onStart: () => at("crashy start"),
      tasks: [Service.task(() => Effect.zipRight(Effect.sleep("2500 millis"), Effect.fail("boom")))]
    })
    const sup = yield* Supervisor.oneForOne(fresh("Sup"), [crashy], {
      maxRestarts: 100,
      backoff: Schedule.exponential("300 millis")
    })
    const workers = yield* Effect.forEach(["w1", "w2", "w3"], (name, i) =>
      Service.make(fresh(name), {
        tasks: [
          Service.timer(Duration.millis(700 + 300 * i), () => at(`${name} tick`)),
          Service.timer("1 second", () => Effect.zipRight(at(`${name} fixed`), Effect.sleep("10 millis")), { rate: "fixed" }),
          Service.task(() => Effect.forever(Effect.zipRight(Effect.yieldNow(), Effect.sleep(Duration.millis(111 * (i + 1))))))
        ]
      }))
    const root = yield* Service.make(fresh("Root"), {
      tasks: [Service.crontab("* * * * * *", () => at("cron"))]
    })
    for (const w of [sup, ...workers]) yield* root.addDependency(w)
    yield* root.start
    yield* TestClock.adjust("30 seconds")
    yield* root.stop
    return events
  })

  it.effect("the same program gives the same (virtual time, event) sequence on every run", () =>
    Effect.gen(function*() {
      const runs = yield* Effect.forEach([1, 2, 3], () => virtualTime(busyProgram))
      expect(runs[0]!.length).toBeGreaterThan(150)
      expect(runs[0]!.filter((e) => e.endsWith("crashy start")).length).toBeGreaterThan(3)
      expect(runs[1]).toEqual(runs[0])
      expect(runs[2]).toEqual(runs[0])
    }))
})

describe("effect-mode's timers, crontabs, backoffs and deadlines", () => {
  /** A clock that wakes every sleep `skewMillis` late, on top of the virtual clock. */
  const lateClock = (base: Clock.Clock, skewMillis: number): Clock.Clock => ({
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => base.unsafeCurrentTimeMillis(),
    unsafeCurrentTimeNanos: () => base.unsafeCurrentTimeNanos(),
    currentTimeMillis: base.currentTimeMillis,
    currentTimeNanos: base.currentTimeNanos,
    sleep: (d) => base.sleep(Duration.millis(Duration.toMillis(d) + skewMillis))
  })

  it.effect("Timer drift correction: wake-ups 50 ms late are corrected on the next sleep", () =>
    virtualTime(Effect.gen(function*() {
      const base = yield* Effect.clock
      const timer = yield* Timer.make("1 second", { name: "late50", maxDriftCorrection: "100 millis" })
      const ticks = yield* timer.ticks.pipe(
        Stream.take(6),
        Stream.mapEffect(() => Clock.currentTimeMillis),
        Stream.runCollect,
        Effect.map(Chunk.toArray),
        Effect.withClock(lateClock(base, 50)),
        Effect.fork
      )
      yield* TestClock.adjust("10 seconds")
      expect(yield* Fiber.join(ticks)).toEqual([1050, 2050, 3100, 4100, 5150, 6150])
    })))

  it.effect("Service.timer: drift correction (80 ms late), fixed delay adds the runtime, fixed rate does not", () =>
    virtualTime(Effect.gen(function*() {
      const base = yield* Effect.clock
      const drifty: Array<number> = []
      const delay: Array<number> = []
      const fixed: Array<number> = []
      const record = (into: Array<number>, work: Effect.Effect<void> = Effect.void) => () =>
        Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.zipRight(Effect.sync(() => into.push(t)), work))
      const late = yield* Service.make(fresh("Drifty"), {
        tasks: [Service.timer("1 second", record(drifty), { maxDriftCorrection: "100 millis" })]
      })
      const svc = yield* Service.make(fresh("Timers"), {
        tasks: [
          Service.timer("1 second", record(delay, Effect.sleep("300 millis"))),
          Service.timer("1 second", record(fixed, Effect.sleep("300 millis")), { rate: "fixed" })
        ]
      })
      yield* Effect.withClock(late.start, lateClock(base, 80))
      yield* svc.start
      yield* TestClock.adjust("4 seconds")
      yield* svc.stop
      expect(delay).toEqual([1000, 2300, 3600])
      expect(fixed).toEqual([1000, 2000, 3000, 4000])
      yield* TestClock.adjust("6 seconds")
      yield* late.stop
      const periods = drifty.slice(1).map((t, i) => t - drifty[i]!)
      expect(periods.slice(0, 4)).toEqual([1000, 1080, 1000, 1080])
    })))

  it.effect("a crontab across the spring-forward and fall-back days (America/New_York)", () =>
    virtualTime(Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2024-03-10T04:30:00Z"))
      const calls: Array<string> = []
      const svc = yield* Service.make(fresh("Cron"), {
        tasks: [
          Service.crontab("30 1 * * *", () => Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => calls.push(iso(t)))), {
            timezone: "America/New_York"
          }),
          Service.crontab("0 2 * * *", () => Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => calls.push(`02:00 ${iso(t)}`))), {
            timezone: "America/New_York"
          })
        ]
      })
      yield* svc.start
      yield* TestClock.adjust("1 day")
      expect(calls).toEqual([
        "2024-03-10T06:30:00.000Z", // 01:30 EST
        "02:00 2024-03-10T07:00:00.000Z" // 02:00 does not exist: once, just after the gap (03:00 EDT)
      ])
      yield* TestClock.setTime(Date.parse("2024-11-03T04:00:00Z")) // 00:00 EDT (running every day in between)
      calls.length = 0
      yield* TestClock.adjust("1 day")
      expect(calls).toEqual([
        "2024-11-03T05:30:00.000Z", // 01:30 EDT, and not again at 01:30 EST
        "02:00 2024-11-03T07:00:00.000Z" // 02:00 EST
      ])
      yield* svc.stop
    })))

  it.effect("supervisor backoff: each restart waits exactly the schedule's delay (no settling, no polling)", () =>
    virtualTime(Effect.gen(function*() {
      const events: Array<string> = []
      const a = yield* recorded("A", events)
      const sup = yield* Supervisor.oneForOne(fresh("Backoff"), [a], {
        maxRestarts: 10,
        within: "1 minute",
        backoff: Schedule.exponential("1 second")
      })
      yield* sup.start
      for (const [i, delay] of [[1, 1000], [2, 2000], [3, 4000]] as const) {
        events.length = 0
        yield* a.crash(`boom ${i}`)
        yield* TestClock.adjust(delay - 1)
        expect(events).toEqual(["stop A"])
        expect(yield* a.started).toBe(false)
        yield* TestClock.adjust(1)
        expect(events).toEqual(["stop A", "start A"])
        expect(yield* a.restartCount).toBe(i)
      }
      yield* sup.stop
    })))

  it.effect("stopTimeout: a hung onStop is cut at the deadline and the rest of the stop runs", () =>
    virtualTime(Effect.gen(function*() {
      const log: Array<number> = []
      const svc = yield* Service.make(fresh("Hung"), {
        stopTimeout: "3 seconds",
        onStop: () => Effect.never,
        onShutdown: () => Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => log.push(t)))
      })
      yield* svc.start
      const stopping = yield* Effect.fork(svc.stop)
      yield* TestClock.adjust("2999 millis")
      expect(stopping.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 milli")
      yield* Fiber.join(stopping)
      expect(log).toEqual([3000])
      expect(yield* svc.state).toBe("shutdown")
    })))

  it.effect("200 services with a 1 s Service.timer each, over 10 virtual minutes: 600 calls each, nothing left", () =>
    virtualTime(Effect.gen(function*() {
      const counts = new Array<number>(200).fill(0)
      const root = yield* Service.make(fresh("Tree"))
      for (let i = 0; i < 200; i++) {
        const child = yield* Service.make(fresh(`S${i}-`), {
          tasks: [Service.timer("1 second", () => Effect.sync(() => counts[i]!++), { name: "beat" })]
        })
        yield* root.addDependency(child)
      }
      yield* root.start
      yield* TestClock.adjust("10 minutes")
      yield* root.stop
      expect(counts.every((n) => n === 600)).toBe(true)
      expect(Chunk.toArray(yield* TestClock.sleeps())).toEqual([])
      // the leak check of ./support/it.js then fails the test if any fiber is still alive
    })))
})

describe("auto-advance", () => {
  it.effect("Service.run on a tree that stops itself after an hour returns with no adjust", () =>
    Effect.gen(function*() {
      const counts = new Array<number>(20).fill(0)
      const program = Effect.gen(function*() {
        const root = yield* Service.make(fresh("Hour"))
        yield* root.addDependency(yield* Service.make(fresh("Stopper"), {
          tasks: [Service.task(() => Effect.zipRight(Effect.sleep("3600500 millis"), root.stop))]
        }))
        for (let i = 0; i < counts.length; i++) {
          yield* root.addDependency(yield* Service.make(fresh(`T${i}-`), {
            tasks: [Service.timer("1 second", () => Effect.sync(() => counts[i]!++))]
          }))
        }
        yield* Service.run(root)
        return [yield* Clock.currentTimeMillis, yield* root.state] as const
      })
      const [end, state] = yield* virtualTime(program, { autoAdvance: true })
      expect(end).toBe(3_600_500)
      expect(state).toBe("shutdown")
      expect(counts.every((n) => n === 3600)).toBe(true)
    }))

  it.effect("the options form composes in a pipe; auto-advance stops once the program has ended", () =>
    Effect.gen(function*() {
      let beats = 0
      const result = yield* Effect.gen(function*() {
        // a beat forked as a daemon keeps sleeping after the program ends; it must not be advanced forever
        const beat = yield* Effect.forkDaemon(Effect.forever(Effect.zipRight(Effect.sleep("1 second"), Effect.sync(() => beats++))))
        yield* Effect.sleep("10 seconds")
        return beat
      }).pipe(virtualTime({ autoAdvance: true }))
      const seen = beats
      expect(seen).toBeGreaterThanOrEqual(9)
      expect(seen).toBeLessThanOrEqual(10)
      yield* Effect.repeatN(Effect.yieldNow(), 100)
      expect(beats).toBe(seen)
      yield* Fiber.interrupt(result)
    }))
})

describe("waits outside Effect's scheduler", () => {
  it.effect("the world's first promise, a chain of awaits with no I/O (an in-memory fake client), is waited for before time moves", () =>
    virtualTime(Effect.gen(function*() {
      const fakeClient = async () => {
        for (let i = 0; i < 10; i++) await null
        return "ok"
      }
      const first = yield* Effect.fork(Effect.timeoutOption(Effect.promise(fakeClient), "1 second"))
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(first)).toEqual(Option.some("ok"))
      // a timer whose call awaits such a client ticks at every interval, as on the TestClock
      const calls: Array<number> = []
      const svc = yield* Service.make(fresh("Poller"), {
        tasks: [Service.timer("1 second", () =>
          Effect.zipRight(Effect.promise(fakeClient), Effect.map(Clock.currentTimeMillis, (t) => void calls.push(t))))]
      })
      const start = yield* Clock.currentTimeMillis
      yield* svc.start
      yield* TestClock.adjust("3 seconds")
      yield* svc.stop
      expect(calls.map((t) => t - start)).toEqual([1000, 2000, 3000])
    })))


  it.effect("a promise that never settles fails the run with VirtualTimeStalled instead of hanging", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(virtualTime(Effect.promise(() => new Promise<void>(() => {}))))
      expect(error).toBeInstanceOf(Testing.VirtualTimeStalled)
      expect(error._tag).toBe("VirtualTimeStalled")
      expect(error.message).toContain("outside Effect's scheduler")
      expect(error.message).toContain("move it out of virtualTime")
    }))

  it.effect("sleeping with nothing advancing the clock names TestClock.adjust and autoAdvance", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(virtualTime(Effect.sleep("1 minute")))
      expect(error.pendingSleeps).toEqual([60_000])
      expect(error.message).toContain("TestClock.adjust")
      expect(error.message).toContain("autoAdvance: true")
    }))

  it.effect("a stalled service tree is interrupted and stopped (its stop deadlines run on auto-advanced time)", () =>
    Effect.gen(function*() {
      const states: Array<string> = []
      const error = yield* Effect.flip(virtualTime(Effect.gen(function*() {
        const svc = yield* Service.make(fresh("Waiter"), {
          stopTimeout: "5 seconds",
          onStop: () => Effect.never,
          tasks: [Service.task(() => Effect.promise(() => new Promise<void>(() => {})))]
        })
        yield* Effect.addFinalizer(() => Effect.flatMap(Effect.zipRight(svc.stop, svc.state), (s) => Effect.sync(() => states.push(s))))
        yield* svc.start
        yield* Effect.never
      }).pipe(Effect.scoped)))
      expect(error._tag).toBe("VirtualTimeStalled")
      expect(states).toEqual(["shutdown"])
    }))

  it.effect("short external waits (resolved promises, an event-loop turn) are waited for", () =>
    virtualTime(Effect.gen(function*() {
      expect(yield* Effect.promise(() => Promise.resolve(42))).toBe(42)
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
      const slept = yield* Effect.fork(Effect.zipRight(Effect.promise(async () => {
        await Promise.resolve()
        await Promise.resolve()
      }), Effect.sleep("1 second")))
      yield* TestClock.adjust("1 second")
      expect(slept.unsafePoll()?._tag).toBe("Success")
      // a long chain of promise steps (no I/O): idleness waits for the event loop to have
      // drained every microtask
      const chained = yield* Effect.fork(Effect.zipRight(Effect.promise(async () => {
        for (let i = 0; i < 50; i++) await Promise.resolve()
      }), Effect.sleep("1 second")))
      yield* TestClock.adjust("1 second")
      expect(chained.unsafePoll()?._tag).toBe("Success")
    })))

  it.effect("onStall: \"warn\" logs what to do and keeps waiting", () =>
    Effect.gen(function*() {
      const warnings: Array<string> = []
      let release: () => void = () => {}
      const external = new Promise<void>((resolve) => {
        release = resolve
      })
      // the external event happens once the warning is out
      const logger = Logger.make(({ logLevel, message }) => {
        if (logLevel._tag !== "Warning") return
        warnings.push(String(Array.isArray(message) ? message[0] : message))
        release()
      })
      const result = yield* virtualTime(Effect.as(Effect.promise(() => external), "released"), {
        onStall: "warn",
        idleRounds: 5
      }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)), Logger.withMinimumLogLevel(LogLevel.All))
      expect(result).toBe("released")
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toContain("after 5 event-loop turns")
    }))

  it.effect("interrupting the run interrupts the program, whose stop deadlines still end", () =>
    Effect.gen(function*() {
      const states: Array<string> = []
      const ready = yield* Effect.makeLatch()
      const running = yield* Effect.fork(virtualTime(Effect.gen(function*() {
        const svc = yield* Service.make(fresh("Stubborn"), { stopTimeout: "1 second", onStop: () => Effect.never })
        yield* Effect.addFinalizer(() => Effect.flatMap(Effect.zipRight(svc.stop, svc.state), (s) => Effect.sync(() => states.push(s))))
        yield* svc.start
        yield* ready.open
        yield* TestClock.adjust("1 day")
      }).pipe(Effect.scoped)))
      yield* ready.await
      yield* Fiber.interrupt(running)
      expect(states).toEqual(["shutdown"])
    }))

  it.effect("a nested run keeps its own clock; the outer one waits for it and does not call itself stalled", () =>
    virtualTime(Effect.gen(function*() {
      const inner = yield* virtualTime(Effect.zipRight(Effect.sleep("1 hour"), Clock.currentTimeMillis), { autoAdvance: true })
      expect(inner).toBe(3_600_000)
      expect(yield* Clock.currentTimeMillis).toBe(0)
      const stalled = yield* Effect.flip(virtualTime(Effect.promise(() => new Promise<void>(() => {}))))
      expect(stalled._tag).toBe("VirtualTimeStalled")
    })))

  it.plain("bad options are named when declared", () => {
    expect(() => virtualTime(Effect.void, { idleRounds: 0 })).toThrow(/idleRounds must be a positive integer, got 0/)
    expect(() => virtualTime(Effect.void, { busyTasks: 0.5 })).toThrow(/busyTasks must be a positive integer or Infinity, got 0.5/)
    expect(() => virtualTime(Effect.void, { onStall: "ignore" as never })).toThrow(/onStall must be "fail" or "warn", got "ignore"/)
    expect(() => virtualTime({ autoAdvance: "yes" as never })).toThrow(/autoAdvance must be a boolean, got yes/)
    expect(() => virtualTime({ autoadvance: true } as never)).toThrow(/unknown option "autoadvance"/)
  })
})
