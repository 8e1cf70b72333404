/**
 * A task of a running service that waits on its clock's timer scheduler (timerScheduler.ts)
 * instead of a sleeping fiber: `Service.timer` and `Service.crontab`. The task fiber registers
 * the task and ends; when it is due, a fiber of the run is forked (with the task fiber's
 * FiberRefs and the task's error boundary, interrupted by the service's stop) to run one tick,
 * which asks for the next due instant and ends. The run's scope removes the registration.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import type * as FiberRefs from "effect/FiberRefs"
import type * as Service from "../Service.js"
import { millisOf } from "./monotonic.js"
import type { Run, ScheduledTask } from "./run.js"
import { setRefs } from "./service/fiberRefs.js"
import type { ServiceImpl } from "./service/impl.js"
import { TaskRefs } from "./service/taskRefs.js"
import { register, registerNow, type TimerHandle } from "./timerScheduler.js"

/** The scheduler's time: the fiber's `Clock`, monotonic, in milliseconds. */
const monotonicMillis = (fiber: Fiber.RuntimeFiber<unknown, unknown>): number =>
  millisOf(Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeNanos())

/** What a scheduled task does, given how to ask for its next due instant. */
export interface Ticks<E, R> {
  /** On the task fiber: the work before the first wait (execFirst's call); it ends by scheduling. */
  readonly start: Effect.Effect<void, E, R>
  /**
   * `start`, done now on `fiber` when it is only a plan (no call): the effect left to run
   * (waking the scheduler's fiber, usually nothing), else undefined (run `start`).
   */
  readonly startOn?: (fiber: Fiber.RuntimeFiber<unknown, unknown>) => Effect.Effect<void> | undefined
  /** On a fiber of its own, forked when due: one tick; it schedules the next (or not: it ends). */
  readonly tick: Effect.Effect<void, E, R>
}

/** How a scheduled task asks for its next due instant. */
export interface Schedule {
  /**
   * Makes the task due in `millis` (of the clock's monotonic time, from now). Calling it again
   * before that replaces the pending instant.
   */
  schedule(millis: number): Effect.Effect<void>
  /** `schedule`, decided on `fiber` (the current fiber): the effect left is the scheduler's wake-up. */
  scheduleOn(fiber: Fiber.RuntimeFiber<unknown, unknown>, millis: number): Effect.Effect<void>
}

/**
 * A class, so that a scheduled task costs no named closure (tsx's `keepNames` makes those
 * dear); also what the run lists it by while it waits (`Run.scheduled`), and what the
 * scheduler fires when it is due: `fire` builds the tick's fork then, so that a waiting task
 * holds no effects of its own.
 */
class Slot implements Schedule, ScheduledTask {
  handle: TimerHandle | undefined = undefined
  ticks: Ticks<unknown, unknown> | undefined = undefined
  constructor(
    readonly name: string,
    readonly fiberId: number,
    readonly startedAt: number,
    readonly service: ServiceImpl,
    readonly run: Run,
    /**
     * What the ticks run with: the task fiber's refs, or what makes them, at the first tick (a
     * task registered by the start, with no fiber: `TaskRefs`). A timer that has not ticked
     * yet holds no map of refs of its own.
     */
    private refs: FiberRefs.FiberRefs | TaskRefs
  ) {}
  get pending(): boolean {
    return this.handle !== undefined && this.handle.index >= 0
  }
  schedule(millis: number): Effect.Effect<void> {
    return Effect.withFiberRuntime((fiber) => this.scheduleOn(fiber, millis))
  }
  scheduleOn(fiber: Fiber.RuntimeFiber<unknown, unknown>, millis: number): Effect.Effect<void> {
    const handle = this.handle
    return handle === undefined ? Effect.void : handle.schedule(monotonicMillis(fiber) + millis)
  }
  /** Forks one tick into the run, behind the task's error boundary (a failure crashes the service). */
  get fire(): Effect.Effect<void> {
    const run = this.run
    if (run.closed || this.ticks === undefined) return Effect.void
    const s = this.service
    let refs = this.refs
    if (refs instanceof TaskRefs) this.refs = refs = refs.refs
    const guarded = withRefs(
      refs,
      Effect.catchAllCause(this.ticks.tick as Effect.Effect<void, unknown>, (cause) =>
        Cause.isInterruptedOnly(cause) ? Effect.failCause(cause as Cause.Cause<never>) : s.crashWith(cause))
    )
    return Effect.asVoid(s.forkIn(run, guarded, this.name))
  }
}

/** Gives the fiber the refs `refs` (all at once, where the runtime allows it), then runs `effect`. */
const withRefs = (refs: FiberRefs.FiberRefs, effect: Effect.Effect<void>): Effect.Effect<void> =>
  Effect.withFiberRuntime<void>((fiber) => {
    const set = setRefs(fiber, refs)
    return set === Effect.void ? effect : Effect.zipRight(set, effect)
  })

/** The run `self`'s task fibers run in while it is running (undefined for a direct call of `run`). */
export const activeRun = (self: Service.Service): Run | undefined => {
  const impl = self as Partial<ServiceImpl>
  const run = impl.run
  return run !== undefined && !run.closed && typeof impl.forkIn === "function" ? run : undefined
}

/** Adds the slot to the scheduler and to the run (whose teardown cancels it: `cancelScheduled`). */
const enlist = (slot: Slot): Effect.Effect<void> =>
  Effect.map(register(slot), (h) => {
    slot.handle = h
    slot.run.addScheduled(slot)
  })

/**
 * Runs the task `make` describes on the scheduler of the calling fiber's clock, in `run`,
 * from the task's own fiber (a timer with `execFirst`: its first call runs there). The ticks
 * run with the task fiber's refs.
 */
export const scheduled = <E, R>(
  self: Service.Service,
  run: Run,
  name: string,
  make: (schedule: Schedule) => Ticks<E, R>
): Effect.Effect<void, E, R> =>
  Effect.withFiberRuntime<void, E, R>((task) => {
    const clock = Context.get(task.currentDefaultServices, Clock.Clock)
    const slot = new Slot(name, task.id().id, clock.unsafeCurrentTimeMillis(), self as ServiceImpl, run, task.getFiberRefs())
    const ticks = make(slot)
    slot.ticks = ticks as Ticks<unknown, unknown>
    const registered = Effect.uninterruptible(Effect.suspend(() => run.closed ? Effect.void : enlist(slot)))
    return Effect.zipRight(registered, ticks.start)
  })

/**
 * Registers the task `make` describes with no fiber of its own: from `fiber`, the fiber that
 * starts the service (in the start's uninterruptible region), whose refs with the task's
 * (what `refs` makes at the first tick, what a task fiber would inherit) the ticks run with.
 * `start`, the first plan, runs here too; it must not call user code. The task is listed
 * under an id of its own.
 */
export const registerOn = <E, R>(
  s: ServiceImpl,
  run: Run,
  name: string,
  refs: TaskRefs,
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  make: (schedule: Schedule) => Ticks<E, R>
): Effect.Effect<void, E, R> => {
  const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
  const slot = new Slot(name, FiberId.unsafeMake().id, clock.unsafeCurrentTimeMillis(), s, run, refs)
  const ticks = make(slot)
  slot.ticks = ticks as Ticks<unknown, unknown>
  // The clock's scheduler is there already (all timers but its first): registered and
  // planned now, with no step but waking the scheduler's fiber when it must.
  const handle = registerNow(clock, slot)
  if (handle === undefined) return Effect.zipRight(enlist(slot), ticks.start)
  slot.handle = handle
  run.addScheduled(slot)
  return ticks.startOn?.(fiber) ?? ticks.start
}

/**
 * The run's teardown: removes its timers and crontabs from the scheduler, now (call it where
 * the effect would run). The effect left is the scheduler's teardown, when the run had its
 * last timers (its fiber ends), else undefined.
 */
export const cancelScheduled = (run: Run): Effect.Effect<void> | undefined => {
  if (run.scheduled.length === 0) return undefined
  let left: Array<Effect.Effect<void>> | undefined = undefined
  for (const slot of run.takeScheduled() as Array<Slot>) {
    const close = slot.handle?.cancelNow()
    if (close !== undefined) (left ??= []).push(close)
  }
  return left === undefined ? undefined : Effect.all(left, { discard: true })
}
