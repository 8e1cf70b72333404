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
import * as FiberRefs from "effect/FiberRefs"
import * as HashMap from "effect/HashMap"
import * as LogLevel from "effect/LogLevel"
import * as Scope from "effect/Scope"
import type * as Service from "../../Service.js"
import type { Run } from "../run.js"
import { onStopFiber, type OuterRefs, refValue, runningCodeOf, setRefs, updatedAs, withOuterRefs } from "./fiberRefs.js"
import type { ServiceImpl } from "./impl.js"
import { currentRefs, serviceAnnotations, TaskRefs, taskRefs } from "./taskRefs.js"
import { defaultName, type NamedTask, runAs } from "./task.js"
import * as tree from "./tree.js"

/**
 * Starts the declared tasks in order, from `fiber` (the fiber starting the service, in the
 * start's uninterruptible region): a fiber each, behind the error boundary, except a task that
 * waits on the timer scheduler (`scheduleOn`: a timer, a crontab), which is registered there
 * and has no fiber until it is due.
 */
export const forkTasks = (
  s: ServiceImpl,
  run: Run,
  tasks: ReadonlyArray<Service.Task<any, any>>,
  fiber: Fiber.RuntimeFiber<unknown, unknown>
): Effect.Effect<unknown> => forkFrom(new Forking(s, run, fiber), tasks, 0)

/**
 * One service's tasks being started: the starting fiber's refs, read once, and what every
 * task of the service adds to them but its name.
 */
class Forking {
  readonly outer: FiberRefs.FiberRefs
  private outerValues: OuterRefs | undefined = undefined
  private base: HashMap.HashMap<string, unknown> | undefined = undefined
  constructor(readonly s: ServiceImpl, readonly run: Run, readonly fiber: Fiber.RuntimeFiber<unknown, unknown>) {
    this.outer = currentRefs(fiber)
  }
  /** What the error boundary runs with: the starting fiber's refs. */
  get outerRefs(): OuterRefs {
    return this.outerValues ??= outerOf(this.outer)
  }
  /**
   * The FiberRefs the task `name` runs with (taskRefs.ts). The log annotations but the task's
   * name are made once per start, not kept by the service: a stopped service holds none.
   */
  refsFor(name: string): FiberRefs.FiberRefs {
    const base = this.base ??= serviceAnnotations(this.outer, this.s)
    return taskRefs(this.outer, this.fiber.id(), this.s, HashMap.set(base, "task", name))
  }
  /** What the refs of the task `name` are made of, for a task that has them made when due. */
  recipeFor(name: string): TaskRefs {
    return new TaskRefs(this.outer, this.fiber.id(), this.s, name)
  }
}

const forkFrom = (forking: Forking, tasks: ReadonlyArray<Service.Task<any, any>>, index: number): Effect.Effect<unknown> => {
  const task = tasks[index]!
  const started = startTask(forking, task, task.name ?? defaultName(index))
  return index + 1 >= tasks.length ? started : Effect.flatMap(started, () => forkFrom(forking, tasks, index + 1))
}

const startTask = (forking: Forking, task: Service.Task<any, any>, name: string): Effect.Effect<unknown> => {
  const { fiber, run, s } = forking
  if (run.closed) return Effect.dieMessage(`Service ${tree.path(s)} is not running: cannot fork ${name}`)
  const scheduleOn = (task as Partial<NamedTask<any, any>>).scheduleOn
  if (scheduleOn !== undefined) return scheduleOn(s, run, name, task.onError, forking.recipeFor(name), fiber)
  return forkWith(forking, Effect.suspend(() => runAs(task, s, name)), name, task.onError)
}

/**
 * Forks `effect` into the run behind the error boundary, with the refs of a task named
 * `name` (`Forking.refsFor`): they are given to the forking fiber for the fork (the new
 * fiber inherits them), then the forking fiber gets its own refs back. The error boundary
 * runs with the forking fiber's refs, as `guard`'s does. Call it in an uninterruptible region.
 */
const forkWith = <A, E>(
  forking: Forking,
  effect: Effect.Effect<A, E, any>,
  name: string,
  onError: "crash" | "log"
): Effect.Effect<Fiber.RuntimeFiber<A | void>> => {
  const { fiber, run, s } = forking
  const body = guarded(s, effect, name, onError, forking.outerRefs)
  const now = Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeMillis()
  const fork = Effect.flatMap(Effect.forkDaemon(body), (child) => {
    run.add(child, name, now)
    return Effect.as(setRefs(fiber, forking.outer), child)
  })
  const set = setRefs(fiber, forking.refsFor(name))
  return set === Effect.void ? fork : Effect.zipRight(set, fork)
}

/**
 * The task's body behind its error boundary. A function of its own, so that what its
 * closure holds for as long as the task runs is only what it uses: of the forking fiber,
 * four values (`outer`), not its refs.
 */
const guarded = <A, E>(
  s: ServiceImpl,
  effect: Effect.Effect<A, E, any>,
  name: string,
  onError: "crash" | "log",
  outer: OuterRefs
): Effect.Effect<A | void> =>
  Effect.interruptible(Effect.catchAllCause(
    effect as Effect.Effect<A, E>,
    (cause) =>
      Effect.withFiberRuntime((task) => {
        // The task ends here: it can take the forking fiber's values for good.
        const restored = setRefs(task, withOuter(task, outer))
        const failed = taskFailed(s, cause, name, onError)
        return restored === Effect.void ? failed : withOuterRefs(failed, outer)
      })
  ))

/**
 * `forkIn(run, guard(effect, name, onError), name)`, cheaper (the refs are set once, for the
 * fork, instead of by an `Effect.locally` each inside the new fiber).
 *
 * @internal
 */
export const forkGuarded = <A, E>(
  s: ServiceImpl,
  run: Run,
  effect: Effect.Effect<A, E, any>,
  name: string,
  onError: "crash" | "log"
): Effect.Effect<Fiber.RuntimeFiber<A | void>> =>
  Effect.uninterruptible(Effect.withFiberRuntime((fiber) => {
    if (run.closed) return Effect.dieMessage(`Service ${tree.path(s)} is not running: cannot fork ${name}`)
    return forkWith(new Forking(s, run, fiber), effect, name, onError)
  }))

/** The refs of `fiber` (the current fiber) with `outer`'s values: one copy of the map. */
const withOuter = (fiber: Fiber.RuntimeFiber<unknown, unknown>, outer: OuterRefs): FiberRefs.FiberRefs =>
  updatedAs(fiber.getFiberRefs(), fiber.id(), [
    [FiberRef.currentLogAnnotations, outer.annotations],
    [FiberRef.currentContext, outer.context],
    [onStopFiber, outer.onStop],
    [runningCodeOf, outer.code]
  ])

/** What the error boundary of a task forked from a fiber holding `refs` runs with. */
const outerOf = (refs: FiberRefs.FiberRefs): OuterRefs => ({
  annotations: refValue(refs, FiberRef.currentLogAnnotations),
  context: refValue(refs, FiberRef.currentContext),
  onStop: refValue(refs, onStopFiber),
  code: refValue(refs, runningCodeOf)
})

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
        run.addShortLived(fiber, name, now)
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
