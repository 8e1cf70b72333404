/**
 * The restart decision of a supervisor, as a pure function (OTP's `do_restart` and
 * `add_restart`): an event (a crash or a normal stop of a slot), the slots as they are, the
 * strategy, the restart intensity and the time give a plan and the new intensity. No fibers,
 * no logs: `supervision.ts` carries the plan out. Unit-tested in test/SupervisorDecide.test.ts.
 *
 * @internal
 */
import type * as Cause from "effect/Cause"
import type { RestartType } from "../../Supervisor.js"
import { groupOf, type StrategyData } from "./strategy.js"

/** What the decision needs to know of one supervised slot. */
export interface Slot {
  readonly restart: RestartType
  /** A restart job still has to restart (or stop) this slot. */
  readonly pending: boolean
  /** Starting, running or stopping. */
  readonly started: boolean
  /** Stopped after a run (not merely never started). */
  readonly shutdown: boolean
  readonly crashed: boolean
  /** In its own `restart` (its stop is not a normal stop). */
  readonly restarting: boolean
  /** No longer a child of the supervisor (moved away behind its back). */
  readonly movedAway: boolean
}

/** The slots, read on demand (a one-for-one decision looks at one slot only). */
export interface Slots {
  readonly count: number
  readonly at: (index: number) => Slot
}

/** `Slots` over an array (for tests and small lists). */
export const fromArray = (slots: ReadonlyArray<Slot>): Slots => ({ count: slots.length, at: (i) => slots[i]! })

/** A crash or a normal stop of the slot at `index`. */
export type Event =
  | { readonly _tag: "Crashed"; readonly index: number; readonly cause: Cause.Cause<unknown> }
  | { readonly _tag: "Stopped"; readonly index: number }

/** The restart times within the window, and its bounds (OTP's intensity and period). */
export interface Intensity {
  readonly times: ReadonlyArray<number>
  readonly maxRestarts: number
  readonly withinMillis: number
}

/** What to do. Indexes are slot indexes; `stop` is stopped in reverse, `start` started in order. */
export type Plan =
  | { readonly _tag: "Ignore" }
  | { readonly _tag: "Release"; readonly index: number; readonly why: "movedAway" | "temporaryStopped" }
  | { readonly _tag: "Keep"; readonly index: number; readonly why: "transientStopped" }
  | { readonly _tag: "Escalate"; readonly index: number; readonly why: "crashing" | "intensity" }
  | { readonly _tag: "Drop"; readonly index: number }
  | { readonly _tag: "Forfeit"; readonly index: number; readonly stop: ReadonlyArray<number> }
  | {
    readonly _tag: "Restart"
    readonly index: number
    readonly why: "crashed" | "stopped"
    readonly stop: ReadonlyArray<number>
    readonly drop: ReadonlyArray<number>
    readonly start: ReadonlyArray<number>
  }

/** The restart times still in the window that ends at `now`. */
export const inWindow = (intensity: Intensity, now: number): ReadonlyArray<number> => {
  const from = now - intensity.withinMillis
  return intensity.times.filter((t) => t > from)
}

/**
 * OTP's `add_restart`: drops the times that left the window; refuses the restart when
 * `maxRestarts` are already in it, else records it at `now`.
 */
export const admit = (intensity: Intensity, now: number): { readonly allowed: boolean; readonly times: ReadonlyArray<number> } => {
  const recent = inWindow(intensity, now)
  if (recent.length >= intensity.maxRestarts) return { allowed: false, times: recent }
  return { allowed: true, times: [...recent, now] }
}

const ignore: Plan = { _tag: "Ignore" }

/** The plan for `event`, and the intensity after it. */
export const decide = (
  event: Event,
  slots: Slots,
  strategy: StrategyData,
  intensity: Intensity,
  now: number
): { readonly plan: Plan; readonly times: ReadonlyArray<number> } => {
  const unchanged = (plan: Plan) => ({ plan, times: intensity.times })
  const index = event.index
  const slot = index >= 0 && index < slots.count ? slots.at(index) : undefined
  // Gone, already being restarted, or already back up: the event is stale.
  if (slot === undefined || slot.pending || (slot.started && !slot.crashed)) return unchanged(ignore)
  if (slot.movedAway) return unchanged({ _tag: "Release", index, why: "movedAway" })
  if (event._tag === "Stopped") {
    if (slot.crashed || slot.restarting || !slot.shutdown || !strategy.restartTypes) return unchanged(ignore)
    if (slot.restart === "temporary") return unchanged({ _tag: "Release", index, why: "temporaryStopped" })
    if (slot.restart === "transient") return unchanged({ _tag: "Keep", index, why: "transientStopped" })
    return restart(index, "stopped", slots, strategy, intensity, now)
  }
  switch (strategy.onCrash) {
    case "escalate":
      return unchanged({ _tag: "Escalate", index, why: "crashing" })
    case "forfeit": {
      // everything still started, crashed or not (a sibling that crashed too is stopped now)
      const stop = groupOf(strategy, index, slots.count).filter((i) => i === index || slots.at(i).started)
      return unchanged({ _tag: "Forfeit", index, stop })
    }
    case "restart":
      if (slot.restart === "temporary") return unchanged({ _tag: "Drop", index })
      return restart(index, "crashed", slots, strategy, intensity, now)
  }
}

const restart = (
  index: number,
  why: "crashed" | "stopped",
  slots: Slots,
  strategy: StrategyData,
  intensity: Intensity,
  now: number
): { readonly plan: Plan; readonly times: ReadonlyArray<number> } => {
  const admitted = admit(intensity, now)
  if (!admitted.allowed) return { plan: { _tag: "Escalate", index, why: "intensity" }, times: admitted.times }
  const group = groupOf(strategy, index, slots.count)
  // OTP: a temporary sibling is stopped with the group and never restarted.
  const drop = group.filter((i) => i !== index && slots.at(i).restart === "temporary")
  const start = group.filter((i) => i === index || slots.at(i).restart !== "temporary")
  return { plan: { _tag: "Restart", index, why, stop: group, drop, start }, times: admitted.times }
}
