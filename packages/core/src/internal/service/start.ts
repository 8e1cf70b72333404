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
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as LogLevel from "effect/LogLevel"
import * as RuntimeFlags from "effect/RuntimeFlags"
import type * as Service from "../../Service.js"
import * as ServiceError from "../../ServiceError.js"
import { stopCut } from "../bounded.js"
import { Run } from "../run.js"
import { isolateStop } from "./fiberRefs.js"
import { asImpl } from "./handle.js"
import type { ServiceImpl } from "./impl.js"
import * as lifecycle from "./lifecycle.js"
import * as log from "./log.js"
import { withMade } from "./proxy.js"
import { teardown } from "./stop.js"
import * as spans from "./spans.js"
import { forkTasks } from "./tasks.js"
import * as tree from "./tree.js"

/** @internal */
export const start = (s: ServiceImpl): Effect.Effect<void, ServiceError.ServiceError> =>
  Effect.withFiberRuntime((fiber, status) => {
    if (!lifecycle.isDown(s)) {
      return Effect.fail(new ServiceError.AlreadyStarted({ label: s.label, state: s.stateSync() }))
    }
    return doStart(s, fiber, status.runtimeFlags)
  })

/** @internal */
export const maybeStart = (s: ServiceImpl): Effect.Effect<boolean, ServiceError.ServiceError> =>
  Effect.withFiberRuntime((fiber, status) => {
    if (!lifecycle.isDown(s)) return Effect.succeed(false)
    return Effect.as(doStart(s, fiber, status.runtimeFlags), true)
  })

/** A child's start within its parent's (already uninterruptible) start: `maybeStart`, discarded. */
const startChild = (child: ServiceImpl): Effect.Effect<void, ServiceError.ServiceError> =>
  Effect.withFiberRuntime((fiber, status) =>
    lifecycle.isDown(child) ? doStart(child, fiber, status.runtimeFlags) : Effect.void
  )

/** A start hook: interruptible, and cut short when a stop is requested meanwhile. */
export const startHook = (
  s: ServiceImpl,
  name: string,
  fn: (self: Service.Service) => Effect.Effect<unknown, unknown, any>
): Effect.Effect<void, unknown> =>
  Effect.interruptible(
    Effect.raceFirst(Effect.asVoid(spans.hook(s, name, s.userCode(Effect.suspend(() => fn(s))))), s.stopSignal.await)
  )

/**
 * The start, on `fiber` (the current fiber, whose runtime flags are `flags`). Uninterruptible;
 * a child started by its parent's start is already in the parent's uninterruptible region,
 * so it does not enter one again. The steps are built as they are reached, each only when
 * there is something to do (no hook: no step), so a service without hooks costs a handful
 * of Effect steps besides its tasks and children.
 */
const doStart = (
  s: ServiceImpl,
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  flags: RuntimeFlags.RuntimeFlags
): Effect.Effect<void, ServiceError.ServiceError> => {
  const run = new Run()
  lifecycle.toStarting(s, run)
  // StartFailed is made outside the span: Effect would proxy it inside
  const started: Effect.Effect<void, ServiceError.ServiceError> = Effect.matchCauseEffect(
    spans.lifecycleOn(fiber, s, "Service.start", Effect.suspend(() => startSteps(s, run, fiber))),
    {
      onFailure: (cause) => finishStart(s, run, fiber, Exit.failCause(cause)),
      onSuccess: () => {
        if (s.stopSignalled) return finishStart(s, run, fiber, Exit.void)
        lifecycle.toRunning(s, Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeMillis())
        return Effect.void
      }
    }
  )
  return RuntimeFlags.interruption(flags) ? Effect.uninterruptible(started) : started
}

/**
 * mode's start order: the dependencies (first start), onFirstStart, the "Starting..." line,
 * onStart, the tasks, the children in order, onStarted. A stop requested meanwhile ends the
 * steps after the hook or child it interrupted. Each function runs when its step is reached.
 */
const startSteps = (s: ServiceImpl, run: Run, fiber: Fiber.RuntimeFiber<unknown, unknown>): Effect.Effect<void, unknown> => {
  const dependencies = s.options.dependencies
  if (!s.depsAdded && dependencies !== undefined) {
    // Added once, on the first start that gets them: a failing `dependencies` is asked
    // again by the next start.
    // Interruptible and cut short by a stop, as a start hook is; a list given at once
    // (`Effect.succeed([...])`, an Exit) has nothing to wait for, and is taken as it is.
    const asked = Effect.suspend((): Effect.Effect<Iterable<Service.Service> | undefined, unknown> => {
      const made = dependencies(s)
      if (Exit.isExit(made)) return made as Exit.Exit<Iterable<Service.Service>, unknown>
      return Effect.interruptible(Effect.raceFirst(
        Effect.map(s.userCode(made), (deps): Iterable<Service.Service> | undefined => deps),
        Effect.as(s.stopSignal.await, undefined)
      ))
    })
    return Effect.flatMap(asked, (deps) => {
      if (deps === undefined || s.stopSignalled) return Effect.void
      const list = Array.from(deps)
      const attached = Effect.suspend(() => {
        if (s.stopSignalled) return Effect.void
        for (const dep of list) tree.attach(s, asImpl(dep))
        s.depsAdded = true
        return firstStart(s, run, fiber)
      })
      // A proxy among them has its service made first: user code, raced against the stop
      // and interruptible, as the hook that listed it.
      const made = withMade(list, Effect.void)
      return made === Effect.void
        ? attached
        : Effect.zipRight(Effect.interruptible(Effect.raceFirst(made, s.stopSignal.await)), attached)
    })
  }
  s.depsAdded = true
  return firstStart(s, run, fiber)
}

const firstStart = (s: ServiceImpl, run: Run, fiber: Fiber.RuntimeFiber<unknown, unknown>): Effect.Effect<void, unknown> => {
  if (s.firstStartDone) return everyStart(s, run, fiber)
  const hook = s.options.onFirstStart
  if (hook === undefined) {
    s.firstStartDone = true
    return s.stopSignalled ? Effect.void : everyStart(s, run, fiber)
  }
  return Effect.flatMap(startHook(s, "onFirstStart", hook), () => {
    s.firstStartDone = true
    return s.stopSignalled ? Effect.void : everyStart(s, run, fiber)
  })
}

const everyStart = (s: ServiceImpl, run: Run, fiber: Fiber.RuntimeFiber<unknown, unknown>): Effect.Effect<void, unknown> => {
  const logged = log.logOn(fiber, s, s.mundane, "Starting...")
  const hook = s.options.onStart
  if (hook === undefined) {
    return logged === undefined ? afterOnStart(s, run, fiber) : Effect.flatMap(logged, () => afterOnStart(s, run, fiber))
  }
  const onStart = Effect.flatMap(startHook(s, "onStart", hook), () => afterOnStart(s, run, fiber))
  return logged === undefined ? onStart : Effect.zipRight(logged, onStart)
}

const afterOnStart = (s: ServiceImpl, run: Run, fiber: Fiber.RuntimeFiber<unknown, unknown>): Effect.Effect<void, unknown> => {
  if (s.stopSignalled) return Effect.void
  const tasks = s.options.tasks
  if (tasks === undefined || tasks.length === 0) return startChildren(s, [...s.children], 0)
  return Effect.flatMap(forkTasks(s, run, tasks, fiber), () => startChildren(s, [...s.children], 0))
}

/** The children in order (a child removed meanwhile is no longer this start's to start), then onStarted. */
const startChildren = (s: ServiceImpl, children: ReadonlyArray<ServiceImpl>, from: number): Effect.Effect<void, unknown> => {
  let i = from
  while (i < children.length && !tree.stillChild(s, children[i]!)) i++
  if (i < children.length) {
    return Effect.flatMap(startChild(children[i]!), () => s.stopSignalled ? Effect.void : startChildren(s, children, i + 1))
  }
  const run = lifecycle.runOf(s)
  if (run !== undefined) run.childrenStarted = true
  const hook = s.options.onStarted
  return hook === undefined ? Effect.void : startHook(s, "onStarted", hook)
}

const finishStart = (
  s: ServiceImpl,
  run: Run,
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  exit: Exit.Exit<void, unknown>
): Effect.Effect<void, ServiceError.ServiceError> => {
  // The start did not complete: a step failed, the start was interrupted, a stop was
  // requested meanwhile, or the service crashed while starting. Release what was
  // acquired, in reverse, and say why.
  return isolateStop(teardown(s, run, false, fiber.getFiberRef(stopCut))).pipe(
    Effect.zipRight(Effect.suspend(() => {
      const failure = Exit.isFailure(exit) ? spans.original(exit.cause) : s.crashCause
      if (failure !== undefined && !Cause.isInterruptedOnly(failure)) {
        const path = tree.path(s)
        lifecycle.markCrash(s, startReason(failure), path)
        s.startFailed = true
        lifecycle.toShutdown(s)
        const failed = Effect.fail(new ServiceError.StartFailed({ label: s.label, cause: failure }))
        // A crash that began under the service (a child crashed while this start ran) was
        // logged where it began; the start that it cut short says nothing more.
        if (s.crashOrigin !== path) return failed
        return Effect.zipRight(s.log(LogLevel.Error, "Start failed", failure), failed)
      }
      lifecycle.toShutdown(s)
      if (Exit.isFailure(exit)) return Effect.failCause(exit.cause as Cause.Cause<never>)
      // Cut short by a stop: a supervisor is told of that stop as of any other (a permanent
      // child stopped by someone else is restarted, whether it was starting or running).
      const link = s.supervisor
      return link?.onStopped === undefined || s.restartInFlight !== undefined ? Effect.void : link.onStopped(s)
    }))
  )
}

/**
 * The crash reason of a failed start: a child whose start failed (or a service the start
 * started) fails it with that service's `StartFailed`; the reason is the one inside, as a
 * crash gives every service it reaches the same reason. The start's own `StartFailed` keeps
 * the chain (P failed to start because C failed to start, because ...).
 */
const startReason = (cause: Cause.Cause<unknown>): Cause.Cause<unknown> => {
  let reason = cause
  while (Cause.isFailType(reason) && reason.error instanceof ServiceError.StartFailed) reason = reason.error.cause
  return reason
}
