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
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as LogLevel from "effect/LogLevel"
import * as Scope from "effect/Scope"
import type * as Service from "../../Service.js"
import * as ServiceError from "../../ServiceError.js"
import { bounded } from "../bounded.js"
import type { Run } from "../run.js"
import { stopInBackground } from "./crash.js"
import { isolateStop, onStopFiber, runningCodeOf } from "./fiberRefs.js"
import type { ServiceImpl } from "./impl.js"
import { Latch } from "./latch.js"
import * as lifecycle from "./lifecycle.js"
import * as spans from "./spans.js"
import * as tree from "./tree.js"

/** @internal */
export const stop = (s: ServiceImpl): Effect.Effect<void> =>
  Effect.flatMap(FiberRef.get(runningCodeOf), (caller) => {
    // Asked from inside the code this stop will interrupt or wait for (a task of this
    // tree, or one of its hooks): start the stop and return at once.
    if (caller !== undefined && tree.contains(s, caller) && !lifecycle.isDown(s)) {
      return s.lifecycle._tag === "Stopping" ? Effect.void : stopInBackground(s)
    }
    return stopNow(s)
  })

/** @internal */
export const stopNow = (s: ServiceImpl): Effect.Effect<void> =>
  Effect.suspend(() => {
    const l = s.lifecycle
    switch (l._tag) {
      case "Init":
      case "Shutdown":
        return Effect.void
      case "Stopping":
        return l.done.await
      case "Starting": {
        // Ask the start in flight to abort (its hooks are raced against the stop signal),
        // stop the children it may be starting, then wait for its rollback.
        lifecycle.signalStop(s)
        return Effect.forEach([...s.children].reverse(), (c) => c.stop, { discard: true }).pipe(
          Effect.zipRight(l.done.await)
        )
      }
      case "Running":
        return doStop(s)
    }
  })

const doStop = (s: ServiceImpl): Effect.Effect<void> => {
  const run = s.run!
  lifecycle.toStopping(s)
  return isolateStop(spans.lifecycle(
    s,
    "Service.stop",
    s.log(s.mundane, "Stopping...").pipe(
      Effect.zipRight(teardown(s, run, true)),
      Effect.zipRight(Effect.sync(() => lifecycle.toShutdown(s))),
      Effect.zipRight(s.log(s.mundane, "-Stopped!")),
      Effect.zipRight(Effect.suspend(() => {
        const link = s.supervisor
        return link?.onStopped === undefined || s.restartInFlight !== undefined ? Effect.void : link.onStopped(s)
      }))
    )
  ))
}

/** One stop step: bounded by `stopTimeout`, its failure logged and recorded, never failing. */
export const stopStep = (s: ServiceImpl, what: string, effect: Effect.Effect<unknown, unknown>): Effect.Effect<void> =>
  bounded(effect, s.decoded.stopTimeout, s.label, what).pipe(
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
  fn: ((self: Service.Service) => Effect.Effect<unknown, unknown, any>) | undefined
): Effect.Effect<void> => {
  if (fn === undefined) return Effect.void
  return spans.hook(s, name, stopStep(s, name, s.userCode(Effect.suspend(() => fn(s)))))
}

/**
 * Waits for a child's stop, bounded by this service's `stopTimeout`: the child's stop runs
 * on a fiber of its own and is never cut short; past the deadline this stop goes on.
 */
const stopChild = (s: ServiceImpl, child: ServiceImpl): Effect.Effect<void> => {
  const deadline = s.decoded.stopTimeout
  if (deadline === undefined) return child.stop
  return Effect.flatMap(
    Effect.forkDaemon(Effect.locally(child.stop, onStopFiber, true)),
    (fiber) => stopStep(s, `stopping ${child.label}`, Fiber.join(fiber))
  )
}

/**
 * Releases a run in mode's stop order: onStop, children in reverse, the wait for
 * `setShutdown`, the run's fibers, its contexts and finalizers (reverse order), onShutdown.
 * Without hooks it is the rollback of a failed start. A child that left meanwhile is skipped.
 *
 * @internal
 */
export const teardown = (s: ServiceImpl, run: Run, withHooks: boolean): Effect.Effect<void> => {
  const options = s.options
  return Effect.gen(function*() {
    if (withHooks) yield* stopHook(s, "onStop", options.onStop)
    for (const child of [...s.children].reverse()) {
      if (tree.stillChild(s, child)) yield* stopChild(s, child)
    }
    if (withHooks && options.waitForShutdown === true) yield* awaitShutdown(s)
    run.closed = true
    if (run.fibers.size > 0) yield* stopStep(s, "interrupting tasks", run.interruptAll)
    if (run.scope !== undefined) yield* stopStep(s, "releasing contexts", Scope.close(run.scope, Exit.void))
    if (withHooks) yield* stopHook(s, "onShutdown", options.onShutdown)
    for (const child of run.runtimeChildren) tree.detach(child)
    run.runtimeChildren.clear()
  })
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
