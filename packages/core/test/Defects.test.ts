/**
 * The defects of issue 10, one test (or a few) each. Every test here failed on the core
 * before Core v2 (main at 4ddd5d7).
 */
import { describe, expect } from "@effect/vitest"
import { Cause, Clock, Duration, Effect, Either, Exit, Fiber, Metric, Option, Schedule, Stream, TestClock } from "effect"
import { Crontab, Service, ServiceError, Supervisor, Timer } from "@effect-mode/core"
import { it } from "./support/it.js"
import { captureLogs, type Captured } from "./support/logs.js"
import { eventually, fresh, restarted, settle } from "./support/supervisor.js"

const MAX_TIMER_MILLIS = 2 ** 31 - 1

/**
 * Runs `self` with a Clock that is the TestClock but records every sleep asked of it: the
 * live clock treats a sleep over 2^31-1 ms as infinite, so no sleep may ask for more.
 */
const recordingSleeps = <A, E, R>(self: Effect.Effect<A, E, R>, sleeps: Array<number>): Effect.Effect<A, E, R> =>
  Effect.flatMap(TestClock.testClock(), (testClock) => {
    const clock: Clock.Clock = Object.create(testClock)
    ;(clock as { sleep: Clock.Clock["sleep"] }).sleep = (duration) => {
      sleeps.push(Duration.toMillis(duration))
      return testClock.sleep(duration)
    }
    return Effect.withClock(self, clock)
  })

describe("defect 1: two stops that wait for each other", () => {
  it.effect("P stopping on a slow child, C1 moved out and made P's parent, C1.stop: both stops end", () =>
    Effect.gen(function*() {
      const c1 = yield* Service.make("C1", { stopTimeout: "5 seconds" })
      const c2 = yield* Service.make("C2", { stopTimeout: "5 seconds", onStop: () => Effect.sleep("3 seconds") })
      const p = yield* Service.make("P", { stopTimeout: "5 seconds" })
      yield* p.addDependency(c1)
      yield* p.addDependency(c2)
      yield* p.start
      const stopP = yield* Effect.fork(p.stop)
      yield* settle
      expect(yield* p.state).toBe("stopping")
      expect(yield* c2.state).toBe("stopping")
      yield* p.removeDependency(c1)
      yield* c1.start
      // Either the move is refused (P is held by its own stop) or it is harmless; both are fine,
      // a stop that never ends is not.
      yield* Effect.exit(c1.addDependency(p))
      const stopC1 = yield* Effect.fork(c1.stop)
      yield* TestClock.adjust("1 minute")
      yield* settle
      expect(Option.isSome(yield* Fiber.poll(stopP))).toBe(true)
      expect(Option.isSome(yield* Fiber.poll(stopC1))).toBe(true)
      expect(yield* p.state).toBe("shutdown")
      expect(yield* c1.state).toBe("shutdown")
    }))

  it.effect("a service cannot be moved under a service that its own stop in flight holds", () =>
    Effect.gen(function*() {
      const c = yield* Service.make("C", { onStop: () => Effect.sleep("1 second") })
      const p = yield* Service.make("P")
      yield* p.addDependency(c)
      yield* p.start
      const stopping = yield* Effect.fork(p.stop)
      yield* settle
      // P's stop is waiting for C: making P a child of C would make that stop wait for itself.
      const moved = yield* Effect.exit(c.addDependency(p))
      expect(Exit.isFailure(moved)).toBe(true)
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(stopping)
      expect(yield* p.state).toBe("shutdown")
    }))
})

describe("defect 2: a crash lost after a move", () => {
  it.effect("a supervised child moved with addDependency crashes up its new tree", () =>
    Effect.gen(function*() {
      const a = yield* Service.make("A", { tasks: [Service.task((self) => self.sleep("1 day"), { name: "idle" })] })
      const sup = yield* Supervisor.oneForOne(fresh("Sup"), [a])
      const other = yield* Service.make("Other")
      yield* sup.start
      yield* other.start
      yield* other.addDependency(a)
      yield* a.crash(new Error("moved and crashed"))
      yield* eventually(Effect.map(other.state, (s) => s === "crashed"), "Other crashed")
      yield* other.stop
      expect(yield* a.state).toBe("crashed")
      expect((yield* a.tracebacks).size).toBe(0)
      expect(yield* other.state).toBe("crashed")
      expect(yield* sup.state).toBe("running")
      yield* sup.stop
    }))
})

describe("defect 3: the README's poll loop during a stop", () => {
  it.effect("Effect.forever(log + self.sleep) does not spin while onStop runs", () =>
    Effect.gen(function*() {
      let polls = 0
      const svc = yield* Service.make("Consumer", {
        onStop: () => Effect.sleep("1 second"),
        tasks: [
          Service.task((self) => Effect.forever(Effect.zipRight(Effect.sync(() => polls++), self.sleep("1 second"))), {
            name: "poll"
          })
        ]
      })
      yield* svc.start
      yield* TestClock.adjust("3 seconds")
      const before = polls
      const stopping = yield* Effect.fork(svc.stop)
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(stopping)
      expect(polls - before).toBeLessThanOrEqual(3)
    }))
})

describe("defect 4: intervals over 2^31-1 ms", () => {
  it.effect("Service.timer, itertimer, sleep and the supervisor backoff sleep in steps the live clock can keep", () =>
    Effect.gen(function*() {
      const sleeps: Array<number> = []
      let fired = 0
      let iterated = 0
      let slept = 0
      yield* recordingSleeps(
        Effect.gen(function*() {
          const svc = yield* Service.make("Monthly", {
            tasks: [
              Service.timer("30 days", () => Effect.sync(() => fired++), { name: "monthly" }),
              Service.task((self) =>
                Stream.runForEach(self.itertimer("30 days", { name: "monthlyIter" }), () => Effect.sync(() => iterated++))
              ),
              Service.task((self) => Effect.zipRight(self.sleep("30 days"), Effect.sync(() => slept++)))
            ]
          })
          const child = yield* Service.make("Backed")
          const sup = yield* Supervisor.oneForOne(fresh("Slow"), [child], {
            backoff: Schedule.spaced("30 days"),
            maxRestarts: 10,
            within: "100 days"
          })
          yield* svc.start
          yield* sup.start
          yield* child.crash("once")
          yield* TestClock.adjust("31 days")
          yield* restarted(child, 1)
          expect(fired).toBe(1)
          expect(iterated).toBeGreaterThanOrEqual(1)
          expect(slept).toBe(1)
          yield* svc.stop
          yield* sup.stop
        }),
        sleeps
      )
      expect(Math.max(...sleeps)).toBeLessThanOrEqual(MAX_TIMER_MILLIS)
    }))
})

describe("defect 5: bad input fails when declared, naming the option and the value", () => {
  const made = (label: string, options: Service.Options<never, never> = {}) =>
    Effect.runSync(Effect.exit(Service.make(label, options)))
  const message = (exit: Exit.Exit<unknown, unknown>): string =>
    Exit.isFailure(exit) ? String(Cause.squash(exit.cause)) : "no failure"

  it.plain("a duration as an hrtime tuple with a negative part", () => {
    expect(message(made("S", { stopTimeout: [-1, 0] }))).toMatch(/stopTimeout of service S: "-1,0"/)
    expect(message(made("S", { shutdownTimeout: [0, -5] }))).toMatch(/shutdownTimeout of service S/)
    expect(() => Service.timer([-1, 0], () => Effect.void)).toThrow(/interval of Service.timer/)
  })

  it.plain("stopTimeout: 0", () => {
    expect(message(made("S", { stopTimeout: 0 }))).toMatch(/stopTimeout of service S: "0"/)
  })

  it.plain("options of the wrong kind: hooks, tasks, mundaneLevel, waitForShutdown, dependencies", () => {
    expect(message(made("S", { onStart: 5 as never }))).toMatch(/Invalid onStart of service S: "5" \(expected a function/)
    expect(message(made("S", { tasks: {} as never }))).toMatch(/Invalid tasks of service S/)
    expect(message(made("S", { tasks: [Service.task(() => Effect.void), 42 as never] }))).toMatch(
      /Invalid tasks\[1\] of service S: "42"/
    )
    expect(message(made("S", { mundaneLevel: "warn" as never }))).toMatch(/Invalid mundaneLevel of service S: "warn"/)
    expect(message(made("S", { waitForShutdown: "yes" as never }))).toMatch(/Invalid waitForShutdown of service S: "yes"/)
    expect(message(made("S", { dependencies: [] as never }))).toMatch(/Invalid dependencies of service S/)
    expect(() => Service.Tag<unknown>()("T", { onStop: "later" as never })).toThrow(/Invalid onStop of service T: "later"/)
  })

  it.plain("labels that make ambiguous paths", () => {
    expect(message(made(""))).toMatch(/label/)
    expect(message(made("a/b"))).toMatch(/label.*"a\/b"/)
    expect(() => Supervisor.oneForOne("x/y")).toThrow(/label.*"x\/y"/)
  })

  it.plain("a backoff that is not a Schedule", () => {
    expect(() => Supervisor.oneForOne("S", [], { backoff: "1 second" as never })).toThrow(
      /backoff of supervisor S: "1 second"/
    )
  })

  it.plain("a strategy that is not one", () => {
    expect(() => Supervisor.make("oneForSome" as never, "S")).toThrow(/strategy of supervisor S: "oneForSome"/)
  })

  it.plain("a time zone offset out of range", () => {
    expect(() => Service.crontab("0 9 * * *", () => Effect.void, { timezone: "+99:00" })).toThrow(/"\+99:00"/)
    expect(Either.isLeft(Crontab.parse("0 9 * * *", { timezone: "-25:00" }))).toBe(true)
  })
})

describe("one task constructor for task, timer and crontab", () => {
  it.plain("the same validation, when declared", () => {
    for (const declare of [
      (options: Service.TaskOptions) => Service.task(() => Effect.void, options),
      (options: Service.TaskOptions) => Service.timer("1 second", () => Effect.void, options),
      (options: Service.TaskOptions) => Service.crontab("* * * * *", () => Effect.void, options)
    ]) {
      expect(() => declare({ onError: "ignore" as never })).toThrow(/onError of Service\.\w+.*"ignore"/)
      expect(() => declare({ name: 42 as never })).toThrow(/task name: "42"/)
      expect(() => declare({ name: "" })).toThrow(/task name: ""/)
    }
    expect(() => Service.task("not a function" as never)).toThrow(/function of Service.task/)
  })

  it.effect("a timer declared without a name runs under task-N, told by the fork", () =>
    Effect.gen(function*() {
      const lines: Array<Captured> = []
      yield* captureLogs(
        Effect.gen(function*() {
          const svc = yield* Service.make("Named", {
            tasks: [
              Service.task((self) => self.sleep("1 day"), { name: "idle" }),
              Service.timer("1 second", () => Effect.fail("flaky"), { onError: "log" })
            ]
          })
          yield* svc.start
          yield* TestClock.adjust("1 second")
          yield* svc.stop
        }),
        lines
      )
      const failed = lines.find((l) => l.message.includes("failed"))
      expect(failed?.message).toContain("Timer task-2 failed")
      expect(failed?.annotations["task"]).toBe("task-2")
    }))
})

describe("defect 6: Service.run on a tree that crashed and stopped", () => {
  it.effect("fails with Crashed and does not start the tree again", () =>
    Effect.gen(function*() {
      let starts = 0
      const child = yield* Service.make("Child")
      const root = yield* Service.make("Root", { onStart: () => Effect.sync(() => starts++) })
      yield* root.addDependency(child)
      yield* root.start
      yield* child.crash("broken")
      yield* root.stop
      expect(yield* root.state).toBe("crashed")
      const exit = yield* Effect.exit(Effect.timeout(Service.run(root), "1 second").pipe(Effect.fork, Effect.flatMap((f) =>
        Effect.zipRight(TestClock.adjust("2 seconds"), Fiber.join(f))
      )))
      expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toBeInstanceOf(ServiceError.Crashed)
      expect(starts).toBe(1)
      expect(yield* root.state).toBe("crashed")
    }))
})

describe("defect 7: annotations after a supervisor restart", () => {
  it.effect("the restarted service's lifecycle lines carry its own annotations only", () =>
    Effect.gen(function*() {
      const lines: Array<Captured> = []
      yield* captureLogs(
        Effect.gen(function*() {
          const a = yield* Service.make("A", {
            onStart: () => Effect.log("A onStart"),
            tasks: [Service.task((self) => self.sleep("1 day"), { name: "idle" })]
          })
          const sup = yield* Supervisor.oneForOne(fresh("Sup"), [a])
          yield* sup.start
          yield* a.crash("again")
          yield* restarted(a, 1)
          yield* sup.stop
        }),
        lines
      )
      const own = lines.filter((l) => l.annotations["service"] === "A" && !l.message.includes("Restarting"))
      expect(own.filter((l) => l.message.includes("Starting...") || l.message === "A onStart").length).toBe(4)
      for (const line of own) {
        if (line.message.includes("Starting...") || line.message.includes("Stopping") || line.message === "A onStart") {
          expect(line.annotations["task"]).toBeUndefined()
        }
      }
    }))
})

describe("defect 8: metric cardinality", () => {
  it.effect("timer and supervisor metric keys stay bounded under service churn with unique labels", () =>
    Effect.gen(function*() {
      const keys = Effect.map(Metric.snapshot, (pairs) =>
        pairs.filter((p) => p.metricKey.name.startsWith("effect_mode_")).length)
      const run = (n: number) =>
        Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) =>
          Effect.gen(function*() {
            const label = fresh(`Churn${i}-`)
            const svc = yield* Service.make(label, { tasks: [Service.timer("1 second", () => Effect.void, { name: "t" })] })
            const sup = yield* Supervisor.oneForOne(`${label}sup`, [svc])
            yield* sup.start
            yield* svc.crash("churn")
            yield* restarted(svc, 1)
            yield* sup.stop
          }), { discard: true })
      yield* run(1100)
      const after1 = yield* keys
      yield* run(300)
      const after2 = yield* keys
      expect(after2 - after1).toBe(0)
    }), 120_000)
})

describe("defect 9: names that follow Effect", () => {
  it.plain("Crontab.parse returns an Either, Crontab.unsafeParse throws", () => {
    const bad = Crontab.parse("0 25 * * *")
    expect(Either.isLeft(bad)).toBe(true)
    expect(Either.isRight(Crontab.parse("0 9 * * *"))).toBe(true)
    expect(() => Crontab.unsafeParse("0 25 * * *")).toThrow(/Invalid cron expression "0 25 \* \* \*"/)
    expect(Crontab.isCrontab(Crontab.unsafeParse("0 9 * * *"))).toBe(true)
  })

  it.effect("a hung stop step fails with a typed StopTimeout", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("Hung", { stopTimeout: "1 second", onStop: () => Effect.never })
      yield* svc.start
      const stopping = yield* Effect.fork(svc.stop)
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(stopping)
      const failure = Option.getOrThrow(yield* svc.stopFailure)
      const error = Cause.squash(failure)
      expect(error).toBeInstanceOf(ServiceError.StopTimeout)
      expect((error as ServiceError.StopTimeout)._tag).toBe("StopTimeout")
      expect((error as ServiceError.StopTimeout).message).toContain("onStop")
    }))
})

// Keep the Timer import used (the metric names are part of what defect 8 bounds).
void Timer.ticksMetric
