/**
 * The Effect metrics of timers. Each timer resolves its three metric hooks once (per run)
 * from the global registry and updates them synchronously on every tick: no Effect, no
 * label merging and no registry lookup per tick.
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import type * as MetricHook from "effect/MetricHook"
import * as MetricKey from "effect/MetricKey"
import * as MetricLabel from "effect/MetricLabel"
import { boundedLabel } from "./service/metrics.js"

export const ticksKey = MetricKey.counter("effect_mode_timer_ticks", {
  description: "Ticks handed over by timers (Timer, Service.timer, itertimer)"
})

export const overlapsKey = MetricKey.counter("effect_mode_timer_overlaps", {
  description: "Ticks whose consumer outlasted the timer's interval"
})

export const driftKey = MetricKey.histogram(
  "effect_mode_timer_drift_seconds",
  MetricBoundaries.exponential({ start: 0.001, factor: 2, count: 14 }),
  "How early or late (absolute) timers woke up, in seconds"
)

export const ticks = Metric.fromMetricKey(ticksKey)
export const overlaps = Metric.fromMetricKey(overlapsKey)
export const drift = Metric.fromMetricKey(driftKey)

/**
 * The labels of one timer: `service` (its path, when it belongs to a service), then `timer`.
 * Each label takes at most `maxLabelValues` distinct values (then "_overflow"): the set of
 * metric keys stays bounded under service churn.
 */
export const labels = (timer: string, service?: string): Array<MetricLabel.MetricLabel> => {
  const name = boundedLabel("effect_mode_timer/timer", timer)
  return tagsOf(name, service === undefined ? undefined : boundedLabel("effect_mode_timer/service", service))
}

/** The labels of bounded label values. */
const tagsOf = (name: string, path: string | undefined): Array<MetricLabel.MetricLabel> =>
  path === undefined
    ? [MetricLabel.make("timer", name)]
    : [MetricLabel.make("service", path), MetricLabel.make("timer", name)]

/** The hooks one timer updates. */
export interface TimerMetrics {
  readonly ticks: MetricHook.MetricHook<number, unknown>
  readonly overlaps: MetricHook.MetricHook<number, unknown>
  readonly drift: MetricHook.MetricHook<number, unknown>
}

/** Whether timers started in this fiber (and the fibers it forks) record metrics. */
export const enabled: FiberRef.FiberRef<boolean> = globalValue(
  Symbol.for("@effect-mode/core/Timer/metricsEnabled"),
  () => FiberRef.unsafeMake(true)
)

/** The hooks of one timer, or undefined when metrics are off (`enabled`). */
export const forTimer = (timer: string, service?: string): Effect.Effect<TimerMetrics | undefined> =>
  Effect.map(FiberRef.get(enabled), (on) => on ? make(timer, service) : undefined)

/**
 * The hooks of each label set, resolved once: a timer's start looks its labels up here instead
 * of making three metric keys and hashing them in the registry. Bounded as the registry's own
 * keys are (each label takes at most `maxLabelValues` values), and holds the same hooks.
 */
const resolved: Map<string, TimerMetrics> = globalValue(
  Symbol.for("@effect-mode/core/Timer/resolvedMetrics"),
  () => new Map<string, TimerMetrics>()
)

export const make = (timer: string, service?: string): TimerMetrics => {
  const name = boundedLabel("effect_mode_timer/timer", timer)
  const path = service === undefined ? undefined : boundedLabel("effect_mode_timer/service", service)
  const key = path === undefined ? `\u0000${name}` : `${path}\u0000${name}`
  const known = resolved.get(key)
  if (known !== undefined) return known
  const tags = tagsOf(name, path)
  const registry = Metric.globalMetricRegistry
  const made: TimerMetrics = {
    ticks: registry.get(MetricKey.taggedWithLabels(ticksKey, tags)),
    overlaps: registry.get(MetricKey.taggedWithLabels(overlapsKey, tags)),
    drift: registry.get(MetricKey.taggedWithLabels(driftKey, tags))
  }
  resolved.set(key, made)
  return made
}

/**
 * The hooks of a service's timer, resolved at its first tick rather than at its start (as a
 * labelled metric appears at its first observation): starting a tree of timers resolves
 * none, and a timer that never ticks never makes its label set. The label is the service's
 * path at that first tick.
 */
export class ResolvedOnUse implements TimerMetrics {
  private hooks: TimerMetrics | undefined = undefined
  constructor(readonly timer: string, readonly service: { pathSync(): string }) {}
  private get resolved(): TimerMetrics {
    return this.hooks ??= make(this.timer, this.service.pathSync())
  }
  get ticks(): MetricHook.MetricHook<number, unknown> {
    return this.resolved.ticks
  }
  get overlaps(): MetricHook.MetricHook<number, unknown> {
    return this.resolved.overlaps
  }
  get drift(): MetricHook.MetricHook<number, unknown> {
    return this.resolved.drift
  }
}
