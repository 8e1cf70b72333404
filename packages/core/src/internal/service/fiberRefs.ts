/**
 * The two fiber refs of the core and the stop isolation built on them: whether the current
 * fiber runs a stop, and whose code (hook, task, future) it runs. A stop asked for from
 * inside the code it stops cannot wait for itself; a stop asked for from outside runs on a
 * fiber of its own that the caller cannot cut short.
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import type * as FiberId from "effect/FiberId"
import type * as HashMap from "effect/HashMap"
import type { ServiceImpl } from "./impl.js"

/**
 * True on a fiber that runs a stop (or a start's rollback). Such a fiber is never
 * interrupted from outside, so the stop steps can be interruptible (for their deadlines)
 * without the stop being cut short by whoever asked for it; stops of children run inline.
 *
 * @internal
 */
export const onStopFiber: FiberRef.FiberRef<boolean> = FiberRef.unsafeMake(false)

/**
 * The service whose own code (a hook, a task, a future) the current fiber runs, if any.
 *
 * @internal
 */
export const runningCodeOf: FiberRef.FiberRef<ServiceImpl | undefined> = FiberRef.unsafeMake<ServiceImpl | undefined>(
  undefined
)

/**
 * Runs a stop procedure on a fiber of its own unless already on one. The caller waits for
 * it without being able to cut it short: a stop never leaves a half-stopped tree, and it
 * is bounded by its own deadlines.
 *
 * @internal
 */
export const isolateStop = (effect: Effect.Effect<void>): Effect.Effect<void> =>
  Effect.flatMap(FiberRef.get(onStopFiber), (inside) =>
    inside
      ? effect
      : Effect.uninterruptible(
        Effect.flatMap(Effect.forkDaemon(Effect.locally(effect, onStopFiber, true)), Fiber.join)
      ))

/**
 * What a task's error boundary runs with: the refs of the fiber that forked the task.
 *
 * @internal
 */
export interface OuterRefs {
  readonly annotations: HashMap.HashMap<string, unknown>
  readonly context: Context.Context<never>
  readonly onStop: boolean
  readonly code: ServiceImpl | undefined
}

/** @internal */
export const withOuterRefs = (effect: Effect.Effect<void>, outer: OuterRefs): Effect.Effect<void> =>
  effect.pipe(
    Effect.locally(FiberRef.currentLogAnnotations, outer.annotations),
    Effect.locally(FiberRef.currentContext, outer.context),
    Effect.locally(onStopFiber, outer.onStop),
    Effect.locally(runningCodeOf, outer.code)
  )

interface SetsFiberRefs {
  setFiberRefs(refs: FiberRefs.FiberRefs): void
}

/**
 * Gives `fiber` (the current one) the refs `refs` all at once: the runtime fiber's own
 * `setFiberRefs` (what `FiberRef.set` uses), else, on a runtime without it, Effect's
 * `setFiberRefs` (one `FiberRef.set` per ref).
 *
 * @internal
 */
export const setRefs = (fiber: Fiber.RuntimeFiber<unknown, unknown>, refs: FiberRefs.FiberRefs): Effect.Effect<void> => {
  const f = fiber as unknown as Partial<SetsFiberRefs>
  if (typeof f.setFiberRefs !== "function") return Effect.setFiberRefs(refs)
  f.setFiberRefs(refs)
  return Effect.void
}

/**
 * The value of `ref` in `refs`: `FiberRefs.getOrDefault` without its `Option` (the start path
 * reads a few refs per task).
 *
 * @internal
 */
export const refValue = <A>(refs: FiberRefs.FiberRefs, ref: FiberRef.FiberRef<A>): A => {
  const stack = refs.locals.get(ref)
  return stack === undefined ? initialOf(ref) : stack[0][1]
}

const initials = new WeakMap<FiberRef.FiberRef<any>, unknown>()
const noRefs = FiberRefs.unsafeMake(new Map())

/** The initial value of `ref` (what a fiber that never set it reads), looked up once per ref. */
const initialOf = <A>(ref: FiberRef.FiberRef<A>): A => {
  if (initials.has(ref)) return initials.get(ref) as A
  const initial = FiberRefs.getOrDefault(noRefs, ref)
  initials.set(ref, initial)
  return initial
}

/** @internal */
export type RefValue = readonly [FiberRef.FiberRef<any>, unknown]

/**
 * `FiberRefs.updateManyAs(refs, { entries })` with each ref set once, by `id`: one copy of the
 * map, filled by `forEach` (no iterator per entry), and no comparison of the old value with
 * the new one (the callers set values they know to be new).
 *
 * @internal
 */
export const updatedAs = (refs: FiberRefs.FiberRefs, id: FiberId.Single, values: ReadonlyArray<RefValue>): FiberRefs.FiberRefs => {
  const locals = new Map<FiberRef.FiberRef<any>, readonly [readonly [FiberId.Single, any], ...Array<readonly [FiberId.Single, any]>]>()
  refs.locals.forEach((stack, ref) => {
    locals.set(ref, stack)
  })
  for (let i = 0; i < values.length; i++) {
    const [ref, value] = values[i]!
    const stack = locals.get(ref)
    locals.set(
      ref,
      stack === undefined
        ? [[id, value]]
        : stack[0][0][Equal.symbol](id)
        ? [[id, value], ...stack.slice(1)]
        : [[id, value], ...stack]
    )
  }
  return FiberRefs.unsafeMake(locals)
}
