/**
 * `Service.timer`: mode's `@Service.timer`. plan, wait on `Clock`, wake, check the stop
 * signal, call `fn`, plan again. In a service's run the wait is an entry of the clock's timer
 * scheduler (timerScheduler.ts), not a sleeping fiber: the task fiber registers the timer and
 * ends, and every tick runs on a fiber of the run forked when it is due (with the task's
 * FiberRefs, interrupted by the service's stop), which plans the next tick and ends. The run's
 * scope removes the timer. A stop requested meanwhile skips the call. Outside a run (the
 * task's `run` called directly) the loop runs on the calling fiber, sleeping on `Clock`.
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as LogLevel from "effect/LogLevel"
import type * as Service from "../Service.js"
import { activeRun, registerOn, type Schedule, scheduled, type Ticks } from "./scheduledTask.js"
import { decodeInterval } from "./duration.js"
import { checkOptions } from "./options.js"
import { checkFunction, declaredName, make as makeTask, type ScheduleOn } from "./service/task.js"
import { sleepMillis } from "./sleep.js"
import { decodeMaxDriftCorrection, nowMillis, planThen, type TickState, wake } from "./timer.js"
import * as timerMetrics from "./timerMetrics.js"
import { DelayState, FixedRateState } from "./timerState.js"

/**
 * Calls `fn` once. With `onError: "log"` a failure (or defect) is logged with the timer's
 * name and swallowed, so the schedule goes on; an interruption still ends the loop.
 */
export const callWith = <E, R>(
  self: Service.Service,
  fn: (self: Service.Service) => Effect.Effect<void, E, R>,
  kind: string,
  name: string,
  onError: "crash" | "log"
): Effect.Effect<void, E, R> => {
  const call = Effect.suspend(() => fn(self))
  // A call that ends interrupted by itself (not by the stop: it joined an interrupted fiber,
  // say) is no failure: it ends the timer, as an interruption ends a task, and not unseen.
  const interrupted = (cause: Cause.Cause<E>): Effect.Effect<void, E> =>
    Effect.flatMap(self.shouldStop, (stopping) =>
      stopping ? Effect.failCause(cause) : Effect.zipRight(
        Effect.logWithLevel(LogLevel.Warning, `${kind} ${name} was interrupted, not by a stop: it ends (its service runs on)`, cause),
        Effect.failCause(cause)
      ))
  if (onError === "crash") {
    return Effect.catchAllCause(call, (cause) => Cause.isInterruptedOnly(cause) ? interrupted(cause) : Effect.failCause(cause))
  }
  return Effect.catchAllCause(call, (cause) =>
    Cause.isInterruptedOnly(cause)
      ? interrupted(cause)
      : Effect.logWithLevel(LogLevel.Error, `${kind} ${name} failed (onError: "log", its schedule goes on)`, cause))
}

/** plan → sleep → wake → (unless stopping) call, forever. */
const loop = <E, R>(self: Service.Service, state: TickState, call: Effect.Effect<void, E, R>): Effect.Effect<void, E, R> => {
  const tick = Effect.zipRight(planThen(state, sleepMillis), wake(state))
  let forever: Effect.Effect<void, E, R> = Effect.void
  const again = Effect.suspend(() => forever)
  const callThenAgain = Effect.zipRight(call, again)
  forever = Effect.zipRight(tick, Effect.flatMap(self.shouldStop, (stop) => stop ? Effect.void : callThenAgain))
  return forever
}

/**
 * The timer's ticks on the scheduler: wake, check the stop signal, call, plan the next. A
 * class whose effects are built when they run, so that a waiting timer holds none.
 */
class TimerTicks<E, R> implements Ticks<E, R> {
  constructor(
    readonly state: TickState,
    readonly self: Service.Service,
    readonly fn: (self: Service.Service) => Effect.Effect<void, E, R>,
    readonly name: string,
    readonly onError: "crash" | "log",
    readonly slot: Schedule,
    /** On the task fiber before the first wait (execFirst's call), if any. */
    readonly first: Effect.Effect<void, E, R> | undefined
  ) {}
  get call(): Effect.Effect<void, E, R> {
    return callWith(this.self, this.fn, "Timer", this.name, this.onError)
  }
  get planNext(): Effect.Effect<void> {
    return planThen(this.state, (millis) => this.slot.schedule(millis))
  }
  get start(): Effect.Effect<void, E, R> {
    return this.first === undefined ? this.planNext : Effect.zipRight(this.first, this.planNext)
  }
  /** The first plan, now (`planThen` without its step); undefined with execFirst (its call comes first). */
  startOn(fiber: Fiber.RuntimeFiber<unknown, unknown>): Effect.Effect<void> | undefined {
    if (this.first !== undefined) return undefined
    const millis = this.state.plan(nowMillis(fiber))
    const scheduled = this.slot.scheduleOn(fiber, millis)
    return this.state.overlapped ? Effect.zipRight(Effect.logWarning(this.state.overlapMessage()), scheduled) : scheduled
  }
  get tick(): Effect.Effect<void, E, R> {
    return Effect.zipRight(
      wake(this.state),
      Effect.flatMap(this.self.shouldStop, (stop) => stop ? Effect.void : Effect.zipRight(this.call, this.planNext))
    )
  }
}

export const timer = <E, R>(
  interval: Duration.DurationInput,
  fn: (self: Service.Service) => Effect.Effect<void, E, R>,
  timerOptions?: Service.TimerTaskOptions
): Service.Task<E, R> => {
  checkFunction(fn, "Service.timer")
  const options = checkOptions(timerOptions, "Service.timer", ["name", "onError", "execFirst", "rate", "maxDriftCorrection"])
  const declared = declaredName(options.name, fn)
  const what = declared === undefined ? "Service.timer" : `Service.timer ${declared}`
  const intervalMillis = decodeInterval(interval, `interval of ${what}`)
  const maxDriftCorrection = decodeMaxDriftCorrection(options.maxDriftCorrection, what)
  const rate = options.rate === undefined ? "delay" : options.rate
  if (rate !== "delay" && rate !== "fixed") {
    throw new TypeError(`Invalid rate of ${what}: ${JSON.stringify(rate)} (expected "delay" or "fixed")`)
  }
  if (options.execFirst !== undefined && typeof options.execFirst !== "boolean") {
    throw new TypeError(`Invalid execFirst of ${what}: ${JSON.stringify(String(options.execFirst))} (expected true or false)`)
  }
  const execFirst = options.execFirst === true
  // Without execFirst the first call waits for the first tick: the timer is registered by the
  // start itself, with no fiber (execFirst's first call runs on the task's own fiber).
  const scheduleOn: ScheduleOn | undefined = execFirst ? undefined : (s, run, name, onError, refs, fiber) => {
    const metrics = refs.valueOf(timerMetrics.enabled) ? new timerMetrics.ResolvedOnUse(name, s) : undefined
    const state = rate === "delay"
      ? new DelayState(name, intervalMillis, maxDriftCorrection, metrics)
      : new FixedRateState(name, intervalMillis, metrics)
    return registerOn(s, run, name, refs, fiber, (slot) => new TimerTicks(state, s, fn, name, onError, slot, undefined)) as Effect.Effect<void>
  }
  return makeTask("Service.timer", "timer", fn, options, (self, name, onError) =>
        Effect.flatMap(Effect.flatMap(self.beacon.path, (path) => timerMetrics.forTimer(name, path)), (metrics) => {
          const call = callWith(self, fn, "Timer", name, onError)
          const run = activeRun(self)
          if (run !== undefined) {
            if (rate === "delay") {
              const state = new DelayState(name, intervalMillis, maxDriftCorrection, metrics)
              return scheduled(self, run, name, (slot) => new TimerTicks(state, self, fn, name, onError, slot, execFirst ? call : undefined))
            }
            const fixed = new FixedRateState(name, intervalMillis, metrics)
            // With execFirst the grid is anchored before the first call (see below).
            const start = execFirst ? Effect.withFiberRuntime<void, E, R>((fiber) => {
              fixed.start(nowMillis(fiber))
              return call
            }) : undefined
            return scheduled(self, run, name, (slot) => new TimerTicks(fixed, self, fn, name, onError, slot, start))
          }
          if (rate === "delay") {
            const ticks = loop(self, new DelayState(name, intervalMillis, maxDriftCorrection, metrics), call)
            // As mode: with execFirst, the timer starts once the first call is over.
            return execFirst ? Effect.zipRight(call, ticks) : ticks
          }
          const state = new FixedRateState(name, intervalMillis, metrics)
          const ticks = loop(self, state, call)
          if (!execFirst) return ticks
          // The grid is anchored before the first call: the first tick is due one interval
          // after the start, the call included.
          return Effect.zipRight(
            Effect.withFiberRuntime<void, E, R>((fiber) => {
              state.start(nowMillis(fiber))
              return call
            }),
            ticks
          )
        }), scheduleOn)
}
