/**
 * How a service logs and runs its user code: the `[^--Label]: ` prefix, the `service` and
 * `servicePath` annotations (and no `task` annotation of whoever called: a hook logs with
 * its own service's annotations only), the context the service was made with.
 *
 * @internal
 */
import type * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as HashMap from "effect/HashMap"
import * as LogLevel from "effect/LogLevel"
import { onStopFiber, runningCodeOf } from "./fiberRefs.js"
import type { ServiceImpl } from "./impl.js"
import * as tree from "./tree.js"

/** @internal */
export const prefix = (s: ServiceImpl): string => `[^${"-".repeat(tree.depth(s) - 1)}${s.shortlabel}]: `

/** @internal */
export const annotations = (s: ServiceImpl): Record<string, string> => ({
  service: s.label,
  servicePath: tree.path(s)
})

/** The caller's annotations with the service's own in place of the core's keys. */
const own = (s: ServiceImpl, outer: HashMap.HashMap<string, unknown>): HashMap.HashMap<string, unknown> =>
  HashMap.set(HashMap.set(HashMap.remove(outer, "task"), "service", s.label), "servicePath", tree.path(s))

/** Runs `effect` with the service's own annotations (see `own`). */
export const withOwnAnnotations = <A, E, R>(s: ServiceImpl, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime((fiber) =>
    Effect.locally(effect, FiberRef.currentLogAnnotations, own(s, fiber.getFiberRef(FiberRef.currentLogAnnotations)))
  )

/** @internal */
export const log = (
  s: ServiceImpl,
  level: LogLevel.LogLevel,
  message: string | (() => string),
  cause?: Cause.Cause<unknown>
): Effect.Effect<void> => Effect.withFiberRuntime((fiber) => logOn(fiber, s, level, message, cause) ?? Effect.void)

/**
 * `log` on `fiber` (the current fiber), decided now: undefined when the fiber's minimum
 * level filters the line out (as Effect's own check does: the line is then neither
 * formatted nor annotated, and costs no step), else the step that logs it.
 *
 * @internal
 */
export const logOn = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  s: ServiceImpl,
  level: LogLevel.LogLevel,
  message: string | (() => string),
  cause?: Cause.Cause<unknown>
): Effect.Effect<void> | undefined => {
  if (LogLevel.greaterThan(fiber.getFiberRef(FiberRef.currentMinimumLogLevel), level)) return undefined
  const line = prefix(s) + (typeof message === "string" ? message : message())
  return Effect.locally(
    cause === undefined ? Effect.logWithLevel(level, line) : Effect.logWithLevel(level, line, cause),
    FiberRef.currentLogAnnotations,
    own(s, fiber.getFiberRef(FiberRef.currentLogAnnotations))
  )
}

/** Runs user code of this service: its context provided, its logs annotated. */
export const userCode = <A, E>(s: ServiceImpl, effect: Effect.Effect<A, E, any>): Effect.Effect<A, E> =>
  withOwnAnnotations(
    s,
    Effect.provide(effect, s.context).pipe(
      Effect.locally(onStopFiber, false),
      Effect.locally(runningCodeOf, s)
    )
  )
