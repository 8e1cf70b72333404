/**
 * The restart decision of a supervisor, without fibers: an event, the slots, the strategy,
 * the intensity and the time in, a plan and the new restart times out.
 */
import { describe, expect } from "@effect/vitest"
import { it } from "./support/it.js"
import { Cause } from "effect"
import { admit, decide, fromArray, type Slot } from "../src/internal/supervisor/decide.js"
import { groupOf, strategyOf } from "../src/internal/supervisor/strategy.js"

const down = (overrides: Partial<Slot> = {}): Slot => ({
  restart: "permanent",
  pending: false,
  started: false,
  shutdown: true,
  crashed: true,
  restarting: false,
  movedAway: false,
  ...overrides
})
const up = (overrides: Partial<Slot> = {}): Slot =>
  down({ started: true, shutdown: false, crashed: false, ...overrides })

const cause = Cause.fail("boom")
const intensity = (times: ReadonlyArray<number> = []) => ({ times, maxRestarts: 3, withinMillis: 5000 })
const crashOf = (index: number) => ({ _tag: "Crashed" as const, index, cause })

describe("decide", () => {
  it.plain("one-for-one restarts the crashed slot alone and records the restart", () => {
    const { plan, times } = decide(crashOf(1), fromArray([up(), down(), up()]), strategyOf("oneForOne", "S"), intensity(), 100)
    expect(plan).toEqual({ _tag: "Restart", index: 1, why: "crashed", stop: [1], drop: [], start: [1] })
    expect(times).toEqual([100])
  })

  it.plain("rest-for-one covers the slot and those after it; a temporary sibling is dropped", () => {
    const slots = fromArray([up(), down(), up({ restart: "temporary" }), up()])
    const { plan } = decide(crashOf(1), slots, strategyOf("restForOne", "S"), intensity(), 0)
    expect(plan).toEqual({ _tag: "Restart", index: 1, why: "crashed", stop: [1, 2, 3], drop: [2], start: [1, 3] })
  })

  it.plain("one-for-all covers every slot", () => {
    const { plan } = decide(crashOf(0), fromArray([down(), up()]), strategyOf("oneForAll", "S"), intensity(), 0)
    expect(plan).toMatchObject({ _tag: "Restart", stop: [0, 1], start: [0, 1] })
  })

  it.plain("past the intensity the crash is escalated, and old restarts leave the window", () => {
    const full = decide(crashOf(0), fromArray([down()]), strategyOf("oneForOne", "S"), intensity([1000, 2000, 3000]), 4000)
    expect(full.plan).toEqual({ _tag: "Escalate", index: 0, why: "intensity" })
    const later = decide(crashOf(0), fromArray([down()]), strategyOf("oneForOne", "S"), intensity([1000, 2000, 3000]), 6500)
    expect(later.plan._tag).toBe("Restart")
    expect(later.times).toEqual([2000, 3000, 6500])
  })

  it.plain("a temporary slot that crashed is dropped, not restarted", () => {
    const { plan, times } = decide(crashOf(0), fromArray([down({ restart: "temporary" })]), strategyOf("oneForOne", "S"), intensity(), 0)
    expect(plan).toEqual({ _tag: "Drop", index: 0 })
    expect(times).toEqual([])
  })

  it.plain("forfeit strategies stop what is still started and restart nothing", () => {
    const slots = fromArray([up(), down(), down({ crashed: false, started: false })])
    expect(decide(crashOf(1), slots, strategyOf("forfeitOneForAll", "S"), intensity(), 0).plan).toEqual({
      _tag: "Forfeit",
      index: 1,
      stop: [0, 1]
    })
    expect(decide(crashOf(1), slots, strategyOf("forfeitOneForOne", "S"), intensity(), 0).plan).toEqual({
      _tag: "Forfeit",
      index: 1,
      stop: [1]
    })
  })

  it.plain("the crashing strategy escalates at once", () => {
    expect(decide(crashOf(0), fromArray([down()]), strategyOf("crashing", "S"), intensity(), 0).plan).toEqual({
      _tag: "Escalate",
      index: 0,
      why: "crashing"
    })
  })

  it.plain("normal stops follow the restart type under the restart strategies only", () => {
    const stopped = (restart: Slot["restart"]) => fromArray([down({ crashed: false, restart })])
    const stop = { _tag: "Stopped" as const, index: 0 }
    const oneForOne = strategyOf("oneForOne", "S")
    expect(decide(stop, stopped("permanent"), oneForOne, intensity(), 0).plan).toMatchObject({ _tag: "Restart", why: "stopped" })
    expect(decide(stop, stopped("transient"), oneForOne, intensity(), 0).plan).toEqual({ _tag: "Keep", index: 0, why: "transientStopped" })
    expect(decide(stop, stopped("temporary"), oneForOne, intensity(), 0).plan).toEqual({ _tag: "Release", index: 0, why: "temporaryStopped" })
    expect(decide(stop, stopped("permanent"), strategyOf("forfeitOneForOne", "S"), intensity(), 0).plan).toEqual({ _tag: "Ignore" })
    // a stop that is part of the service's own restart is not a normal stop
    expect(decide(stop, fromArray([down({ crashed: false, restarting: true })]), oneForOne, intensity(), 0).plan).toEqual({ _tag: "Ignore" })
  })

  it.plain("stale events are ignored; a slot moved away is released", () => {
    const oneForOne = strategyOf("oneForOne", "S")
    expect(decide(crashOf(0), fromArray([up()]), oneForOne, intensity(), 0).plan).toEqual({ _tag: "Ignore" })
    expect(decide(crashOf(0), fromArray([down({ pending: true })]), oneForOne, intensity(), 0).plan).toEqual({ _tag: "Ignore" })
    expect(decide(crashOf(5), fromArray([down()]), oneForOne, intensity(), 0).plan).toEqual({ _tag: "Ignore" })
    expect(decide(crashOf(0), fromArray([down({ movedAway: true })]), oneForOne, intensity(), 0).plan).toEqual({
      _tag: "Release",
      index: 0,
      why: "movedAway"
    })
  })
})

describe("admit and strategies", () => {
  it.plain("admit refuses the restart past maxRestarts within the window", () => {
    expect(admit({ times: [], maxRestarts: 0, withinMillis: 10 }, 0)).toEqual({ allowed: false, times: [] })
    expect(admit({ times: [0, 5], maxRestarts: 2, withinMillis: 10 }, 10)).toEqual({ allowed: true, times: [5, 10] })
  })

  it.plain("groups, and a strategy that is not one is refused naming it", () => {
    expect(groupOf(strategyOf("restForOne", "S"), 2, 4)).toEqual([2, 3])
    expect(() => strategyOf("oneForSome", "S")).toThrow(/strategy of supervisor S: "oneForSome"/)
  })
})
