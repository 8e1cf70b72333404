/**
 * The supervisor counters: restarts (labelled `service`, the restarted service's path) and
 * escalations (labelled `supervisor`, the supervisor's path); each label is bounded to
 * `maxLabelValues` distinct values (then "_overflow"), see internal/service/metrics.ts.
 *
 * @internal
 */
import { globalValue } from "effect/GlobalValue"
import * as Metric from "effect/Metric"
import type * as MetricHook from "effect/MetricHook"
import * as MetricKey from "effect/MetricKey"
import * as MetricLabel from "effect/MetricLabel"
import { boundedLabel } from "../service/metrics.js"

const restartsKey = MetricKey.counter("effect_mode_supervisor_restarts", {
  description: "Services restarted (or replaced) by a supervisor, tagged by the service's path (bounded)",
  incremental: true
})

/** @internal */
export const restarts = Metric.fromMetricKey(restartsKey)

const restartHooks: Map<string, MetricHook.MetricHook<number, unknown>> = globalValue(
  Symbol.for("@effect-mode/core/internal/supervisor/metrics/restartHooks"),
  () => new Map<string, MetricHook.MetricHook<number, unknown>>()
)

/**
 * The restart counter of the service at `path` (label bounded), resolved once per label
 * value: a restart updates it without making a tagged metric and hashing its key.
 *
 * @internal
 */
export const restartsHook = (path: string): MetricHook.MetricHook<number, unknown> => {
  const label = boundedLabel("effect_mode_supervisor_restarts", path)
  let hook = restartHooks.get(label)
  if (hook === undefined) {
    hook = Metric.globalMetricRegistry.get(MetricKey.taggedWithLabels(restartsKey, [MetricLabel.make("service", label)]))
    restartHooks.set(label, hook)
  }
  return hook
}

/** @internal */
export const escalations = Metric.counter("effect_mode_supervisor_escalations", {
  description: "Crashes a supervisor escalated (crashing strategy, restart intensity exceeded), tagged by its path (bounded)",
  incremental: true
})
