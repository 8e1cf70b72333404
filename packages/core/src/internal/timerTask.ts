/**
 * `Service.timer`: mode's `@Service.timer`. One loop on the task's own fiber (no fiber per
 * tick): plan, sleep on `Clock`, wake, check the stop signal, call `fn`. The task fiber is
 * interrupted by the service's stop, and a stop requested meanwhile skips the call.
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as LogLevel from "effect/LogLevel"
import type * as Service from "../Service.js"
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
