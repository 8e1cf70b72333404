/**
 * What runs inside a run: the declared tasks, futures, contexts and finalizers. Every fiber
 * is forked into the run (interrupted by its stop) behind one error boundary: a failure
 * crashes the service or, with `onError: "log"`, is logged.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as HashMap from "effect/HashMap"
import * as LogLevel from "effect/LogLevel"
import * as Scope from "effect/Scope"
import type * as Service from "../../Service.js"
import type { Run } from "../run.js"
import { onStopFiber, type OuterRefs, runningCodeOf, withOuterRefs } from "./fiberRefs.js"
import type { ServiceImpl } from "./impl.js"
import { defaultName, runAs } from "./task.js"
import * as tree from "./tree.js"

/** Forks the declared tasks in order, each behind the error boundary. */
export const forkTasks = (s: ServiceImpl, run: Run, tasks: ReadonlyArray<Service.Task<any, any>>): Effect.Effect<void> =>
  Effect.forEach(tasks, (task, index) => {
    const name = task.name ?? defaultName(index)
    return forkGuarded(s, run, Effect.suspend(() => runAs(task, s, name)), name, task.onError)
  }, { discard: true })

/**
 * `forkIn(run, guard(effect, name, onError), name)`, cheaper. What user code runs with (as
 * `userCode` sets it, plus the task's name) is set on the forking fiber around the fork,
 * and the new fiber inherits it: setting it inside the new fiber would copy its FiberRefs
 * once per ref (about 2 KB each, kept while it runs), each behind an `Effect.locally`.
 * Refs that already hold the value are left alone. The error boundary runs with the
 * forking fiber's refs, exactly as `guard`'s.
 */
const forkGuarded = <A, E>(
  s: ServiceImpl,
  run: Run,
  effect: Effect.Effect<A, E, any>,
  name: string,
  onError: "crash" | "log"
): Effect.Effect<Fiber.RuntimeFiber<A | void>> =>
  Effect.withFiberRuntime((parent) => {
    const outer: OuterRefs = {
      annotations: parent.getFiberRef(FiberRef.currentLogAnnotations),
      context: parent.getFiberRef(FiberRef.currentContext),
      onStop: parent.getFiberRef(onStopFiber),
      code: parent.getFiberRef(runningCodeOf)
    }
    const annotations = HashMap.set(
      HashMap.set(HashMap.set(outer.annotations, "service", s.label), "servicePath", tree.path(s)),
      "task",
      name
    )
    const setUp: Array<Effect.Effect<void>> = [FiberRef.set(FiberRef.currentLogAnnotations, annotations)]
    const restore: Array<Effect.Effect<void>> = [FiberRef.set(FiberRef.currentLogAnnotations, outer.annotations)]
    if (outer.code !== s) {
      setUp.push(FiberRef.set(runningCodeOf, s))
      restore.push(FiberRef.set(runningCodeOf, outer.code))
    }
    // Merging an empty context (a service made without requirements) changes nothing.
    if (s.context.unsafeMap.size > 0) {
      setUp.push(FiberRef.set(FiberRef.currentContext, Context.merge(outer.context, s.context)))
      restore.push(FiberRef.set(FiberRef.currentContext, outer.context))
    }
    if (outer.onStop) {
      setUp.push(FiberRef.set(onStopFiber, false))
      restore.push(FiberRef.set(onStopFiber, true))
    }
    const body: Effect.Effect<A | void> = Effect.catchAllCause(
      effect as Effect.Effect<A, E>,
      (cause) => withOuterRefs(taskFailed(s, cause, name, onError), outer)
    )
    return Effect.uninterruptible(Effect.ensuring(
      Effect.zipRight(Effect.all(setUp, { discard: true }), forkIn(s, run, body, name)),
      Effect.all(restore, { discard: true })
    ))
  })

/** The error boundary of every task and future: a failure crashes the service or is logged. */
export const guard = <A, E>(
  s: ServiceImpl,
  effect: Effect.Effect<A, E, any>,
  name: string,
  onError: "crash" | "log"
): Effect.Effect<A | void> =>
  Effect.catchAllCause(
    s.userCode(Effect.annotateLogs(effect, "task", name)),
    (cause) => taskFailed(s, cause, name, onError)
  )

const taskFailed = (s: ServiceImpl, cause: Cause.Cause<unknown>, name: string, onError: "crash" | "log"): Effect.Effect<void> => {
  if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
  if (onError === "log") return s.log(LogLevel.Error, `Task ${name} failed`, cause)
  return s.crashWith(cause)
}

/** Forks `effect` into `run` (interruptible, interrupted by the run's stop). */
export const forkIn = <A, E>(
  s: ServiceImpl,
  run: Run,
  effect: Effect.Effect<A, E>,
  name: string
): Effect.Effect<Fiber.RuntimeFiber<A, E>> =>
  Effect.uninterruptible(Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.suspend(() => {
      if (run.closed) {
        return Effect.dieMessage(`Service ${tree.path(s)} is not running: cannot fork ${name}`)
      }
      // Fibers inherit the interruptibility of the fiber that forks them: a task forked
      // during the (uninterruptible) start must itself be interruptible.
      return Effect.map(Effect.forkDaemon(Effect.interruptible(effect)), (fiber) => {
        run.add(fiber, name, now)
        return fiber
      })
    })))

const activeRun = (s: ServiceImpl, what: string): Effect.Effect<Run> =>
  Effect.suspend(() => {
    const run = s.run
    if (run === undefined || run.closed) {
      return Effect.dieMessage(`${what}: service ${tree.path(s)} is not started (state: ${s.stateSync()})`)
    }
    return Effect.succeed(run)
  })

/** @internal */
export const addFuture = <A, E, R>(
  s: ServiceImpl,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<Fiber.RuntimeFiber<A, E>, never, R> =>
  Effect.flatMap(Effect.context<R>(), (ctx) =>
    Effect.flatMap(activeRun(s, "addFuture"), (run) => {
      const name = `future-${run.nextFutureId++}`
      const guarded = Effect.provide(effect, ctx).pipe(
        Effect.onError((cause) => Cause.isInterruptedOnly(cause) ? Effect.void : s.crashWith(cause)),
        Effect.locally(runningCodeOf, s),
        Effect.annotateLogs(s.annotations()),
        Effect.annotateLogs("task", name)
      )
      return forkIn(s, run, guarded, name)
    }))

const runScope = (run: Run): Effect.Effect<Scope.Scope> => {
  if (run.scope !== undefined) return Effect.succeed(run.scope)
  return Effect.map(Scope.make(), (scope) => {
    if (run.scope !== undefined) return run.scope
    run.scope = scope
    return scope
  })
}

/** @internal */
export const addContext = <A, E, R>(
  s: ServiceImpl,
  resource: Effect.Effect<A, E, R>
): Effect.Effect<A, E, Exclude<R, Scope.Scope>> =>
  Effect.flatMap(activeRun(s, "addContext"), (run) => Effect.flatMap(runScope(run), (scope) => Scope.extend(resource, scope)))

/** @internal */
export const addFinalizer = (s: ServiceImpl, finalizer: Effect.Effect<void>): Effect.Effect<void> =>
  Effect.flatMap(activeRun(s, "addFinalizer"), (run) => Effect.flatMap(runScope(run), (scope) => Scope.addFinalizer(scope, finalizer)))
