/**
 * What a service costs in fibers (issue 16): the start forks one fiber per task that runs
 * code and none for a timer or crontab; a stop with no user code forks none; a supervisor's
 * restart of a service with no hooks forks only the service's task again; a timer's metric
 * label set is made at its first tick. Fibers are counted by an Effect `Supervisor` around
 * the operation (every fiber started under it, whatever forks it).
 */
import { describe, expect } from "@effect/vitest"
import { Deferred, Effect, Fiber, Logger, LogLevel, Metric, RuntimeFlags, RuntimeFlagsPatch, Supervisor as EffectSupervisor, TestClock } from "effect"
import type * as Context from "effect/Context"
import { Service, Supervisor } from "@effect-mode/core"
import type { ServiceImpl } from "../src/internal/service/impl.js"
import { it } from "./support/it.js"

/** Counts what happens (see the subclasses) while `counting` is on: `during` turns it on. */
abstract class Counting extends EffectSupervisor.AbstractSupervisor<number> {
  count = 0
  counting = false
  get value() {
    return Effect.sync(() => this.count)
  }
  /** What was counted while `effect` ran. */
  during<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<number, E, R> {
    return Effect.suspend(() => {
      this.count = 0
      this.counting = true
      return Effect.ensuring(effect, Effect.sync(() => (this.counting = false)))
    }).pipe(Effect.map(() => this.count))
  }
}

/**
 * Counts the fibers started. Installed around a whole test body, so that every fiber forked
 * under it (a supervisor's loop, a restart job) is seen.
 */
class Started extends Counting {
  override onStart<A, E, R>(_c: Context.Context<R>, _e: Effect.Effect<A, E, R>, _p: unknown, _f: Fiber.RuntimeFiber<A, E>) {
    if (this.counting) this.count++
  }
}

/** Counts the run-loop steps (Effect instructions) of every fiber (with op supervision on). */
class Steps extends Counting {
  override onEffect(): void {
    if (this.counting) this.count++
  }
}

const counted = <A, E, R>(body: (started: Started) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    const started = new Started()
    return Effect.supervised(body(started), started)
  })

/**
 * A child (made with `options`) whose task crashes once, when told, under a one-for-one
 * supervisor: the fibers started from the crash until the restarted task runs.
 */
const crashOnce = (started: Started, label: string, options: Service.Options<never, never>) =>
  Effect.gen(function*() {
    let runs = 0
    const crash = yield* Deferred.make<void>()
    const again = yield* Deferred.make<void>()
    const work = Service.task(() =>
      Effect.suspend(() => {
        runs++
        if (runs === 1) return Effect.zipRight(Deferred.await(crash), Effect.fail("boom"))
        return Effect.zipRight(Deferred.succeed(again, undefined), Effect.never)
      }), { name: "work" })
    const child = yield* Service.make(label, { ...options, tasks: [work] })
    const sup = yield* Supervisor.oneForOne(`${label}-sup`, [child])
    yield* sup.start
    const forked = yield* started.during(Effect.zipRight(Deferred.succeed(crash, undefined), Deferred.await(again)))
    expect(runs).toBe(2)
    yield* sup.stop
    return { child, forked }
  })

const timerKeys = (service: string) =>
  Effect.map(Metric.snapshot, (pairs) =>
    pairs.filter((p) =>
      p.metricKey.name === "effect_mode_timer_ticks" && p.metricKey.tags.some((t) => t.key === "service" && t.value === service)
    ).length)

describe("costs", () => {
  it.effect("a start forks one fiber per task that runs code, none for a timer or a crontab", () =>
    counted((started) => Effect.gen(function*() {
      let ticks = 0
      // The first timer of a clock starts its scheduler's fiber (one per clock, not per timer).
      const first = yield* Service.make("Costs-first", { tasks: [Service.timer("1 second", () => Effect.void)] })
      yield* first.start
      const svc = yield* Service.make("Costs-start", {
        tasks: [
          Service.task(() => Effect.never, { name: "idle" }),
          Service.timer("1 second", () => Effect.sync(() => ticks++), { name: "tick" }),
          Service.crontab("* * * * *", () => Effect.void, { name: "cron" })
        ]
      })
      expect(yield* started.during(svc.start)).toBe(1)
      // The timer runs all the same: a tick is a fiber of its own while it runs.
      yield* TestClock.adjust("2 seconds")
      expect(ticks).toBe(2)
      expect(yield* started.during(svc.stop)).toBe(0)
      yield* first.stop
    })))

  it.effect("a stop with user code to bound still runs on a fiber of its own", () =>
    counted((started) => Effect.gen(function*() {
      const svc = yield* Service.make("Costs-hook", { onStop: () => Effect.void })
      yield* svc.start
      expect(yield* started.during(svc.stop)).toBe(1)
    })))

  it.effect("a supervisor restarts a service with no hooks on its loop: one fiber per restart, its task", () =>
    counted((started) =>
      Effect.gen(function*() {
        const { child, forked } = yield* crashOnce(started, "Costs-child", {})
        expect(yield* child.restartCount).toBe(1)
        expect(forked).toBe(1)
      })
    ))

  it.effect("a restart with hooks runs on a restart job's fiber", () =>
    counted((started) =>
      Effect.gen(function*() {
        const { child, forked } = yield* crashOnce(started, "Costs-hooked", { onStop: () => Effect.void })
        expect(yield* child.restartCount).toBe(1)
        // the job's fiber, the stop's own fiber (it has a hook), the task
        expect(forked).toBe(3)
      })
    ))

  it.effect("a timer's metric label set is made at its first tick, not at the start", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("Costs-metrics", {
        tasks: [Service.timer("1 second", () => Effect.void, { name: "tick" })]
      })
      yield* svc.start
      // Half an interval: whatever the start left to run has run, and no tick yet.
      yield* TestClock.adjust("500 millis")
      expect(yield* timerKeys("Costs-metrics")).toBe(0)
      yield* TestClock.adjust("500 millis")
      expect(yield* timerKeys("Costs-metrics")).toBe(1)
      yield* svc.stop
    }))
})

describe("what a run holds", () => {
  it.effect("ended futures leave the run's list of fibers, which stays within twice the live ones", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("Spawner", { tasks: [Service.task(() => Effect.never, { name: "idle" })] })
      yield* svc.start
      const run = (svc as ServiceImpl).run!
      const held: Array<number> = []
      const live = () => (run as unknown as { live: Array<{ fiber: unknown }> }).live
      for (let i = 0; i < 1_000; i++) {
        const future = yield* svc.addFuture(Effect.void)
        yield* Fiber.await(future)
        held.push(live().length)
        // An ended future is let go of at once, not at the next pruning: a short-lived fiber
        // kept by the run would outlive young collections.
        expect(live().some((entry) => entry.fiber === future)).toBe(false)
      }
      // Only the idle task is alive: what the run reads and what it holds are bounded by it.
      expect(run.fibers.map((f) => f.name)).toEqual(["idle"])
      expect(Math.max(...held)).toBeLessThanOrEqual(8)
      yield* svc.stop
    }))

  it.effect("a timer keeps what its refs are made of until its first tick; one start's timers share it", () =>
    Effect.gen(function*() {
      let ticks = 0
      const make = (label: string) =>
        Service.make(label, { tasks: [Service.timer("1 second", () => Effect.sync(() => ticks++), { name: "tick" })] })
      const root = yield* make("Refs-root")
      const child = yield* make("Refs-child")
      yield* root.addDependency(child)
      yield* root.start
      interface Waiting {
        readonly refs: unknown
      }
      const slotOf = (s: Service.Service) => (s as ServiceImpl).run!.scheduled[0] as unknown as Waiting
      const recipe = (s: Service.Service) => slotOf(s).refs as { readonly outer: unknown; readonly name: string }
      // Before the first tick: no map of its own, but the starting fiber's refs, shared.
      expect(recipe(root).constructor.name).toBe("TaskRefs")
      expect(recipe(child).outer).toBe(recipe(root).outer)
      expect(recipe(child).name).toBe("tick")
      yield* TestClock.adjust("1 second")
      expect(ticks).toBe(2)
      // From the first tick on, the refs made then are kept, not made again at every tick.
      const made = slotOf(child).refs
      expect(made).not.toHaveProperty("outer")
      yield* TestClock.adjust("1 second")
      expect(ticks).toBe(4)
      expect(slotOf(child).refs).toBe(made)
      yield* root.stop
    }))

  it.effect("a stop waits for its task's fiber without a message to it or a canceler", () =>
    Effect.suspend(() => {
      const steps = new Steps()
      return Effect.gen(function*() {
        const svc = yield* Service.make("Steps-stop", { tasks: [Service.task(() => Effect.never, { name: "idle" })] })
        yield* svc.start
        const taken = yield* steps.during(Logger.withMinimumLogLevel(svc.stop, LogLevel.None))
        expect(yield* svc.state).toBe("shutdown")
        // Logs off: 46 steps when this was written (the level's `Effect.locally` included);
        // with `fiber.await` (a message to the fiber, a canceler wrapped around the wait), 57.
        expect(taken).toBeLessThan(52)
      }).pipe(
        Effect.supervised(steps),
        Effect.withRuntimeFlagsPatch(RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision))
      )
    }))
})
