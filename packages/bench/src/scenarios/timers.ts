/**
 * The timers scenario: N timers ticking every 100 ms for 10 s, on the live clock. For every
 * tick the wake-up time is recorded; the figures are the per-tick drift (how far each gap
 * between two ticks is from 100 ms) and the lag the timers accumulated by the end.
 *
 * @since 0.0.0
 */
import { Service } from "@effect-mode/core"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { cpuMsSince, now, peakRssMb } from "../measure.js"
import type { Row } from "../Row.js"
import { percentile, round } from "../stats.js"

/** The interval of every timer, in ms. */
export const INTERVAL_MS = 100

/** How long the timers run, in ms (`BENCH_TIMERS_MS` overrides it, for quick checks). */
export const durationMs = (): number => Number(process.env["BENCH_TIMERS_MS"] ?? 10_000)

/**
 * The wake-up times of `n` timers, at most `maxTicks` each.
 *
 * @example
 * ```ts
 * import { TickLog } from "@effect-mode/bench/scenarios/timers"
 *
 * const log = new TickLog(2, 10)
 * log.record(0, 100)
 * ```
 *
 * @since 0.0.0
 */
export class TickLog {
  readonly times: Float64Array
  readonly counts: Int32Array
  constructor(readonly n: number, readonly maxTicks: number) {
    this.times = new Float64Array(n * maxTicks)
    this.counts = new Int32Array(n)
  }
  record(timer: number, at: number): void {
    const k = this.counts[timer]!
    if (k < this.maxTicks) {
      this.times[timer * this.maxTicks + k] = at
      this.counts[timer] = k + 1
    }
  }
  /** Total ticks recorded. */
  get ticks(): number {
    let sum = 0
    for (let i = 0; i < this.n; i++) sum += this.counts[i]!
    return sum
  }
  /**
   * `drift`: |gap between consecutive ticks − interval| for every tick after a timer's first;
   * `lag`: per timer, (last − first tick) − (ticks − 1) × interval, i.e. how far behind its
   * own grid the timer fell over the run.
   */
  analyse(intervalMs: number): { readonly drift: Float64Array; readonly lag: Float64Array } {
    const drift: Array<number> = []
    const lag: Array<number> = []
    for (let i = 0; i < this.n; i++) {
      const k = this.counts[i]!
      const base = i * this.maxTicks
      for (let j = 1; j < k; j++) drift.push(Math.abs(this.times[base + j]! - this.times[base + j - 1]! - intervalMs))
      if (k > 1) lag.push(this.times[base + k - 1]! - this.times[base]! - (k - 1) * intervalMs)
    }
    return { drift: Float64Array.from(drift), lag: Float64Array.from(lag) }
  }
}

const effectMode = (log: TickLog, rate: "delay" | "fixed"): Effect.Effect<void, unknown> =>
  Effect.gen(function*() {
    const tasks = Array.from({ length: log.n }, (_, i) =>
      Service.timer(`${INTERVAL_MS} millis`, () => Effect.sync(() => log.record(i, now())), { name: `t${i}`, rate }))
    const service = yield* Service.make("Timers", { mundaneLevel: "debug", tasks })
    yield* service.start
    yield* Effect.sleep(durationMs())
    yield* service.stop
  })

const scheduled = (log: TickLog, schedule: Schedule.Schedule<unknown>): Effect.Effect<void> =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    for (let i = 0; i < log.n; i++) {
      yield* Effect.forkIn(Effect.schedule(Effect.sync(() => log.record(i, now())), schedule), scope)
    }
    yield* Effect.sleep(durationMs())
    yield* Scope.close(scope, Exit.void)
  })

const setIntervals = async (log: TickLog): Promise<void> => {
  const handles: Array<NodeJS.Timeout> = []
  for (let i = 0; i < log.n; i++) handles.push(setInterval(() => log.record(i, now()), INTERVAL_MS))
  await new Promise((resolve) => setTimeout(resolve, durationMs()))
  for (const h of handles) clearInterval(h)
}

/**
 * Runs the timers scenario once for `subject` with `n` timers and returns its row: `p50Ms`
 * and `p99Ms` of the per-tick drift, `lagMs` (median accumulated lag of a timer over the
 * run), `ticks`, `cpuMs` (process CPU time during the run), `peakRssMb`.
 *
 * @example
 * ```ts
 * import { runTimers } from "@effect-mode/bench/scenarios/timers"
 *
 * const row = await runTimers("baseline-setinterval", 1000)
 * ```
 *
 * @since 0.0.0
 */
export const runTimers = async (subject: string, n: number): Promise<Row> => {
  const log = new TickLog(n, Math.ceil(durationMs() / INTERVAL_MS) + 2)
  const cpu0 = process.cpuUsage()
  const t0 = now()
  switch (subject) {
    case "effect-mode":
      await Effect.runPromise(effectMode(log, "delay"))
      break
    case "effect-mode-fixed":
      await Effect.runPromise(effectMode(log, "fixed"))
      break
    case "baseline-schedule-spaced":
      await Effect.runPromise(scheduled(log, Schedule.spaced(`${INTERVAL_MS} millis`)))
      break
    case "baseline-schedule-fixed":
      await Effect.runPromise(scheduled(log, Schedule.fixed(`${INTERVAL_MS} millis`)))
      break
    case "baseline-setinterval":
      await setIntervals(log)
      break
    default:
      throw new Error(`timers: unknown subject ${subject}`)
  }
  const wallMs = now() - t0
  const cpuMs = cpuMsSince(cpu0)
  const { drift, lag } = log.analyse(INTERVAL_MS)
  return {
    scenario: "timers",
    n,
    subject,
    wallMs: round(wallMs),
    peakRssMb: round(peakRssMb(), 1),
    p50Ms: round(percentile(drift, 50), 3),
    p99Ms: round(percentile(drift, 99), 3),
    lagMs: round(percentile(lag, 50), 2),
    ticks: log.ticks,
    cpuMs: round(cpuMs)
  }
}
