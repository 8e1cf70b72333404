/**
 * The lifecycle state of one service and every transition of it. A service is in exactly
 * one of Init | Starting | Running | Stopping | Shutdown, and each state carries the data
 * that exists only in it: the run (tasks, scope, runtime children), the latch of the start
 * or stop in flight. The crash mark (cause and origin) sits beside it. This module is the
 * only writer of both; the public `State` is derived from them (`stateOf`).
 *
 * @internal
 */
import type * as Cause from "effect/Cause"
import type * as Service from "../../Service.js"
import type { Run } from "../run.js"
import type { ServiceImpl } from "./impl.js"
import { Latch } from "./latch.js"
import * as metrics from "./metrics.js"

/** @internal */
export type Lifecycle =
  | { readonly _tag: "Init" }
  | { readonly _tag: "Starting"; readonly run: Run; readonly done: Latch }
  | { readonly _tag: "Running"; readonly run: Run; readonly startedAt: number }
  | { readonly _tag: "Stopping"; readonly run: Run; readonly done: Latch }
  | { readonly _tag: "Shutdown" }

/** The lifecycle phase; the public `State` is this, or "crashed" when a crash is recorded. */
export type Phase = "init" | "starting" | "running" | "stopping" | "shutdown"

const phases = {
  Init: "init",
  Starting: "starting",
  Running: "running",
  Stopping: "stopping",
  Shutdown: "shutdown"
} as const

/** @internal */
export const initial: Lifecycle = { _tag: "Init" }
const shutdown: Lifecycle = { _tag: "Shutdown" }

/** @internal */
export const phaseOf = (s: ServiceImpl): Phase => phases[s.lifecycle._tag]

/** @internal */
export const stateOf = (s: ServiceImpl): Service.State => s.crashCause !== undefined ? "crashed" : phaseOf(s)

/** True in Init and Shutdown: nothing runs. */
export const isDown = (s: ServiceImpl): boolean => s.lifecycle._tag === "Init" || s.lifecycle._tag === "Shutdown"

/** The run of the current state, if it has one. */
export const runOf = (s: ServiceImpl): Run | undefined => {
  const l = s.lifecycle
  return l._tag === "Init" || l._tag === "Shutdown" ? undefined : l.run
}

/** Tells the subscribers of `stateChanges` and the state gauges when the public state changed. */
const publish = (s: ServiceImpl): void => {
  const state = stateOf(s)
  const before = s.published
  if (state === before) return
  s.published = state
  metrics.moved(before, state)
  if (s.subscribers !== undefined) {
    for (const q of s.subscribers) q.unsafeOffer(state)
  }
}

/** Init | Shutdown -> Starting: a fresh run, a fresh stop signal, the crash mark cleared. */
export const toStarting = (s: ServiceImpl, run: Run): void => {
  s.crashCause = undefined
  s.crashOrigin = undefined
  s.startFailed = false
  if (s.stopSignal.isOpen) s.stopSignal = new Latch()
  if (s.shutdownSignal?.isOpen === true) s.shutdownSignal = undefined
  s.lifecycle = { _tag: "Starting", run, done: new Latch() }
  publish(s)
}

/** Starting -> Running. */
export const toRunning = (s: ServiceImpl, startedAt: number): void => {
  const l = s.lifecycle
  if (l._tag !== "Starting") return
  s.lifecycle = { _tag: "Running", run: l.run, startedAt }
  l.done.open()
  publish(s)
}

/** Running -> Stopping: the stop signal is given. */
export const toStopping = (s: ServiceImpl): Latch | undefined => {
  const l = s.lifecycle
  if (l._tag !== "Running") return undefined
  const done = new Latch()
  s.lifecycle = { _tag: "Stopping", run: l.run, done }
  signalStop(s)
  publish(s)
  return done
}

/** Starting | Stopping -> Shutdown: the run is over; whoever waits for the start or stop goes on. */
export const toShutdown = (s: ServiceImpl): void => {
  const l = s.lifecycle
  signalStop(s)
  s.lifecycle = shutdown
  if (l._tag === "Starting" || l._tag === "Stopping") l.done.open()
  publish(s)
}

/** The current run should stop: a stop began, or a crash was recorded. */
export const signalStop = (s: ServiceImpl): void => {
  if (s.stopSignal.isOpen) return
  s.stopSignal.open()
  s.stopsSignalled++
}

/** Records the first crash of this run (a second one does not overwrite it, as in mode). */
export const markCrash = (s: ServiceImpl, cause: Cause.Cause<unknown>, origin: string): boolean => {
  if (s.crashCause !== undefined) return false
  s.crashCause = cause
  s.crashOrigin = origin
  signalStop(s)
  publish(s)
  return true
}

/** A restart cleared the crash and counts one more restart. */
export const markRestarted = (s: ServiceImpl): void => {
  s.crashCause = undefined
  s.crashOrigin = undefined
  s.restarts++
  publish(s)
}
