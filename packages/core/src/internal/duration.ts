/**
 * Decoding of the durations users pass (options, intervals), with errors that name the
 * option and the value.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"

const isNegative = (input: unknown): boolean =>
  (typeof input === "number" && (input < 0 || Number.isNaN(input))) ||
  (typeof input === "bigint" && input < 0n) ||
  (typeof input === "string" && /^\s*-/.test(input)) ||
  (Array.isArray(input) && input.some((part) => typeof part !== "number" || part < 0 || Number.isNaN(part)))

/**
 * Decodes a `DurationInput` supplied by a user, throwing an error that names the option and
 * the bad value when it is not a valid, non-negative duration (Effect's own decoder would
 * silently clamp a negative number to zero).
 */
export const decodeDuration = (input: Duration.DurationInput, what: string): Duration.Duration => {
  const decoded = isNegative(input) ? Option.none() : Duration.decodeUnknown(input)
  if (Option.isNone(decoded)) {
    throw new TypeError(
      `Invalid ${what}: ${JSON.stringify(String(input))} is not a non-negative duration (try "5 seconds" or 5000)`
    )
  }
  return decoded.value
}

/**
 * A timer's interval, in milliseconds: a finite duration of at least 1 ms, the timers'
 * resolution (a shorter one would be planned as 0 ms and tick without letting time pass).
 */
export const decodeInterval = (input: Duration.DurationInput, what: string): number => {
  const millis = Duration.toMillis(decodeDuration(input, what))
  if (!Number.isFinite(millis) || millis < 1) {
    throw new TypeError(
      `Invalid ${what}: ${JSON.stringify(String(input))} is not a finite duration of at least 1 millisecond (try "1 second")`
    )
  }
  return millis
}

/**
 * As `decodeDuration`, and the duration must be more than zero (a deadline of 0 would cut
 * even `Effect.void`).
 */
export const decodePositiveDuration = (input: Duration.DurationInput, what: string): Duration.Duration => {
  const decoded = decodeDuration(input, what)
  if (Duration.toMillis(decoded) <= 0) {
    throw new TypeError(`Invalid ${what}: ${JSON.stringify(String(input))} is not a positive duration (try "5 seconds")`)
  }
  return decoded
}
