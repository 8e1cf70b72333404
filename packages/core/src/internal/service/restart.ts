/**
 * Restart: stop, `onRestart`, start (without `onFirstStart` and `dependencies`). One restart
 * at a time per service (a restart asked for meanwhile joins it); a restart asked for from
 * inside the code it stops runs in the background; a restart gives way when the tree above
 * began to stop meanwhile.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as LogLevel from "effect/LogLevel"
import * as ServiceError from "../../ServiceError.js"
import { spreadCrash } from "./crash.js"
import { runningCodeOf } from "./fiberRefs.js"
import type { ServiceImpl } from "./impl.js"
import * as lifecycle from "./lifecycle.js"
import * as metrics from "./metrics.js"
import * as spans from "./spans.js"
import { isSimpleStop } from "./stop.js"
import * as tree from "./tree.js"

/** @internal */
export const restart = (s: ServiceImpl): Effect.Effect<void, ServiceError.ServiceError> =>
  Effect.withFiberRuntime((fiber) => {
    const caller = fiber.getFiberRef(runningCodeOf)
    // Asked from inside the code this restart stops (a task or hook of this tree): it
    // cannot wait for itself, so it runs on a fiber of its own and the caller goes on.
    return caller !== undefined && tree.contains(s, caller) && !lifecycle.isDown(s)
      ? restartInBackground(s)
      : restartNow(s)
  })

const restartInBackground = (s: ServiceImpl): Effect.Effect<void> =>
  // a failed start is logged and recorded (crashed) where it happens
  Effect.asVoid(Effect.forkDaemon(restartNow(s).pipe(Effect.ignore, Effect.locally(runningCodeOf, undefined))))

const restartNow = (s: ServiceImpl): Effect.Effect<void, ServiceError.ServiceError> =>
  Effect.suspend(() => {
    const bySupervisor = s.restartBySupervisor
    s.restartBySupervisor = false
    // A restart asked for while one is in flight joins it: one restart, one outcome.
    if (s.restartInFlight !== undefined) return s.restartInFlight
    const inFlight = new InFlight()
    s.restartInFlight = inFlight.await
    return spans.lifecycle(s, "Service.restart", restartSteps(s)).pipe(Effect.onExit((exit) => {
      s.restartInFlight = undefined
      inFlight.done(exit)
      // A supervised service whose restart (asked for by someone else) failed to start is
      // crashed: its supervisor is told, as of any crash, instead of leaving it down.
      return Exit.isFailure(exit) && !bySupervisor && s.supervisor !== undefined && s.startFailed && lifecycle.isDown(s)
        ? spreadCrash(s)
        : Effect.void
    }))
  })

/**
 * The outcome of a restart in flight, for a restart that joins it. Its Deferred (about 0.75 KB)
 * is made only when one does (most restarts are joined by nobody).
 */
class InFlight {
  private exit: Exit.Exit<void, ServiceError.ServiceError> | undefined = undefined
  private deferred: Deferred.Deferred<void, ServiceError.ServiceError> | undefined = undefined
  done(exit: Exit.Exit<void, ServiceError.ServiceError>): void {
    this.exit = exit
    if (this.deferred !== undefined) Deferred.unsafeDone(this.deferred, exit)
  }
  get await(): Effect.Effect<void, ServiceError.ServiceError> {
    return Effect.suspend(() => this.exit ?? Deferred.await(this.deferred ??= Deferred.unsafeMake(FiberId.none)))
  }
}

/** Stops signalled on the ancestors so far, or -1 when one of them is stopping now. */
const ancestorStops = (s: ServiceImpl): number => {
  let n = 0
  for (let p = s.parent; p !== undefined; p = p.parent) {
    n += p.stopsSignalled
    if (p.lifecycle._tag === "Stopping") return -1
  }
  return n
}

const restartSteps = (s: ServiceImpl): Effect.Effect<void, ServiceError.ServiceError> => {
  const before = ancestorStops(s)
  // A supervisor's restart job stops the service first: nothing is left to stop then.
  const down = lifecycle.isDown(s)
  // The stops asked for once the restart's own has been: any more is someone's stop of this
  // service during the restart (while its stop or onRestart runs), which the restart gives
  // way to, as to one of the tree above: the service stays stopped, as the caller of that
  // stop expects it to be once it returns.
  const asked = s.stopsAsked + (down ? 0 : 1)
  const givesWay = () => before === -1 || ancestorStops(s) !== before || s.stopsAsked !== asked
  return (down ? Effect.void : s.stop).pipe(
    Effect.zipRight(Effect.suspend(() => {
      // When the tree above began to stop (or crashed) meanwhile, the restart gives way
      // to it: the service stays stopped, as that stop expects it to be.
      if (givesWay()) return Effect.void
      lifecycle.markRestarted(s)
      metrics.restarted()
      const onRestart = s.options.onRestart
      if (onRestart === undefined) return s.start
      // A start asked for meanwhile (during onRestart) started the service already: the
      // restart happened, and does not fail with AlreadyStarted.
      return Effect.catchAllCause(
        spans.hook(s, "onRestart", s.userCode(Effect.suspend(() => onRestart(s)))),
        (cause) => restartFailed(s, cause)
      ).pipe(Effect.zipRight(Effect.suspend(() => lifecycle.isDown(s) && !givesWay() ? s.start : Effect.void)))
    }))
  )
}

/**
 * `onRestart` failed or died: the start side of the restart failed, as a failed start
 * (crashed with the cause, `StartFailed`). An interruption is passed on, not a crash.
 */
const restartFailed = (s: ServiceImpl, cause: Cause.Cause<unknown>): Effect.Effect<never, ServiceError.ServiceError> => {
  if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
  return Effect.suspend(() => {
    cause = spans.original(cause)
    // Started meanwhile (a start during onRestart): a crash of a running service, which stops it.
    if (!lifecycle.isDown(s)) {
      return Effect.zipRight(s.crashWith(cause), Effect.fail(new ServiceError.StartFailed({ label: s.label, cause })))
    }
    lifecycle.markCrash(s, cause, tree.path(s))
    s.startFailed = true
    lifecycle.signalStop(s)
    return Effect.zipRight(
      s.log(LogLevel.Error, "Restart failed", cause),
      Effect.fail(new ServiceError.StartFailed({ label: s.label, cause }))
    )
  })
}

/**
 * Whether a restart of `s` now would run no user code and wait for nothing: no hook on either
 * side, nothing to bound, no children, and a run with no live fiber, context or finalizer
 * (a crashed service whose only task ended). A supervisor runs such a restart on its own
 * loop instead of on a fiber of its own: it takes no longer than a few steps.
 *
 * @internal
 */
export const runsNoUserCode = (s: ServiceImpl): boolean => {
  const o = s.options
  const run = s.run
  return isSimpleStop(s, run) && (run === undefined || run.fibers.length === 0) &&
    o.onRestart === undefined && o.onStart === undefined && o.onStarted === undefined &&
    (s.firstStartDone || o.onFirstStart === undefined) && (s.depsAdded || o.dependencies === undefined)
}
