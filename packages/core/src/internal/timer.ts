/**
 * Timers: `Timer.make` and mode's `itertimer`, tick streams over a timer state
 * (timerState.ts) that sleep on `Clock` (in steps for long intervals, sleep.ts).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Timer from "../Timer.js"
import { decodeDuration, decodeInterval } from "./duration.js"
import { millisOf } from "./monotonic.js"
import { checkOptions } from "./options.js"
import { sleepMillis } from "./sleep.js"
import * as timerMetrics from "./timerMetrics.js"
import { DelayState, type WakeLevel } from "./timerState.js"

/** mode's default `max_drift_correction` (0.1 s). */
export const DEFAULT_MAX_DRIFT_CORRECTION_MILLIS = 100

/** What the tick steps need of a timer's bookkeeping (`DelayState` or `FixedRateState`). */
export interface TickState {
  readonly overlapped: boolean
  plan(now: number): number
  wake(now: number): WakeLevel
  overlapMessage(): string
  driftMessage(): string
  debugMessage(): string
}

/** The fiber's `Clock` (so `TestClock` drives timers), monotonic, in milliseconds. */
export const nowMillis = (fiber: Fiber.RuntimeFiber<unknown, unknown>): number =>
  millisOf(Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeNanos())

const enabled = (fiber: Fiber.RuntimeFiber<unknown, unknown>, level: LogLevel.LogLevel): boolean =>
  level.ordinal >= fiber.getFiberRef(FiberRef.currentMinimumLogLevel).ordinal

/**
 * The consumer asks for a tick: plan the sleep (logging an overlap at warning), then run
 * `sleep(millis)`. The log line is only formatted when its level is enabled.
 */
export const planThen = <A, E, R>(state: TickState, sleep: (millis: number) => Effect.Effect<A, E, R>) =>
  Effect.withFiberRuntime<A, E, R>((fiber) => {
    const millis = state.plan(nowMillis(fiber))
    const sleeping = sleep(millis)
    return state.overlapped && enabled(fiber, LogLevel.Warning)
      ? Effect.zipRight(Effect.logWarning(state.overlapMessage()), sleeping)
      : sleeping
  })

/** The timer woke up: record the drift and log it (info when mode would, else debug). */
export const wake = (state: TickState): Effect.Effect<void> =>
  Effect.withFiberRuntime<void>((fiber) => {
    const level = state.wake(nowMillis(fiber))
    if (!enabled(fiber, level)) return Effect.void
    return Effect.logWithLevel(level, level === LogLevel.Info ? state.driftMessage() : state.debugMessage())
  })

export const decodeMaxDriftCorrection = (input: Duration.DurationInput | undefined, what: string): number =>
  input === undefined
    ? DEFAULT_MAX_DRIFT_CORRECTION_MILLIS
    : Duration.toMillis(decodeDuration(input, `maxDriftCorrection of ${what}`))

const decodeName = (name: unknown, fallback: string): string => {
  if (name === undefined) return fallback
  if (typeof name !== "string" || name.length === 0) {
    throw new TypeError(`Invalid timer name: ${JSON.stringify(String(name))} is not a non-empty string`)
  }
  return name
}

/**
 * The tick stream of a fixed-delay timer: pull-based (a tick is planned, and slept for,
 * only when the consumer asks for it). With `shouldStop`, it ends as soon as that is true,
 * checked before each sleep and after each wake-up (mode's `itertimer`).
 */
export const tickStream = (
  state: DelayState,
  sleep: (millis: number) => Effect.Effect<void>,
  shouldStop?: Effect.Effect<boolean>
): Stream.Stream<Duration.Duration> => {
  const sleepTick = planThen(state, (millis) => Effect.as(sleep(millis), millis))
  const step: Effect.Effect<Duration.Duration, Option.Option<never>> = shouldStop === undefined
    ? Effect.map(Effect.zipLeft(sleepTick, wake(state)), Duration.millis)
    : Effect.flatMap(shouldStop, (stop) =>
      stop ? Effect.fail(Option.none()) : Effect.flatMap(sleepTick, (millis) =>
        Effect.flatMap(shouldStop, (stopped) =>
          stopped
            ? Effect.fail(Option.none())
            : Effect.as(wake(state), Duration.millis(millis)))))
  return Stream.suspend(() => {
    state.reset()
    return Stream.repeatEffectOption(step)
  })
}

export const make = (interval: Duration.DurationInput, timerOptions?: Timer.Options): Effect.Effect<Timer.Timer> => {
  const options = checkOptions(timerOptions, "Timer.make", ["name", "maxDriftCorrection"])
  const name = decodeName(options.name, "timer")
  const millis = decodeInterval(interval, `interval of timer ${name}`)
  const maxDriftCorrection = decodeMaxDriftCorrection(options.maxDriftCorrection, `timer ${name}`)
  return Effect.map(timerMetrics.forTimer(name), (metrics): Timer.Timer => {
    // Each run of `ticks` keeps time on its own (two runs at once do not move each other's
    // wake-ups); the stats add up every run's, the ended ones' and those still running.
    const live = new Set<DelayState>()
    let ended: Timer.Stats = noStats
    return {
      name,
      interval: Duration.millis(millis),
      stats: Effect.sync(() => {
        let total = ended
        for (const state of live) total = addStats(total, state.stats)
        return total
      }),
      ticks: Stream.suspend(() => {
        const state = new DelayState(name, millis, maxDriftCorrection, metrics)
        live.add(state)
        return Stream.ensuring(
          tickStream(state, sleepMillis),
          Effect.sync(() => {
            if (live.delete(state)) ended = addStats(ended, state.stats)
          })
        )
      })
    }
  })
}

const noStats: Timer.Stats = { iteration: 0, drifting: 0, driftingEarly: 0, driftingLate: 0, overlaps: 0 }

const addStats = (a: Timer.Stats, b: Timer.Stats): Timer.Stats => ({
  iteration: a.iteration + b.iteration,
  drifting: a.drifting + b.drifting,
  driftingEarly: a.driftingEarly + b.driftingEarly,
  driftingLate: a.driftingLate + b.driftingLate,
  overlaps: a.overlaps + b.overlaps
})

/**
 * mode's `itertimer` on a service: a tick stream whose sleeps wake early when the service
 * stops or crashes, and which ends then. Its metrics are labelled with the service path.
 */
export const itertimer = (
  self: { readonly sleep: (d: Duration.DurationInput) => Effect.Effect<void>; readonly shouldStop: Effect.Effect<boolean>; readonly beacon: { readonly path: Effect.Effect<string> } },
  interval: Duration.DurationInput,
  itertimerOptions?: Timer.Options
): Stream.Stream<Duration.Duration> => {
  const options = checkOptions(itertimerOptions, "itertimer", ["name", "maxDriftCorrection"])
  const name = decodeName(options.name, "itertimer")
  const millis = decodeInterval(interval, `interval of itertimer ${name}`)
  const maxDriftCorrection = decodeMaxDriftCorrection(options.maxDriftCorrection, `itertimer ${name}`)
  const sleep = (ms: number) => self.sleep(Duration.millis(ms))
  return Stream.unwrap(Effect.map(
    Effect.flatMap(self.beacon.path, (path) => timerMetrics.forTimer(name, path)),
    (metrics) => tickStream(new DelayState(name, millis, maxDriftCorrection, metrics), sleep, self.shouldStop)
  ))
}
