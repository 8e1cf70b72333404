/**
 * The supervisor counters: restarts (labelled `service`, the restarted service's path) and
 * escalations (labelled `supervisor`, the supervisor's path); each label is bounded to
 * `maxLabelValues` distinct values (then "_overflow"), see internal/service/metrics.ts.
 *
 * @internal
 */
import * as Metric from "effect/Metric"

/** @internal */
export const restarts = Metric.counter("effect_mode_supervisor_restarts", {
  description: "Services restarted (or replaced) by a supervisor, tagged by the service's path (bounded)",
  incremental: true
})

/** @internal */
export const escalations = Metric.counter("effect_mode_supervisor_escalations", {
  description: "Crashes a supervisor escalated (crashing strategy, restart intensity exceeded), tagged by its path (bounded)",
  incremental: true
})
