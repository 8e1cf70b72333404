/**
 * The core's own metrics, with label sets bounded by design: services by state (a gauge
 * per state, labelled `state` only), restarts and crashes (counters without labels). Labels
 * that name a service (timer metrics, supervisor counters) go through `boundedLabel`: each
 * metric keeps at most `maxLabelValues` distinct values and counts the rest under
 * `"_overflow"` (OpenTelemetry's cardinality limit), so heap stays flat under service churn.
 *
 * @internal
 */
import { globalValue } from "effect/GlobalValue"
import * as Metric from "effect/Metric"
import type * as MetricHook from "effect/MetricHook"
import * as MetricKey from "effect/MetricKey"
import * as MetricLabel from "effect/MetricLabel"
import type * as Service from "../../Service.js"

/** @internal */
export const servicesKey = MetricKey.gauge("effect_mode_services", {
  description: "Services by lifecycle state (label: state)"
})

/** @internal */
export const restartsKey = MetricKey.counter("effect_mode_service_restarts", {
  description: "Service restarts (any cause: restart, supervisor)"
})

/** @internal */
export const crashesKey = MetricKey.counter("effect_mode_service_crashes", {
  description: "Crashes recorded (one per crash, at the service where it began)"
})

const states: ReadonlyArray<Service.State> = ["init", "starting", "running", "stopping", "shutdown", "crashed"]

interface Hooks {
  readonly counts: Record<Service.State, number>
  readonly gauges: Record<Service.State, MetricHook.MetricHook<number, unknown>>
  readonly restarts: MetricHook.MetricHook<number, unknown>
  readonly crashes: MetricHook.MetricHook<number, unknown>
}

const hooks: Hooks = globalValue(Symbol.for("@effect-mode/core/internal/service/metrics"), () => {
  const registry = Metric.globalMetricRegistry
  const counts = {} as Record<Service.State, number>
  const gauges = {} as Record<Service.State, MetricHook.MetricHook<number, unknown>>
  for (const state of states) {
    counts[state] = 0
    gauges[state] = registry.get(MetricKey.taggedWithLabels(servicesKey, [MetricLabel.make("state", state)]))
  }
  return { counts, gauges, restarts: registry.get(restartsKey), crashes: registry.get(crashesKey) }
})

/** A service was made (it is in "init"). */
export const made = (): void => {
  hooks.gauges.init.update(++hooks.counts.init)
}

/** A service moved from one public state to another. */
export const moved = (from: Service.State, to: Service.State): void => {
  hooks.gauges[from].update(--hooks.counts[from])
  hooks.gauges[to].update(++hooks.counts[to])
}

/** @internal */
export const restarted = (): void => hooks.restarts.update(1)

/** @internal */
export const crashed = (): void => hooks.crashes.update(1)

/** The most distinct values one label of one metric takes; more are counted as "_overflow". */
export const maxLabelValues = 1000

const seen: Map<string, Set<string>> = globalValue(
  Symbol.for("@effect-mode/core/internal/service/metrics/seen"),
  () => new Map<string, Set<string>>()
)

/** `value`, or "_overflow" once `metric` already has `maxLabelValues` other values. */
export const boundedLabel = (metric: string, value: string): string => {
  let values = seen.get(metric)
  if (values === undefined) seen.set(metric, values = new Set())
  if (values.has(value)) return value
  if (values.size >= maxLabelValues) return "_overflow"
  values.add(value)
  return value
}
