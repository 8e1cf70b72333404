/**
 * The FiberRefs a task of a service runs with: those of the fiber that starts the service
 * (`outer`), plus what `userCode` sets (the service's context, its log annotations, whose
 * code runs) and the task's name. A forked task is given them at its fork. A timer or crontab
 * waiting on the timer scheduler keeps only what they are made of (`TaskRefs`: the starting
 * fiber's refs, shared by every service that fiber starts) and has them made at its first
 * tick (then keeps them), so that a timer that has not ticked holds no map of refs of its own.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Equal from "effect/Equal"
import type * as Fiber from "effect/Fiber"
import type * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import type * as FiberRefs from "effect/FiberRefs"
import * as HashMap from "effect/HashMap"
import { onStopFiber, type RefValue, refValue, runningCodeOf, updatedAs } from "./fiberRefs.js"
import type { ServiceImpl } from "./impl.js"
import * as tree from "./tree.js"

/**
 * The log annotations of `outer` plus `service` and `servicePath`: what every task of `s`
 * logs with, but its name.
 *
 * @internal
 */
export const serviceAnnotations = (outer: FiberRefs.FiberRefs, s: ServiceImpl): HashMap.HashMap<string, unknown> =>
  HashMap.set(HashMap.set(refValue(outer, FiberRef.currentLogAnnotations), "service", s.label), "servicePath", tree.path(s))

/**
 * The refs of a task of `s` whose log annotations are `annotations`, made from `outer` as set
 * by `by` (the starting fiber): one copy of the map, whatever the number of refs.
 *
 * @internal
 */
export const taskRefs = (
  outer: FiberRefs.FiberRefs,
  by: FiberId.Single,
  s: ServiceImpl,
  annotations: HashMap.HashMap<string, unknown>
): FiberRefs.FiberRefs => {
  const values: Array<RefValue> = [[FiberRef.currentLogAnnotations, annotations]]
  if (refValue(outer, runningCodeOf) !== s) values.push([runningCodeOf, s])
  // Merging an empty context (a service made without requirements) changes nothing.
  if (s.context.unsafeMap.size > 0) {
    values.push([FiberRef.currentContext, Context.merge(refValue(outer, FiberRef.currentContext), s.context)])
  }
  if (refValue(outer, onStopFiber)) values.push([onStopFiber, false])
  return updatedAs(outer, by, values)
}

/**
 * What the refs of the task `name` of `s` are made of, kept instead of them by a task that
 * waits on the timer scheduler: `refs` makes them (a map each time).
 *
 * @internal
 */
export class TaskRefs {
  constructor(
    readonly outer: FiberRefs.FiberRefs,
    readonly by: FiberId.Single,
    readonly s: ServiceImpl,
    readonly name: string
  ) {}
  /** The value of `ref` the task runs with, for a ref the task does not set itself. */
  valueOf<A>(ref: FiberRef.FiberRef<A>): A {
    return refValue(this.outer, ref)
  }
  get refs(): FiberRefs.FiberRefs {
    const { outer, s } = this
    return taskRefs(outer, this.by, s, HashMap.set(serviceAnnotations(outer, s), "task", this.name))
  }
}

const lastRefs = new WeakMap<Fiber.RuntimeFiber<unknown, unknown>, FiberRefs.FiberRefs>()

/**
 * The refs of `fiber` (the current fiber), as the same object as the last time they were
 * asked for while they have not changed: `getFiberRefs` makes a copy at every call, and the
 * timers of every service a start starts keep these refs (`TaskRefs`), once.
 *
 * @internal
 */
export const currentRefs = (fiber: Fiber.RuntimeFiber<unknown, unknown>): FiberRefs.FiberRefs => {
  const refs = fiber.getFiberRefs()
  const last = lastRefs.get(fiber)
  if (last !== undefined && sameStacks(last, refs)) return last
  lastRefs.set(fiber, refs)
  return refs
}

/**
 * Whether `a` and `b` hold the same refs with the same stacks: the same values (the same
 * objects) set by the same fibers. A ref set and set back (`Effect.locally`) has a new stack
 * with the same entries.
 */
const sameStacks = (a: FiberRefs.FiberRefs, b: FiberRefs.FiberRefs): boolean => {
  if (a.locals.size !== b.locals.size) return false
  let same = true
  b.locals.forEach((stack, ref) => {
    if (same && !sameStack(a.locals.get(ref), stack)) same = false
  })
  return same
}

type Stack = ReadonlyArray<readonly [FiberId.Single, unknown]>

const sameStack = (a: Stack | undefined, b: Stack): boolean => {
  if (a === b) return true
  if (a === undefined || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const [id, value] = a[i]!
    if (value !== b[i]![1] || !Equal.equals(id, b[i]![0])) return false
  }
  return true
}
