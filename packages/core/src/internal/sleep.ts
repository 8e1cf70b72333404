/**
 * Sleeps of any length on `Clock`. Effect's live clock treats a sleep over 2^31-1 ms (about
 * 24.8 days) as infinite, so a longer sleep is taken in steps of at most a day, reading the
 * clock between steps (a jump of the wall clock is noticed within a day, too).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

/** The longest single sleep asked of the clock. */
export const MAX_SLEEP_MILLIS = 24 * 60 * 60 * 1000

/** Sleeps on `Clock` until `instant` (epoch millis). */
export const sleepUntil = (instant: number): Effect.Effect<void> => {
  const step: Effect.Effect<void> = Effect.flatMap(Clock.currentTimeMillis, (now) =>
    now >= instant
      ? Effect.void
      : Effect.zipRight(Effect.sleep(Duration.millis(Math.min(instant - now, MAX_SLEEP_MILLIS))), again))
  const again = Effect.suspend(() => step)
  return step
}

/** Sleeps `millis` on `Clock`, in steps when that is longer than a day. */
export const sleepMillis = (millis: number): Effect.Effect<void> =>
  millis <= MAX_SLEEP_MILLIS
    ? Effect.sleep(Duration.millis(millis))
    : Effect.flatMap(Clock.currentTimeMillis, (now) => sleepUntil(now + millis))

/** As `sleepMillis`, for a `DurationInput`. */
export const sleep = (duration: Duration.DurationInput): Effect.Effect<void> => {
  const d = Duration.decode(duration)
  return Duration.isFinite(d) ? sleepMillis(Duration.toMillis(d)) : Effect.never
}
