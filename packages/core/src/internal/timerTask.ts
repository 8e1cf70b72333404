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
import * as LogLevel from "effect/LogLevel"
import type * as Service from "../Service.js"
import { activeRun, type Schedule, scheduled, type Ticks } from "./scheduledTask.js"
import { decodeDuration } from "./duration.js"
import { declaredName, make as makeTask } from "./service/task.js"
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
  if (onError === "crash") return call
  return Effect.catchAllCause(call, (cause) =>
    Cause.isInterruptedOnly(cause)
      ? Effect.failCause(cause as Cause.Cause<never>)
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

/** The timer's ticks on the scheduler: wake, check the stop signal, call, plan the next. */
const onScheduler = <E, R>(
  state: TickState,
  self: Service.Service,
  call: Effect.Effect<void, E, R>,
  first: Effect.Effect<void, E, R> | undefined
) =>
(slot: Schedule): Ticks<E, R> => {
  const planNext = planThen(state, (millis) => slot.schedule(millis))
  return {
    start: first === undefined ? planNext : Effect.zipRight(first, planNext),
    tick: Effect.zipRight(
      wake(state),
      Effect.flatMap(self.shouldStop, (stop) => stop ? Effect.void : Effect.zipRight(call, planNext))
    )
  }
}

export const timer = <E, R>(
  interval: Duration.DurationInput,
  fn: (self: Service.Service) => Effect.Effect<void, E, R>,
  options: Service.TimerTaskOptions = {}
): Service.Task<E, R> => {
  const declared = declaredName(options.name, fn)
  const what = declared === undefined ? "Service.timer" : `Service.timer ${declared}`
  const intervalMillis = Duration.toMillis(decodeDuration(interval, `interval of ${what}`))
  const maxDriftCorrection = decodeMaxDriftCorrection(options.maxDriftCorrection, what)
  const rate = options.rate ?? "delay"
  if (rate !== "delay" && rate !== "fixed") {
    throw new TypeError(`Invalid rate of ${what}: ${JSON.stringify(rate)} (expected "delay" or "fixed")`)
  }
  const execFirst = options.execFirst === true
  return makeTask("Service.timer", "timer", fn, options, (self, name, onError) =>
        Effect.flatMap(Effect.flatMap(self.beacon.path, (path) => timerMetrics.forTimer(name, path)), (metrics) => {
          const call = callWith(self, fn, "Timer", name, onError)
          const run = activeRun(self)
          if (run !== undefined) {
            if (rate === "delay") {
              const state = new DelayState(name, intervalMillis, maxDriftCorrection, metrics)
              return scheduled(self, run, name, onScheduler(state, self, call, execFirst ? call : undefined))
            }
            const fixed = new FixedRateState(name, intervalMillis, metrics)
            // With execFirst the grid is anchored before the first call (see below).
            const start = execFirst ? Effect.withFiberRuntime<void, E, R>((fiber) => {
              fixed.start(nowMillis(fiber))
              return call
            }) : undefined
            return scheduled(self, run, name, onScheduler(fixed, self, call, start))
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
        }))
}
