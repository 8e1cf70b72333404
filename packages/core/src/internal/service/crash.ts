/**
 * How a crash travels: it is recorded at the service where it began, climbs the tree to the
 * nearest service with a supervisor (whose supervisor is told) or to the root (which is then
 * stopped in the background, with everything under it), and every service on the way and
 * under that point is marked with the same cause. The first crash of a run is kept.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as LogLevel from "effect/LogLevel"
import { shortCause } from "../causeText.js"
import { onStopFiber, runningCodeOf } from "./fiberRefs.js"
import type { ServiceImpl } from "./impl.js"
import * as lifecycle from "./lifecycle.js"
import * as log from "./log.js"
import * as metrics from "./metrics.js"
import { stopNow } from "./stop.js"
import * as spans from "./spans.js"
import * as tree from "./tree.js"

/** @internal */
export const crash = (s: ServiceImpl, reason: unknown): Effect.Effect<void> =>
  crashWith(s, Cause.isCause(reason) ? reason : Cause.fail(reason))

/** @internal */
export const crashWith = (s: ServiceImpl, reason: Cause.Cause<unknown>): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) => {
    if (s.crashCause !== undefined) return Effect.void
    const cause = spans.original(reason)
    const origin = tree.path(s)
    // one line at error; the whole cause at debug
    const short = log.logOn(fiber, s, LogLevel.Error, () => `Crashed: ${shortCause(cause)}`)
    const whole = log.logOn(fiber, s, LogLevel.Debug, "Crashed (the whole cause)", cause)
    metrics.crashed()
    let next = travel(s, cause, origin)
    if (whole !== undefined) next = Effect.zipRight(whole, next)
    if (short !== undefined) next = Effect.zipRight(short, next)
    return spans.crashOn(fiber, s, origin, next)
  })

/**
 * Makes the crash already recorded on `s` travel, as `crashWith` does (up to a supervisor or
 * the root, marking and stopping on the way): for a crash recorded without travelling, a
 * failed start whose caller cannot report it (a dependent started again by a rest-for-one).
 *
 * @internal
 */
export const spreadCrash = (s: ServiceImpl): Effect.Effect<void> =>
  Effect.suspend(() => {
    const cause = s.crashCause
    return cause === undefined ? Effect.void : travel(s, cause, s.crashOrigin ?? tree.path(s))
  })

/**
 * The crash's way: up from `s` to the nearest service with a supervisor, or to the root;
 * that service and everything under it are marked now; what the effect does is tell the
 * supervisor, or stop the started services of that subtree in the background.
 */
const travel = (s: ServiceImpl, cause: Cause.Cause<unknown>, origin: string): Effect.Effect<void> => {
  let top: ServiceImpl = s
  while (top.supervisor === undefined && top.parent !== undefined) top = top.parent
  markTree(top, cause, origin)
  const link = top.supervisor
  return link !== undefined ? link.onCrash(top, cause) : stopStartedInBackground(top)
}

/** Marks `s` and everything under it crashed with `cause` (a service crashed already keeps its cause). */
export const markTree = (s: ServiceImpl, cause: Cause.Cause<unknown>, origin: string): void => {
  lifecycle.markCrash(s, cause, origin)
  for (const child of s.children) markTree(child, cause, origin)
}

/**
 * Stops `s` on a fiber of its own: a crash is often reported from inside a task of the tree
 * being stopped, which cannot wait for its own interruption. The fiber is owned by the
 * service: `stop`, `run` and `waitUntilStopped` all await the same stop.
 *
 * @internal
 */
export const stopInBackground = (s: ServiceImpl, steps: Effect.Effect<void> = stopNow(s)): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (crashStopping(s)) return Effect.void
    const stop = steps.pipe(Effect.locally(onStopFiber, true), Effect.locally(runningCodeOf, undefined))
    return Effect.map(Effect.forkDaemon(stop), (fiber) => {
      s.crashStopper = fiber
    })
  })

/** Whether a stop of `s` in the background is under way (forked, perhaps not begun yet). */
export const crashStopping = (s: ServiceImpl): boolean => s.crashStopper !== undefined && s.crashStopper.unsafePoll() === null

/**
 * Stops in the background the highest started services of this subtree: this one if it
 * is started, else the started ones below it (a child may run under a stopped parent). A
 * service already stopping may have children its stop will not reach (started again, or
 * attached, after its stop took its list of children): once that stop is over, those that
 * still run are stopped too, so that no crashed service is left running.
 */
const stopStartedInBackground = (s: ServiceImpl): Effect.Effect<void> =>
  Effect.suspend(() => {
    const l = s.lifecycle
    if (lifecycle.isDown(s)) return Effect.forEach(s.children, (child) => stopStartedInBackground(child), { discard: true })
    if (l._tag !== "Stopping") return stopInBackground(s)
    // Waits for the stop in flight only (bounded by its own deadlines), then ends.
    return Effect.asVoid(Effect.forkDaemon(Effect.zipRight(l.done.await, stopStartedInBackground(s))))
  })

/** Waits until the crash-triggered stop (if any) has finished. */
export const awaitCrashStop = (s: ServiceImpl): Effect.Effect<void> =>
  Effect.suspend(() => {
    const fiber = s.crashStopper
    return fiber === undefined ? Effect.void : Effect.asVoid(fiber.await)
  })
