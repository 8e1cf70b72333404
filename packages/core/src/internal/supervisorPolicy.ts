/**
 * Supervisor options checked and decoded once, when the supervisor is declared, and the
 * backoff state of one slot.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Intervals from "effect/ScheduleIntervals"
import { decodeDuration } from "./duration.js"
import { checkLabel } from "./service/validate.js"

// The public types are declared once, in Supervisor.ts.
export type { Options, RestartType } from "../Supervisor.js"
import type { Options, RestartType } from "../Supervisor.js"

/** Elixir's defaults: at most 3 restarts in any 5 seconds. */
export const defaultMaxRestarts = 3
export const defaultWithin = Duration.seconds(5)

const restartTypes: ReadonlyArray<RestartType> = ["permanent", "transient", "temporary"]

export const checkRestartType = (input: unknown, what: string): RestartType => {
  if (!restartTypes.includes(input as RestartType)) {
    throw new TypeError(
      `Invalid ${what}: ${JSON.stringify(String(input))} is not a restart type (permanent, transient or temporary)`
    )
  }
  return input as RestartType
}

/** Options checked and decoded once, when the supervisor is declared. */
export interface Policy {
  readonly maxRestarts: number
  readonly withinMillis: number
  readonly backoff: Schedule.Schedule<unknown> | undefined
  readonly resetBackoffAfterMillis: number
  readonly replacement: Options["replacement"]
  readonly restart: RestartType
}

/** The options of the restart policy (a supervisor's, a group's, a Tag's `supervise`). */
export const policyNames: ReadonlyArray<string> = ["maxRestarts", "within", "backoff", "resetBackoffAfter"]

/** The options of a supervisor. */
export const optionNames: ReadonlyArray<string> = [...policyNames, "replacement", "restart"]

export const decodeOptions = (label: string, options: Options): Policy => {
  checkLabel(label, "supervisor")
  if (options.backoff !== undefined && !Schedule.isSchedule(options.backoff)) {
    throw new TypeError(
      `Invalid backoff of supervisor ${label}: ${JSON.stringify(String(options.backoff))} is not a Schedule (try Schedule.exponential("100 millis"))`
    )
  }
  const maxRestarts = options.maxRestarts ?? defaultMaxRestarts
  // Infinity: no limit (mode's max_restarts is a float).
  if (maxRestarts !== Infinity && (!Number.isInteger(maxRestarts) || maxRestarts < 0)) {
    throw new TypeError(
      `Invalid maxRestarts of supervisor ${label}: ${JSON.stringify(String(maxRestarts))} is not a non-negative integer or Infinity`
    )
  }
  const within = options.within === undefined
    ? defaultWithin
    : decodeDuration(options.within, `within of supervisor ${label}`)
  const withinMillis = Duration.toMillis(within)
  if (!(withinMillis > 0) || !Number.isFinite(withinMillis)) {
    throw new TypeError(
      `Invalid within of supervisor ${label}: ${JSON.stringify(String(options.within))} is not a positive, finite duration`
    )
  }
  const resetBackoffAfterMillis = options.resetBackoffAfter === undefined
    ? withinMillis
    : Duration.toMillis(decodeDuration(options.resetBackoffAfter, `resetBackoffAfter of supervisor ${label}`))
  if (options.replacement !== undefined && typeof options.replacement !== "function") {
    throw new TypeError(`Invalid replacement of supervisor ${label}: not a function`)
  }
  return {
    maxRestarts,
    withinMillis,
    backoff: options.backoff,
    resetBackoffAfterMillis,
    replacement: options.replacement,
    restart: options.restart === undefined
      ? "permanent"
      : checkRestartType(options.restart, `restart of supervisor ${label}`)
  }
}

/** The backoff of one supervised slot: the schedule's state, started over after a quiet run. */
export class Backoff {
  private state: unknown
  private lastRestartAt: number | undefined = undefined

  constructor(readonly schedule: Schedule.Schedule<unknown>, readonly resetAfterMillis: number) {
    this.state = schedule.initial
  }

  /** The delay before the next restart, in millis, or "done" when the schedule ended. */
  next(now: number, input: unknown): Effect.Effect<number | "done"> {
    return Effect.suspend(() => {
      if (this.lastRestartAt !== undefined && now - this.lastRestartAt >= this.resetAfterMillis) {
        this.state = this.schedule.initial
      }
      this.lastRestartAt = undefined
      return Effect.map(this.schedule.step(now, input, this.state), ([state, _out, decision]) => {
        this.state = state
        if (ScheduleDecision.isDone(decision)) return "done" as const
        return Math.max(0, Intervals.start(decision.intervals) - now)
      })
    })
  }

  /** The slot was restarted at `now`: a crash `resetAfterMillis` later starts the schedule over. */
  restarted(now: number): void {
    this.lastRestartAt = now
  }

  reset(): void {
    this.state = this.schedule.initial
    this.lastRestartAt = undefined
  }
}
