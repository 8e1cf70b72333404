/**
 * The figures the page shows for the selected service only (asked for while it is
 * selected, so that they never make every row change): its timers' statistics (ticks,
 * overlaps, drift) and, for a supervisor, its strategy and the restarts and escalations it
 * did. Read from Effect's metrics (`Metric.snapshot`: nothing is created in the registry)
 * under the names and tags the core documents.
 */
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import type * as MetricPair from "effect/MetricPair"
import * as MetricState from "effect/MetricState"
import { type Service, Supervisor } from "@effect-mode/core"

export interface TimerStats {
  readonly timer: string
  readonly ticks: number
  readonly overlaps: number
  /** Absolute wake-up drift, in millis; null before the first tick. */
  readonly drift: { readonly count: number; readonly meanMillis: number; readonly maxMillis: number } | null
}

export interface ServiceStats {
  readonly id: number
  readonly path: string
  readonly timers: ReadonlyArray<TimerStats>
  readonly supervisor: {
    readonly strategy: string
    /** Restarts (or replacements) of the services it supervises, since the process started. */
    readonly restarts: number
    readonly escalations: number
    /** The restart intensity now: restarts in the current window, and its bounds. */
    readonly window: Supervisor.Intensity
  } | null
}

const tag = (pair: MetricPair.MetricPair.Untyped, key: string): string | undefined =>
  pair.metricKey.tags.find((t) => t.key === key)?.value

const count = (pair: MetricPair.MetricPair.Untyped): number =>
  MetricState.isCounterState(pair.metricState) ? Number(pair.metricState.count) : 0

/** The timer statistics and supervisor figures of `service` (whose path is `path`). */
export const statsOf = (service: Service.Service, path: string): Effect.Effect<ServiceStats> =>
  Effect.map(Effect.all([Metric.snapshot, Supervisor.isSupervisor(service) ? service.intensity : Effect.succeed(undefined)]), ([pairs, window]): ServiceStats => {
    const timers = new Map<string, { ticks: number; overlaps: number; drift: TimerStats["drift"] }>()
    const timer = (name: string) => {
      let t = timers.get(name)
      if (t === undefined) timers.set(name, t = { ticks: 0, overlaps: 0, drift: null })
      return t
    }
    let restarts = 0
    let escalations = 0
    for (const pair of pairs) {
      const name = pair.metricKey.name
      if (name.startsWith("effect_mode_timer_") && tag(pair, "service") === path) {
        const t = timer(tag(pair, "timer") ?? "?")
        if (name === "effect_mode_timer_ticks") t.ticks = count(pair)
        else if (name === "effect_mode_timer_overlaps") t.overlaps = count(pair)
        else if (name === "effect_mode_timer_drift_seconds" && MetricState.isHistogramState(pair.metricState)) {
          const h = pair.metricState
          t.drift = h.count === 0 ? null : { count: h.count, meanMillis: (h.sum / h.count) * 1000, maxMillis: h.max * 1000 }
        }
      } else if (name === "effect_mode_supervisor_restarts") {
        const child = tag(pair, "service")
        if (child !== undefined && child.startsWith(`${path}/`) && !child.slice(path.length + 1).includes("/")) {
          restarts += count(pair)
        }
      } else if (name === "effect_mode_supervisor_escalations" && tag(pair, "supervisor") === path) {
        escalations += count(pair)
      }
    }
    return {
      id: service.id,
      path,
      timers: Array.from(timers, ([name, t]) => ({ timer: name, ...t })).sort((a, b) => a.timer.localeCompare(b.timer)),
      supervisor: Supervisor.isSupervisor(service) && window !== undefined
        ? { strategy: service.strategy, restarts, escalations, window }
        : null
    }
  })
