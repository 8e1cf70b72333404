/**
 * The core's own metrics: services by state (a gauge per state), restarts and crashes
 * (counters), read from Effect's metric registry.
 */
import { describe, expect } from "@effect/vitest"
import { Effect, Metric, MetricState } from "effect"
import { Service } from "@effect-mode/core"
import { it } from "./support/it.js"

const read = (name: string, state?: string): Effect.Effect<number> =>
  Effect.map(Metric.snapshot, (pairs) => {
    for (const pair of pairs) {
      if (pair.metricKey.name !== name) continue
      const tags = pair.metricKey.tags
      if (state !== undefined && !tags.some((t) => t.key === "state" && t.value === state)) continue
      const s = pair.metricState
      if (MetricState.isGaugeState(s)) return Number(s.value)
      if (MetricState.isCounterState(s)) return Number(s.count)
    }
    return 0
  })

describe("core metrics", () => {
  it.effect("services by state follow the lifecycle; restarts and crashes are counted", () =>
    Effect.gen(function*() {
      const running0 = yield* read("effect_mode_services", "running")
      const crashed0 = yield* read("effect_mode_services", "crashed")
      const restarts0 = yield* read("effect_mode_service_restarts")
      const crashes0 = yield* read("effect_mode_service_crashes")
      const child = yield* Service.make("Child")
      const root = yield* Service.make("Root")
      yield* root.addDependency(child)
      yield* root.start
      expect((yield* read("effect_mode_services", "running")) - running0).toBe(2)
      yield* child.restart
      expect((yield* read("effect_mode_service_restarts")) - restarts0).toBe(1)
      expect((yield* read("effect_mode_services", "running")) - running0).toBe(2)
      yield* child.crash("broken")
      yield* root.stop
      expect((yield* read("effect_mode_service_crashes")) - crashes0).toBe(1)
      expect((yield* read("effect_mode_services", "running")) - running0).toBe(0)
      expect((yield* read("effect_mode_services", "crashed")) - crashed0).toBe(2)
    }))
})
