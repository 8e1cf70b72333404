/**
 * Stop: Running -> Stopping -> Shutdown, in mode's order (onStop, the children in reverse,
 * the wait for `setShutdown`, the run's fibers, its contexts and finalizers, onShutdown).
 * Every step is bounded by `stopTimeout` (a typed `StopTimeout` when it is not met), waiting
 * for a child's stop included; a stop asked for while one is in flight joins it; a stop asked
 * for from inside the code it stops starts it in the background.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as LogLevel from "effect/LogLevel"
import * as Scope from "effect/Scope"
import type * as Service from "../../Service.js"
import * as ServiceError from "../../ServiceError.js"
import { bounded, stopCut } from "../bounded.js"
import type { Run } from "../run.js"
import { cancelScheduled } from "../scheduledTask.js"
import { crashStopping, stopInBackground } from "./crash.js"
import { isolateStop, onStopFiber, runningCodeOf } from "./fiberRefs.js"
import type { ServiceImpl } from "./impl.js"
import { Latch } from "./latch.js"
import * as lifecycle from "./lifecycle.js"
import * as log from "./log.js"
import * as spans from "./spans.js"
import * as tree from "./tree.js"

/** @internal */
export const stop = (s: ServiceImpl): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) => {
    const caller = fiber.getFiberRef(runningCodeOf)
    const inside = caller !== undefined && tree.contains(s, caller)
    // A stop from outside the service's own code: a restart in flight gives way to it. One
    // from inside (a task's finalizer, onStop) is part of the stop the restart itself began.
    if (!inside) s.stopsAsked++
    // Asked from inside the code this stop will interrupt or wait for (a task of this
    // tree, or one of its hooks): start the stop and return at once.
    if (inside && !lifecycle.isDown(s)) {
      const l = s.lifecycle
      if (l._tag === "Stopping" || crashStopping(s)) return Effect.void
      if (l._tag !== "Running") {
        // Starting: the start in flight is asked to abort at once (`shouldStop` is true
        // before the caller's next step); the background stop waits for its rollback.
        lifecycle.signalStop(s)
        return stopInBackground(s)
      }
      // The caller goes on right away: the service is stopping (`state`, `shouldStop`) before
      // the caller's next step, as after a stop asked for from outside.
      lifecycle.toStopping(s)
      // Uninterruptible until forked: the service is Stopping, so its stop must begin.
      return Effect.uninterruptible(stopInBackground(s, Effect.withFiberRuntime((stopper) => stopSteps(s, l.run, stopper))))
    }
    // A restart in flight in its onRestart gives way to this stop when onRestart ends
    // (restart.ts); not waited for here: onRestart may be waiting for this very stop.
    return stopOn(s, fiber)
  })

/** @internal */
export const stopNow = (s: ServiceImpl): Effect.Effect<void> => Effect.withFiberRuntime((fiber) => stopOn(s, fiber))

/** The stop, decided on `fiber` (the current fiber). */
const stopOn = (s: ServiceImpl, fiber: Fiber.RuntimeFiber<unknown, unknown>): Effect.Effect<void> => {
  const l = s.lifecycle
  switch (l._tag) {
    case "Init":
    case "Shutdown":
      return Effect.void
    case "Stopping":
      return l.done.await
    case "Starting": {
      // Ask the start in flight to abort (its hooks are raced against the stop signal),
      // stop the children it may be starting, then wait for its rollback: on a fiber of its
      // own, as any stop asked for from outside, so that an interrupted caller does not leave
      // the children it had not reached yet starting.
      lifecycle.signalStop(s)
      return isolateStop(Effect.forEach([...s.children].reverse(), (c) => c.stop, { discard: true }).pipe(
        Effect.zipRight(l.done.await)
      ))
    }
    case "Running":
      return doStop(s, fiber)
  }
}

/**
 * A stop that runs no user code and has nothing to bound: no hooks, no `stopTimeout`, no wait
 * for `setShutdown`, no children, no contexts or finalizers. Such a stop only cancels timers
 * and interrupts the run's fibers, so the caller runs it itself, uninterruptibly: the same
 * outcome as on a fiber of its own (`isolateStop`), which the caller would wait for
 * uninterruptibly too, without that fiber. Without a run (the service is down), what the
 * service itself declares.
 *
 * @internal
 */
export const isSimpleStop = (s: ServiceImpl, run: Run | undefined): boolean => {
  const o = s.options
  return s.children.length === 0 && s.decoded.stopTimeout === undefined && o.onStop === undefined &&
    o.onShutdown === undefined && o.waitForShutdown !== true &&
    (run === undefined || (run.scope === undefined && run.runtimeChildren.size === 0))
}

const doStop = (s: ServiceImpl, fiber: Fiber.RuntimeFiber<unknown, unknown>): Effect.Effect<void> => {
  const run = s.run!
  lifecycle.toStopping(s)
  return stopSteps(s, run, fiber)
}

/** The steps of a stop, on `fiber`, once the service is Stopping. */
const stopSteps = (s: ServiceImpl, run: Run, fiber: Fiber.RuntimeFiber<unknown, unknown>): Effect.Effect<void> => {
  const stopping = log.logOn(fiber, s, s.mundane, "Stopping...")
  const steps = Effect.zipRight(
    teardown(s, run, true, fiber.getFiberRef(stopCut)),
    Effect.suspend(() => {
      lifecycle.toShutdown(s)
      const link = s.supervisor
      const told = link?.onStopped === undefined || s.restartInFlight !== undefined ? Effect.void : link.onStopped(s)
      const stopped = log.logOn(fiber, s, s.mundane, "-Stopped!")
      return stopped === undefined ? told : Effect.zipRight(stopped, told)
    })
  )
  const traced = spans.lifecycleOn(fiber, s, "Service.stop", stopping === undefined ? steps : Effect.zipRight(stopping, steps))
  return isSimpleStop(s, run) ? Effect.uninterruptible(traced) : isolateStop(traced)
}

/** The signal that cuts a stop's steps (`Service.withStopCut`), read once per stop from the fiber that stops. */
type Cut = Deferred.Deferred<void> | undefined

/** One stop step: bounded by `stopTimeout`, its failure logged and recorded, never failing. */
export const stopStep = (
  s: ServiceImpl,
  what: string,
  effect: Effect.Effect<unknown, unknown>,
  cut: Cut
): Effect.Effect<void> =>
  bounded(effect, s.decoded.stopTimeout, s.label, what, cut).pipe(
    Effect.catchAllCause((cause) =>
      Effect.zipRight(
        Effect.sync(() => {
          s.lastStopFailure = spans.original(cause)
        }),
        s.log(LogLevel.Warning, `${what} failed while stopping`, cause)
      )
    )
  )

const stopHook = (
  s: ServiceImpl,
  name: string,
  fn: (self: Service.Service) => Effect.Effect<unknown, unknown, any>,
  cut: Cut
): Effect.Effect<void> => spans.hook(s, name, stopStep(s, name, s.userCode(Effect.suspend(() => fn(s))), cut))

/**
 * Waits for a child's stop, bounded by this service's `stopTimeout`: the child's stop runs
 * on a fiber of its own and is never cut short; past the deadline this stop goes on.
 */
const stopChild = (s: ServiceImpl, child: ServiceImpl, cut: Cut): Effect.Effect<void> => {
  const deadline = s.decoded.stopTimeout
  if (deadline === undefined) return child.stop
  return Effect.flatMap(
    Effect.forkDaemon(Effect.locally(child.stop, onStopFiber, true)),
    (fiber) => stopStep(s, `stopping ${child.label}`, Fiber.join(fiber), cut)
  )
}

/**
 * Releases a run in mode's stop order: onStop, children in reverse, the wait for
 * `setShutdown`, the run's fibers, its contexts and finalizers (reverse order), onShutdown.
 * Without hooks it is the rollback of a failed start. A child that left meanwhile is skipped.
 *
 * @internal
 */
export const teardown = (s: ServiceImpl, run: Run, withHooks: boolean, cut: Cut): Effect.Effect<void> =>
  Effect.suspend(() => {
    const onStop = withHooks ? s.options.onStop : undefined
    const children = s.children.length === 0 ? s.children : [...s.children].reverse()
    const rest = Effect.suspend(() => stopChildren(s, run, withHooks, children, 0, cut))
    return onStop === undefined ? rest : Effect.zipRight(stopHook(s, "onStop", onStop, cut), rest)
  })

/** The children in reverse (a child that left meanwhile is skipped), then the run's own steps. */
const stopChildren = (
  s: ServiceImpl,
  run: Run,
  withHooks: boolean,
  children: ReadonlyArray<ServiceImpl>,
  from: number,
  cut: Cut
): Effect.Effect<void> => {
  let i = from
  while (i < children.length && !tree.stillChild(s, children[i]!)) i++
  if (i < children.length) {
    return Effect.flatMap(stopChild(s, children[i]!, cut), () => stopChildren(s, run, withHooks, children, i + 1, cut))
  }
  if (withHooks && s.options.waitForShutdown === true) {
    return Effect.zipRight(awaitShutdown(s), Effect.suspend(() => releaseRun(s, run, withHooks, cut)))
  }
  return releaseRun(s, run, withHooks, cut)
}

/** The run's timers, fibers, contexts and finalizers, then onShutdown; its runtime children leave. */
const releaseRun = (s: ServiceImpl, run: Run, withHooks: boolean, cut: Cut): Effect.Effect<void> => {
  run.closed = true
  const steps: Array<Effect.Effect<void>> = []
  // The timers leave the scheduler now; what may be left is its fiber's end.
  const closing = cancelScheduled(run)
  if (closing !== undefined) steps.push(closing)
  if (run.fibers.length > 0) steps.push(stopStep(s, "interrupting tasks", run.interruptAll, cut))
  if (run.scope !== undefined) {
    const scope = run.scope
    steps.push(stopStep(s, "releasing contexts", Scope.close(scope, Exit.void), cut))
  }
  const onShutdown = withHooks ? s.options.onShutdown : undefined
  if (onShutdown !== undefined) steps.push(stopHook(s, "onShutdown", onShutdown, cut))
  // A closed run takes no new runtime child: with none now, there is none to detach.
  if (run.runtimeChildren.size > 0) {
    steps.push(Effect.sync(() => {
      for (const child of run.takeRuntimeChildren()) tree.detach(child)
    }))
  }
  switch (steps.length) {
    case 0:
      return Effect.void
    case 1:
      return steps[0]!
    case 2:
      return Effect.zipRight(steps[0]!, steps[1]!)
    default:
      return Effect.all(steps, { discard: true })
  }
}

const awaitShutdown = (s: ServiceImpl): Effect.Effect<void> => {
  const signal = s.shutdownSignal ??= new Latch()
  if (signal.isOpen) return Effect.void
  const timeout = s.decoded.shutdownTimeout
  return signal.await.pipe(
    Effect.interruptible,
    Effect.timeoutTo({
      duration: timeout,
      onSuccess: () => Effect.void,
      onTimeout: () => {
        const error = new ServiceError.ShutdownTimeout({ label: s.label, timeoutMillis: Duration.toMillis(timeout) })
        s.lastStopFailure = Cause.fail(error)
        return s.log(LogLevel.Warning, error.message)
      }
    }),
    Effect.flatten
  )
}
