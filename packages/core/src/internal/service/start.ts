/**
 * Start: Init | Shutdown -> Starting -> Running, in mode's order (dependencies on the first
 * start, onFirstStart, onStart, the tasks, the children in order, onStarted). A stop asked
 * for meanwhile cuts the start hooks short; a start that does not complete rolls back what
 * it acquired (stop.ts's teardown without hooks) and ends in Shutdown, crashed when a step
 * failed.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as LogLevel from "effect/LogLevel"
import type * as Service from "../../Service.js"
import * as ServiceError from "../../ServiceError.js"
import { Run } from "../run.js"
import { isolateStop } from "./fiberRefs.js"
import { asImpl, type ServiceImpl } from "./impl.js"
import * as lifecycle from "./lifecycle.js"
import { teardown } from "./stop.js"
import * as spans from "./spans.js"
import { forkTasks } from "./tasks.js"
import * as tree from "./tree.js"

/** @internal */
export const start = (s: ServiceImpl): Effect.Effect<void, ServiceError.ServiceError> =>
  Effect.suspend(() => {
    if (!lifecycle.isDown(s)) {
      return Effect.fail(new ServiceError.AlreadyStarted({ label: s.label, state: s.stateSync() }))
    }
    return doStart(s)
  })

/** @internal */
export const maybeStart = (s: ServiceImpl): Effect.Effect<boolean, ServiceError.ServiceError> =>
  Effect.suspend(() => {
    if (!lifecycle.isDown(s)) return Effect.succeed(false)
    return Effect.as(doStart(s), true)
  })

/** A start hook: interruptible, and cut short when a stop is requested meanwhile. */
export const startHook = (
  s: ServiceImpl,
  name: string,
  fn: ((self: Service.Service) => Effect.Effect<unknown, unknown, any>) | undefined
): Effect.Effect<void, unknown> => {
  if (fn === undefined) return Effect.void
  return Effect.interruptible(
    Effect.raceFirst(Effect.asVoid(spans.hook(s, name, s.userCode(Effect.suspend(() => fn(s))))), s.stopSignal.await)
  )
}

const doStart = (s: ServiceImpl): Effect.Effect<void, ServiceError.ServiceError> =>
  Effect.uninterruptible(Effect.suspend(() => {
    const run = new Run()
    lifecycle.toStarting(s, run)
    // StartFailed is made outside the span: Effect would proxy it inside
    return Effect.flatMap(
      Effect.exit(spans.lifecycle(s, "Service.start", startSteps(s, run))),
      (exit) => finishStart(s, run, exit)
    )
  }))

const startSteps = (s: ServiceImpl, run: Run): Effect.Effect<void, unknown> => {
  const options = s.options
  return Effect.gen(function*() {
    if (!s.depsAdded) {
      if (options.dependencies !== undefined) {
        // Added once, on the first start that gets them: a failing `dependencies` is
        // asked again by the next start.
        const deps = Array.from(yield* s.userCode(Effect.suspend(() => options.dependencies!(s))), asImpl)
        for (const dep of deps) tree.attach(s, dep)
      }
      s.depsAdded = true
    }
    if (!s.firstStartDone) {
      yield* startHook(s, "onFirstStart", options.onFirstStart)
      s.firstStartDone = true
      if (s.stopSignalled) return
    }
    yield* s.log(s.mundane, "Starting...")
    yield* startHook(s, "onStart", options.onStart)
    if (s.stopSignalled) return
    if (options.tasks !== undefined && options.tasks.length > 0) yield* forkTasks(s, run, options.tasks)
    for (const child of [...s.children]) {
      // a child removed meanwhile is no longer this start's to start
      if (!tree.stillChild(s, child)) continue
      yield* child.maybeStart
      if (s.stopSignalled) return
    }
    yield* startHook(s, "onStarted", options.onStarted)
  })
}

const finishStart = (s: ServiceImpl, run: Run, exit: Exit.Exit<void, unknown>): Effect.Effect<void, ServiceError.ServiceError> => {
  if (Exit.isSuccess(exit) && !s.stopSignalled) {
    return Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => lifecycle.toRunning(s, now)))
  }
  // The start did not complete: a step failed, the start was interrupted, a stop was
  // requested meanwhile, or the service crashed while starting. Release what was
  // acquired, in reverse, and say why.
  return isolateStop(teardown(s, run, false)).pipe(
    Effect.zipRight(Effect.suspend(() => {
      const failure = Exit.isFailure(exit) ? spans.original(exit.cause) : s.crashCause
      if (failure !== undefined && !Cause.isInterruptedOnly(failure)) {
        lifecycle.markCrash(s, failure, tree.path(s))
        lifecycle.toShutdown(s)
        return Effect.zipRight(
          s.log(LogLevel.Error, "Start failed", failure),
          Effect.fail(new ServiceError.StartFailed({ label: s.label, cause: failure }))
        )
      }
      lifecycle.toShutdown(s)
      return Exit.isFailure(exit) ? Effect.failCause(exit.cause as Cause.Cause<never>) : Effect.void
    }))
  )
}
