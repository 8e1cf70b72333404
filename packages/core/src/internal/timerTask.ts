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
import * as FiberRef from "effect/FiberRef"
import type * as Fiber from "effect/Fiber"
import type * as FiberRefs from "effect/FiberRefs"
import * as LogLevel from "effect/LogLevel"
import type * as Service from "../Service.js"
import type { Run } from "./run.js"
import type { ServiceImpl } from "./service/impl.js"
import { decodeDuration } from "./duration.js"
import { declaredName, make as makeTask } from "./service/task.js"
import { sleepMillis } from "./sleep.js"
import { decodeMaxDriftCorrection, nowMillis, planThen, type TickState, wake } from "./timer.js"
import * as timerMetrics from "./timerMetrics.js"
import { register, type TimerHandle } from "./timerScheduler.js"
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

interface SetsFiberRefs {
  setFiberRefs(refs: FiberRefs.FiberRefs): void
}

/** Gives `fiber` the refs `refs` (all at once, where the runtime allows it), then runs `effect`. */
const withRefs = (refs: FiberRefs.FiberRefs, effect: Effect.Effect<void>): Effect.Effect<void> =>
  Effect.withFiberRuntime<void>((fiber: Fiber.RuntimeFiber<unknown, unknown>) => {
    const f = fiber as unknown as Partial<SetsFiberRefs>
    if (typeof f.setFiberRefs !== "function") return Effect.zipRight(Effect.setFiberRefs(refs), effect)
    f.setFiberRefs(refs)
    return effect
  })

/** The run a task fiber of `self` runs in, if it is one (not a direct call of `run`). */
const activeRun = (self: Service.Service): Run | undefined => {
  const run = (self as Partial<ServiceImpl>).run
  return run !== undefined && !run.closed && typeof (self as Partial<ServiceImpl>).forkIn === "function" ? run : undefined
}

/**
 * The timer on the scheduler: `start` runs on the task fiber (execFirst's call), then the
 * first tick is planned and the task fiber ends. Every tick's fiber ends by planning the next.
 */
const scheduled = <E, R>(
  self: Service.Service,
  run: Run,
  name: string,
  state: TickState,
  call: Effect.Effect<void, E, R>,
  start: Effect.Effect<void, E, R> | undefined
): Effect.Effect<void, E, R> =>
  Effect.withFiberRuntime<void, E, R>((task) => {
    const s = self as ServiceImpl
    const refs = task.getFiberRefs()
    let handle: TimerHandle | undefined
    const planNext: Effect.Effect<void> = Effect.withFiberRuntime((fiber) => {
      const now = nowMillis(fiber)
      const next = handle!.schedule(now + state.plan(now))
      return state.overlapped && LogLevel.Warning.ordinal >= fiber.getFiberRef(FiberRef.currentMinimumLogLevel).ordinal
        ? Effect.zipRight(Effect.logWarning(state.overlapMessage()), next)
        : next
    })
    const tick = Effect.zipRight(
      wake(state),
      Effect.flatMap(self.shouldStop, (stop) => stop ? Effect.void : Effect.zipRight(call, planNext))
    ) as Effect.Effect<void, unknown>
    // The task's error boundary: the callback's failure (onError: "crash") crashes the service.
    const guarded = withRefs(
      refs,
      Effect.catchAllCause(tick, (cause) =>
        Cause.isInterruptedOnly(cause) ? Effect.failCause(cause as Cause.Cause<never>) : s.crashWith(cause))
    )
    const fire = Effect.suspend(() => run.closed ? Effect.void : Effect.asVoid(s.forkIn(run, guarded, name)))
    const registered = Effect.uninterruptible(Effect.suspend(() =>
      run.closed ? Effect.void : Effect.flatMap(register(fire), (h) => {
        handle = h
        return self.addFinalizer(h.cancel)
      })
    ))
    const first = Effect.suspend(() => handle === undefined ? Effect.void : planNext)
    return Effect.zipRight(registered, start === undefined ? first : Effect.zipRight(start, first))
  })

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
            if (rate === "delay") return scheduled(self, run, name, new DelayState(name, intervalMillis, maxDriftCorrection, metrics), call, execFirst ? call : undefined)
            const fixed = new FixedRateState(name, intervalMillis, metrics)
            // With execFirst the grid is anchored before the first call (see below).
            const start = execFirst ? Effect.withFiberRuntime<void, E, R>((fiber) => {
              fixed.start(nowMillis(fiber))
              return call
            }) : undefined
            return scheduled(self, run, name, fixed, call, start)
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
