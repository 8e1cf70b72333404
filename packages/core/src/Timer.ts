/**
 * mode's Timer: ticks every `interval`, the first after one interval, fixed delay after the
 * consumer of a tick finishes; late or early wake-ups are corrected by at most
 * `maxDriftCorrection`; a consumer that outlasts the interval counts (and logs) an overlap.
 * Every timer (`Timer.make`, `Service.timer`, `itertimer`) also feeds three Effect metrics,
 * tagged with the service path (`service`, for timers of a service) and the timer's name.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as FiberRef from "effect/FiberRef"
import * as Metric from "effect/Metric"
import type * as Stream from "effect/Stream"
import * as internal from "./internal/timer.js"
import * as timerMetrics from "./internal/timerMetrics.js"

/**
 * Options of a timer.
 *
 * @example
 * ```ts
 * import type { Timer } from "@effect-mode/core"
 *
 * const options: Timer.Options = { name: "flush", maxDriftCorrection: "50 millis" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Used in log lines and metric labels. Default "timer" (`itertimer`: "itertimer"). */
  readonly name?: string
  /**
   * The most a late or early wake-up is corrected by on the next sleep. Default "100 millis"
   * (mode's 0.1 s); no correction when the interval is not larger than this.
   */
  readonly maxDriftCorrection?: Duration.DurationInput
}

/**
 * Counters of a timer.
 *
 * @example
 * ```ts
 * import type { Timer } from "@effect-mode/core"
 *
 * const late = (s: Timer.Stats) => s.driftingLate
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  /** Ticks handed over so far (mode counts them one later: when the next tick is asked for). */
  readonly iteration: number
  /**
   * Wake-ups whose drift was logged at info: the interval is at least 1 s and the drift
   * reached 30 % of it or 1.2 s.
   */
  readonly drifting: number
  /** Of those, the wake-ups that came too early. */
  readonly driftingEarly: number
  /** Of those, the wake-ups that came too late. */
  readonly driftingLate: number
  /** Ticks whose consumer outlasted the interval (each also logged as a warning). */
  readonly overlaps: number
}

/**
 * A timer: `ticks` is a pull-based stream with one element per tick (the time slept
 * before it); the timer sleeps only when the consumer asks for the next tick. Each run of
 * `ticks` starts over (its first tick comes one interval after it starts) and keeps time on
 * its own, also while other runs go on; `stats` accumulate over the timer's life, every
 * run's.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Timer } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const timer = yield* Timer.make("1 second", { name: "poll" })
 *   yield* timer.ticks.pipe(Stream.take(3), Stream.runForEach(() => Effect.log("tick")))
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Timer {
  readonly name: string
  readonly interval: Duration.Duration
  readonly stats: Effect.Effect<Stats>
  readonly ticks: Stream.Stream<Duration.Duration>
}

/**
 * Makes a timer. An invalid interval or option throws, naming the bad value.
 *
 * @example
 * ```ts
 * import { Timer } from "@effect-mode/core"
 *
 * const timer = Timer.make("500 millis", { name: "heartbeat" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (interval: Duration.DurationInput, options?: Options) => Effect.Effect<Timer> = internal.make

/**
 * The counter of ticks of every timer (`effect_mode_timer_ticks`), tagged `service` (the
 * service path, for timers of a service) then `timer` (the timer's name). Read one timer's
 * with `Timer.metrics`.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Timer } from "@effect-mode/core"
 *
 * const all = Metric.snapshot.pipe(
 *   Effect.map((pairs) => pairs.filter((p) => p.metricKey.name === "effect_mode_timer_ticks"))
 * )
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const ticksMetric: Metric.Metric.Counter<number> = timerMetrics.ticks

/**
 * The counter of overlaps (`effect_mode_timer_overlaps`): ticks whose consumer outlasted
 * the interval. Tagged like `ticksMetric`.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { Timer } from "@effect-mode/core"
 *
 * const flushOverlaps = Metric.value(Metric.tagged(Timer.overlapsMetric, "timer", "flush"))
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const overlapsMetric: Metric.Metric.Counter<number> = timerMetrics.overlaps

/**
 * The histogram of wake-up drift in seconds, absolute value
 * (`effect_mode_timer_drift_seconds`, buckets from 1 ms to about 8 s). Tagged like
 * `ticksMetric`.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { Timer } from "@effect-mode/core"
 *
 * const drift = Metric.value(Metric.tagged(Timer.driftMetric, "timer", "poll"))
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const driftMetric: Metric.Metric.Histogram<number> = timerMetrics.drift

/**
 * The three metrics of one timer, tagged as the timer tags them: pass the service path
 * (`service.beacon.path`) for a timer of a service.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Timer } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const { ticks, overlaps } = Timer.metrics("flush", { service: "App/Writer" })
 *   const count = (yield* Metric.value(ticks)).count
 *   const late = (yield* Metric.value(overlaps)).count
 *   return { count, late }
 * })
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const metrics = (
  timer: string,
  options: { readonly service?: string } = {}
): {
  readonly ticks: Metric.Metric.Counter<number>
  readonly overlaps: Metric.Metric.Counter<number>
  readonly drift: Metric.Metric.Histogram<number>
} => {
  const labels = timerMetrics.labels(timer, options.service)
  return {
    ticks: Metric.taggedWithLabels(timerMetrics.ticks, labels),
    overlaps: Metric.taggedWithLabels(timerMetrics.overlaps, labels),
    drift: Metric.taggedWithLabels(timerMetrics.drift, labels)
  }
}

/**
 * Whether timers record their metrics (default true). Each timer of a service holds three
 * metric entries (about 3 KB); trees of very many services can turn them off for the timers
 * started in a region with `Effect.locally`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, Timer } from "@effect-mode/core"
 *
 * const startQuietly = (svc: Service.Service) => Effect.locally(svc.start, Timer.metricsEnabled, false)
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const metricsEnabled: FiberRef.FiberRef<boolean> = timerMetrics.enabled
