/**
 * Cron expressions for `Service.crontab`, on Effect's `Cron` (5 fields, or 6 with leading
 * seconds; names, ranges, lists and steps; croniter's `@yearly`, `@annually`, `@monthly`,
 * `@weekly`, `@daily`, `@midnight`, `@hourly`; no `L`, `W`, `#`, `?`). Time is read
 * from `Clock`, so `TestClock.setTime` / `adjust` move it. Expressions are matched against
 * the local time of a time zone (default UTC), with daylight-saving changes handled: a
 * local time skipped by a spring-forward runs just after the gap (02:30 → 03:30), a local
 * time repeated by a fall-back runs once.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import type * as Cron from "effect/Cron"
import type * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as internal from "./internal/cron.js"

/**
 * A parsed cron expression and its time zone.
 *
 * @example
 * ```ts
 * import { Crontab } from "@effect-mode/core"
 *
 * const nightly: Crontab.Crontab = Crontab.unsafeParse("0 20 * * *", { timezone: "America/Los_Angeles" })
 * console.log(nightly.timezone) // "America/Los_Angeles"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Crontab {
  /** The expression as given. */
  readonly expression: string
  /** The time zone's name ("UTC" by default). */
  readonly timezone: string
  /** The expression as an Effect `Cron`, matched against local (wall-clock) time. */
  readonly cron: Cron.Cron
  readonly zone: DateTime.TimeZone
}

/**
 * Options of a crontab: `timezone` is an IANA name ("Europe/Paris") or an offset
 * ("+02:00"); default UTC, as mode.
 *
 * @example
 * ```ts
 * import type { Crontab } from "@effect-mode/core"
 *
 * const options: Crontab.Options = { timezone: "Europe/Paris" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly timezone?: string
}

/**
 * Parses a cron expression, as Effect's `Cron.parse`: the `Crontab` on the right, or on the
 * left a `TypeError` naming what is wrong (an invalid expression, one that never matches
 * like `"0 0 30 2 *"`, an unknown time zone or an offset beyond 18 hours).
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { Crontab } from "@effect-mode/core"
 *
 * const weekdays = Crontab.parse("0 9 * * mon-fri", { timezone: "Europe/Paris" })
 * if (Either.isLeft(Crontab.parse("0 25 * * *"))) console.log("not a valid hour")
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const parse = (expression: string, options?: Options): Either.Either<Crontab, TypeError> =>
  internal.parse(expression, options)

/**
 * Parses a cron expression, throwing the `TypeError` that `parse` returns on the left.
 *
 * @example
 * ```ts
 * import { Crontab } from "@effect-mode/core"
 *
 * const nightly = Crontab.unsafeParse("0 20 * * *", { timezone: "America/Los_Angeles" })
 * // Crontab.unsafeParse("0 25 * * *") throws: Invalid cron expression "0 25 * * *": ...
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const unsafeParse = (expression: string, options?: Options): Crontab =>
  internal.unsafeParse(expression, options)

/**
 * True for a value made by `Crontab.parse`.
 *
 * @example
 * ```ts
 * import { Crontab } from "@effect-mode/core"
 *
 * Crontab.isCrontab(Crontab.unsafeParse("* * * * *")) // true
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isCrontab: (u: unknown) => u is Crontab = internal.isCrontab

/**
 * The first time strictly after `after` that the crontab matches. Pure: pass the time
 * explicitly (in Effect code, use `secsForNext`, which reads `Clock`).
 *
 * @example
 * ```ts
 * import { Crontab } from "@effect-mode/core"
 *
 * const tab = Crontab.unsafeParse("0 20 * * *", { timezone: "America/Los_Angeles" })
 * Crontab.next(tab, Date.UTC(2000, 0, 1)).toISOString() // "2000-01-01T04:00:00.000Z"
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const next: {
  (after: number | Date): (self: Crontab) => Date
  (self: Crontab, after: number | Date): Date
} = dual(2, (self: Crontab, after: number | Date): Date =>
  new Date(internal.nextRun(self, typeof after === "number" ? after : after.getTime()).instant))

/**
 * mode's `secs_for_next`: the seconds from now (read from `Clock`) to the next time the
 * crontab matches. A string is parsed at once, so a bad expression or time zone throws
 * when this is called, naming it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Crontab } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const secs = yield* Crontab.secsForNext("0 20 * * *", { timezone: "America/Los_Angeles" })
 *   yield* Effect.log(`next report in ${secs} s`)
 * })
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const secsForNext = (cronFormat: string | Crontab, options?: Options): Effect.Effect<number> => {
  const tab = internal.isCrontab(cronFormat) ? cronFormat : internal.unsafeParse(cronFormat, options)
  return Effect.map(Clock.currentTimeMillis, (now) => (internal.nextRun(tab, now).instant - now) / 1000)
}
