/**
 * Cron on Effect's `Cron`, computed on wall-clock time: the expression is matched against
 * the local time of the time zone (as if it were UTC, where Effect's `Cron` has no DST
 * logic), then the local time found is turned into an instant. A local time skipped by a
 * spring-forward runs at the same offset after the gap (02:30 → 03:30); a local time
 * repeated by a fall-back runs once, at its first occurrence. Callers that run jobs pass
 * the last local time they ran, so one scheduled time never runs twice.
 */
import * as Cron from "effect/Cron"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Crontab from "../Crontab.js"
import { checkOptions, show } from "./options.js"

class CrontabImpl implements Crontab.Crontab {
  constructor(
    readonly expression: string,
    readonly timezone: string,
    readonly cron: Cron.Cron,
    readonly zone: DateTime.TimeZone,
    readonly utc: boolean
  ) {}
  toString(): string {
    return `Crontab(${this.expression}, ${this.timezone})`
  }
  toJSON(): unknown {
    return { _id: "Crontab", expression: this.expression, timezone: this.timezone }
  }
}

export const isCrontab = (u: unknown): u is Crontab.Crontab => u instanceof CrontabImpl

const impl = (self: Crontab.Crontab): CrontabImpl =>
  self instanceof CrontabImpl ? self : parseIn(self.expression, self.timezone) as CrontabImpl

const isUtc = (zone: DateTime.TimeZone): boolean =>
  zone._tag === "Named" ? zone.id === "UTC" || zone.id === "Etc/UTC" : zone.offset === 0

/** croniter's (and Vixie cron's) shorthands, as the five fields they stand for. */
const macros: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *"
}

/** `Crontab.parse`: a `TypeError` that names the bad value (or option) on the left. */
export const parse = (expression: string, options?: Crontab.Options): Either.Either<Crontab.Crontab, TypeError> => {
  try {
    return Either.right(unsafeParse(expression, options))
  } catch (error) {
    return Either.left(error as TypeError)
  }
}

/** `Crontab.unsafeParse`: its options checked (`timezone` only), then `parseIn`. */
export const unsafeParse = (expression: string, options?: Crontab.Options): Crontab.Crontab =>
  parseIn(expression, cronOptions(options, `Crontab.parse(${show(expression)})`, ["timezone"]).timezone)

/**
 * The options of a cron function, checked: an object holding only `known`. A zone given where
 * the options go (mode's `secs_for_next(expr, tz)`) is told how to write it.
 *
 * @internal
 */
export const cronOptions = <O extends Crontab.Options>(options: O | undefined, what: string, known: ReadonlyArray<string>): O => {
  if (typeof options === "string") {
    throw new TypeError(`Invalid options of ${what}: ${show(options)} (expected an object: { timezone: ${show(options)} })`)
  }
  return checkOptions(options, what, known)
}

/** Parses `expression` in `timezone` (default UTC), throwing a `TypeError` that names the bad value. */
export const parseIn = (expression: string, timezone?: string): Crontab.Crontab => {
  if (typeof expression !== "string") {
    throw new TypeError(`Invalid cron expression: ${String(expression)} is not a string`)
  }
  if (timezone !== undefined && typeof timezone !== "string") {
    throw new TypeError(`Invalid time zone ${String(timezone)} for cron expression ${JSON.stringify(expression)}`)
  }
  const zoneInput = timezone ?? "UTC"
  // Effect reads anything that starts with "GMT" as an offset ("GMT+02:00"); a name it is not
  // (bare "GMT", "GMT0") is tried as an IANA name too, as Intl and pytz know them.
  const zone = Option.orElse(DateTime.zoneFromString(zoneInput), () => DateTime.zoneMakeNamed(zoneInput))
  // An offset is at most 18 hours either way (ISO 8601 and Temporal's bound).
  if (Option.isNone(zone) || (zone.value._tag === "Offset" && Math.abs(zone.value.offset) > 18 * 60 * 60 * 1000)) {
    throw new TypeError(
      `Invalid time zone ${JSON.stringify(zoneInput)} for cron expression ${JSON.stringify(expression)} ` +
        `(expected an IANA name such as "Europe/Paris", or an offset such as "+02:00")`
    )
  }
  const parsed = Cron.parse(macros[expression.trim().toLowerCase()] ?? expression, "UTC")
  if (Either.isLeft(parsed)) {
    const { input, message } = parsed.left
    const detail = input === expression ? message : `${message}: ${JSON.stringify(input)}`
    throw new TypeError(`Invalid cron expression ${JSON.stringify(expression)}: ${detail}`)
  }
  try {
    Cron.next(parsed.right, 0)
  } catch {
    throw new TypeError(`Invalid cron expression ${JSON.stringify(expression)}: it never matches any date`)
  }
  return new CrontabImpl(expression, DateTime.zoneToString(zone.value), parsed.right, zone.value, isUtc(zone.value))
}

/** The local (wall-clock) time of `millis` in the crontab's zone, as millis of a UTC date. */
const wallOf = (self: CrontabImpl, millis: number): number =>
  self.utc ? millis : millis + DateTime.zonedOffset(DateTime.unsafeMakeZoned(millis, { timeZone: self.zone }))

const instantOf = (self: CrontabImpl, wall: number, disambiguation: "compatible" | "later"): number =>
  DateTime.toEpochMillis(
    DateTime.unsafeMakeZoned(wall, { timeZone: self.zone, adjustForTimeZone: true, disambiguation })
  )

/** One scheduled run: the instant it is due and the local time it stands for. */
export interface Run {
  readonly instant: number
  readonly wall: number
}

/**
 * The first run strictly after `after` (epoch millis) whose local time is also strictly
 * after `lastWall` (the local time of the last run, if any).
 */
export const nextRun = (self: Crontab.Crontab, after: number, lastWall = Number.NEGATIVE_INFINITY): Run => {
  const tab = impl(self)
  let wall = Math.max(wallOf(tab, after), lastWall)
  for (let i = 0; i < 64; i++) {
    wall = Cron.next(tab.cron, wall).getTime()
    if (tab.utc) return { instant: wall, wall }
    const first = instantOf(tab, wall, "compatible")
    if (first > after) return { instant: first, wall }
    // A repeated local time whose first occurrence is already past.
    const second = instantOf(tab, wall, "later")
    if (second > after) return { instant: second, wall }
  }
  throw new Error(
    `Cron expression ${JSON.stringify(tab.expression)} (${tab.timezone}): no run found after ${new Date(after).toISOString()}`
  )
}
