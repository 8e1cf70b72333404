/**
 * `Supervisor.intensity`: the restarts counted in the window that ends now, read by the
 * observer and dashboards.
 */
import { describe, expect } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { Service, Supervisor } from "@effect-mode/core"
import { it } from "./support/it.js"
import { fresh, restarted } from "./support/supervisor.js"

describe("Supervisor.intensity", () => {
  it.effect("counts the restarts of the current window, and forgets them once the window has passed", () =>
    Effect.gen(function*() {
      const a = yield* Service.make("A")
      const sup = yield* Supervisor.oneForOne(fresh("Window"), [a], { maxRestarts: 5, within: "1 minute" })
      yield* sup.start
      expect(yield* sup.intensity).toEqual({ restarts: 0, maxRestarts: 5, withinMillis: 60_000 })

      yield* a.crash("boom")
      yield* restarted(a, 1)
      yield* TestClock.adjust("30 seconds")
      yield* a.crash("boom")
      yield* restarted(a, 2)
      expect((yield* sup.intensity).restarts).toBe(2)

      // 40 s later the first restart is out of the window, the second still in it
      yield* TestClock.adjust("40 seconds")
      expect((yield* sup.intensity).restarts).toBe(1)
      yield* TestClock.adjust("1 minute")
      expect((yield* sup.intensity).restarts).toBe(0)
      yield* sup.stop
    }))

  it.effect("maxRestarts: Infinity restarts every crash and never escalates", () =>
    Effect.gen(function*() {
      const a = yield* Service.make("A")
      const sup = yield* Supervisor.oneForOne(fresh("Unbounded"), [a], { maxRestarts: Infinity, within: "1 hour" })
      yield* sup.start
      for (let i = 1; i <= 20; i++) {
        yield* a.crash("boom")
        yield* restarted(a, i)
      }
      expect(yield* sup.intensity).toEqual({ restarts: 20, maxRestarts: Infinity, withinMillis: 3_600_000 })
      expect(yield* sup.crashed).toBe(false)
      expect(yield* a.state).toBe("running")
      yield* sup.stop
    }))

  it.plain("maxRestarts must be a non-negative integer or Infinity", () => {
    expect(() => Supervisor.oneForOne("S", [], { maxRestarts: 2.5 })).toThrow(/maxRestarts of supervisor S: "2.5"/)
    expect(() => Supervisor.oneForOne("S", [], { maxRestarts: -1 })).toThrow(/maxRestarts of supervisor S: "-1"/)
  })
})
