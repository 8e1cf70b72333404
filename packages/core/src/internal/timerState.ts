/**
 * The bookkeeping of mode's Timer (`mode/timers.py`), kept synchronous and allocation-free
 * so that a service tree with one timer per service stays cheap. Times are milliseconds of
 * a monotonic clock; the effectful loops around it live in `timer.ts` and `timerTask.ts`.
 */
import * as LogLevel from "effect/LogLevel"
import type * as Timer from "../Timer.js"
import type { TimerMetrics } from "./timerMetrics.js"

/** mode's `MAX_DRIFT_PERCENT`: a drift of 30 % of the interval is logged at info. */
export const MAX_DRIFT_PERCENT = 0.3
/** mode's `MAX_DRIFT_CEILING` (1.2 s): a drift that large is logged at info. */
export const MAX_DRIFT_CEILING_MILLIS = 1200
/** Drift is only logged at info (and counted) for intervals of at least one second. */
const INFO_INTERVAL_MILLIS = 1000

/** Formats milliseconds for log lines: "350ms", "1.25s". */
export const formatMillis = (millis: number): string => {
  const abs = Math.abs(millis)
  return abs < 1000 ? `${round3(millis)}ms` : `${round3(millis / 1000)}s`
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000

/**
 * What happened on a wake-up, for the log line: `Debug` for a normal wake-up, `Info` for
 * a drift mode logs ("too late" / "too early").
 */
export type WakeLevel = LogLevel.LogLevel

/** The counters shared by the fixed-delay and fixed-rate bookkeeping. */
abstract class Counters {
  iteration = 0
  drifting = 0
  driftingEarly = 0
  driftingLate = 0
  overlaps = 0
  /** Drift of the last wake-up (positive: early, negative: late), as in mode. */
  lastDrift = 0
  /** How long the consumer of the previous tick ran. */
  lastRuntime = 0
  /** How long the last sleep lasted. */
  lastSlept = 0

  constructor(
    readonly name: string,
    readonly intervalMillis: number,
    readonly metrics: TimerMetrics | undefined
  ) {}

  /** mode's logging threshold: `min(interval * 30 %, 1.2 s)`. */
  get maxDriftMillis(): number {
    return Math.min(this.intervalMillis * MAX_DRIFT_PERCENT, MAX_DRIFT_CEILING_MILLIS)
  }

  get stats(): Timer.Stats {
    return {
      iteration: this.iteration,
      drifting: this.drifting,
      driftingEarly: this.driftingEarly,
      driftingLate: this.driftingLate,
      overlaps: this.overlaps
    }
  }

  /** Records a drift (mode's rule) and the tick; returns the level of the wake-up log line. */
  protected recordWake(drift: number): WakeLevel {
    this.iteration++
    this.lastDrift = drift
    const metrics = this.metrics
    if (metrics !== undefined) {
      metrics.ticks.update(1)
      metrics.drift.update(Math.abs(drift) / 1000)
    }
    if (this.intervalMillis >= INFO_INTERVAL_MILLIS && Math.abs(drift) >= this.maxDriftMillis) {
      this.drifting++
      if (drift < 0) this.driftingLate++
      else this.driftingEarly++
      return LogLevel.Info
    }
    return LogLevel.Debug
  }

  protected recordOverlap(runtime: number): void {
    this.overlaps++
    this.metrics?.overlaps.update(1)
    this.lastRuntime = runtime
  }

  /** mode's "woke up too late/early" (info) line. */
  driftMessage(): string {
    const drift = this.lastDrift
    return drift < 0
      ? `Timer ${this.name} woke up too late, with a drift of +${formatMillis(-drift)} ` +
        `runtime=${formatMillis(this.lastRuntime)} sleeptime=${formatMillis(this.lastSlept)}`
      : `Timer ${this.name} woke up too early, with a drift of -${formatMillis(drift)} ` +
        `runtime=${formatMillis(this.lastRuntime)} sleeptime=${formatMillis(this.lastSlept)}`
  }

  /** mode's "is overlapping" (warning) line. */
  overlapMessage(): string {
    return `Timer ${this.name} is overlapping (interval=${formatMillis(this.intervalMillis)} ` +
      `runtime=${formatMillis(this.lastRuntime)})`
  }

  abstract debugMessage(): string
}

/**
 * mode's Timer: fixed delay. The consumer asks for a tick (`plan`), the timer sleeps the
 * returned time, wakes up (`wake`) and hands the tick over. The next sleep is the interval
 * corrected by the drift of the last wake-up, clamped to `interval ± maxDriftCorrection`
 * (no correction when the interval is not larger than that bound). The drift is measured
 * against the nominal interval, so a constantly late clock is corrected every other tick,
 * as in mode.
 */
export class DelayState extends Counters {
  private readonly minMillis: number
  private readonly maxMillis: number
  private first = true
  private epoch = 0
  private sleepStartedAt = 0
  private wokeAt = 0
  private nextSleep: number
  /** Set by `plan` when the consumer of the last tick outlasted the interval. */
  overlapped = false

  constructor(name: string, intervalMillis: number, maxDriftCorrectionMillis: number, metrics?: TimerMetrics) {
    super(name, intervalMillis, metrics)
    if (intervalMillis > maxDriftCorrectionMillis) {
      this.minMillis = intervalMillis - maxDriftCorrectionMillis
      this.maxMillis = intervalMillis + maxDriftCorrectionMillis
    } else {
      this.minMillis = this.maxMillis = intervalMillis
    }
    this.nextSleep = intervalMillis
  }

  /** The next tick starts a new run of the timer: the first tick comes after one interval. */
  reset(): void {
    this.first = true
  }

  /** mode's `adjust_interval`. */
  adjust(drift: number): number {
    const interval = this.intervalMillis
    const withDrift = interval + drift
    if (withDrift > interval) return Math.min(withDrift, this.maxMillis)
    if (withDrift < interval) return Math.max(withDrift, this.minMillis)
    return interval
  }

  /** The consumer asks for the next tick at `now`: returns how long to sleep (whole millis). */
  plan(now: number): number {
    this.overlapped = false
    if (this.first) {
      this.first = false
      this.epoch = now
      this.nextSleep = this.intervalMillis
    } else {
      const runtime = now - this.wokeAt
      this.lastRuntime = runtime
      if (runtime > this.intervalMillis) {
        this.recordOverlap(runtime)
        this.overlapped = true
      }
    }
    this.sleepStartedAt = now
    return Math.max(0, Math.round(this.nextSleep))
  }

  /** The timer woke up at `now`: measures the drift; returns the level of the log line. */
  wake(now: number): WakeLevel {
    const slept = now - this.sleepStartedAt
    this.lastSlept = slept
    this.wokeAt = now
    const drift = this.intervalMillis - slept
    this.nextSleep = this.adjust(drift)
    return this.recordWake(drift)
  }

  debugMessage(): string {
    return `Timer ${this.name} woke up - iteration=${this.iteration} ` +
      `time_spent_sleeping=${formatMillis(this.lastSlept)} drift=${formatMillis(this.lastDrift)} ` +
      `new_interval=${formatMillis(this.nextSleep)} since_epoch=${formatMillis(this.wokeAt - this.epoch)}`
  }
}

/**
 * A fixed-rate timer (`rate: "fixed"`), drift-free like `Schedule.fixed`: ticks are due on
 * the grid `start + k * interval`, whatever the wake-up lateness or the consumer's runtime.
 * A consumer that ran past the next due time is an overlap: the missed ticks are skipped
 * (no pile-up) and one tick is handed over at once, then the grid is followed again.
 */
export class FixedRateState extends Counters {
  private first = true
  private anchor = 0
  private slot = 0
  private dueAt = 0
  private sleepStartedAt = 0
  private wokeAt = 0
  /** Set by `plan` when the consumer of the last tick ran past the next due time. */
  overlapped = false

  /** Anchors the grid at `now` (a call made at once, before the first tick: `execFirst`). */
  start(now: number): void {
    this.first = false
    this.anchor = now
    this.slot = 0
    this.dueAt = now
    this.sleepStartedAt = now
    this.wokeAt = now
  }

  /** The consumer asks for the next tick at `now`: returns how long to sleep (whole millis). */
  plan(now: number): number {
    const interval = this.intervalMillis
    this.overlapped = false
    if (this.first) {
      this.first = false
      this.anchor = now
      this.slot = 1
      this.dueAt = now + interval
    } else {
      this.lastRuntime = now - this.wokeAt
      let slot = this.slot + 1
      const due = this.anchor + slot * interval
      if (interval > 0 && now > due) {
        this.recordOverlap(this.lastRuntime)
        this.overlapped = true
        // Hand one tick over now, then go back to the first grid point after it.
        while (this.anchor + slot * interval <= now) slot++
        this.slot = slot - 1
        this.dueAt = now
      } else {
        this.slot = slot
        this.dueAt = interval > 0 ? due : now
      }
    }
    this.sleepStartedAt = now
    return Math.max(0, Math.ceil(this.dueAt - now))
  }

  /** The timer woke up at `now`: the drift is how early (positive) or late (negative) it woke. */
  wake(now: number): WakeLevel {
    this.lastSlept = now - this.sleepStartedAt
    this.wokeAt = now
    return this.recordWake(this.dueAt - now)
  }

  debugMessage(): string {
    return `Timer ${this.name} woke up - iteration=${this.iteration} ` +
      `time_spent_sleeping=${formatMillis(this.lastSlept)} drift=${formatMillis(this.lastDrift)} ` +
      `since_epoch=${formatMillis(this.wokeAt - this.anchor)}`
  }
}
