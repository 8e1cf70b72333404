/**
 * What the Worker's program shares between its parts (the body that runs the root, the
 * deadline, the health endpoints): the roots, the signals, where the stop is, and the
 * scope of the root's resources.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import type { Roots } from "./roots.js"
import type { Signals, StopSignal } from "./signals.js"

/** Everything a body needs besides the root. */
export interface Ctx {
  readonly roots: Roots
  readonly signals: Signals
  /** Completed when the stop begins (signal, or the tree stopped or crashed by itself). */
  readonly stopBegan: Deferred.Deferred<void>
  /** True once the stop began (read by `/readyz`). */
  stopping: boolean
  /** True once `shutdownTimeout` passed: the body's end no longer decides the exit code. */
  deadlinePassed: boolean
  /**
   * Completed when `shutdownTimeout` passes: the stop steps then in flight are cut
   * (`Service.withStopCut`), so the rest of each stop runs in the grace.
   */
  readonly deadline: Deferred.Deferred<void>
  /** What the body is doing, named by the deadline's message when no service is stuck. */
  activity: string
  /** The scope of the root's resources (the root effect's, or the layer's) once made. */
  rootScope: Scope.CloseableScope | undefined
  /** Whether the root's resources were released (by the body, or by the deadline's grace). */
  released: "no" | "releasing" | "done"
  /** Whether the failure (a crash, a failed start, a root that could not be made) was logged. */
  failureReported: boolean
}

export const beginStop = (ctx: Ctx): Effect.Effect<void> =>
  Effect.suspend(() => {
    ctx.stopping = true
    return Effect.asVoid(Deferred.succeed(ctx.stopBegan, undefined))
  })

/**
 * Releases the root's resources once (the body, or the deadline's grace, whichever comes
 * first). The body says so (`byBody`): it is then what the body is doing.
 */
export const release = (ctx: Ctx, byBody: boolean): Effect.Effect<void> =>
  Effect.suspend(() => {
    const scope = ctx.rootScope
    if (scope === undefined || ctx.released !== "no") return Effect.void
    ctx.released = "releasing"
    if (byBody) ctx.activity = "the release of the root's resources"
    return Effect.ensuring(Scope.close(scope, Exit.void), Effect.sync(() => (ctx.released = "done")))
  })

export const stopRequested = (ctx: Ctx): Effect.Effect<StopSignal> => Deferred.await(ctx.signals.stopRequested)

/**
 * Acquires the root (makes the root service, or builds the root layer) in a new scope of
 * the root's resources, on a fiber of its own so that a stop signal interrupts it; joined,
 * so that the fiber refs it sets (a logger, a log level) carry over to the caller.
 */
export const acquireRoot = <A>(
  ctx: Ctx,
  activity: string,
  acquire: (scope: Scope.Scope) => Effect.Effect<A, unknown>
): Effect.Effect<Exit.Exit<A, unknown>> =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    ctx.rootScope = scope
    ctx.activity = activity
    const acquiring = yield* Effect.fork(acquire(scope))
    const interrupter = yield* Effect.fork(Effect.zipRight(stopRequested(ctx), Fiber.interrupt(acquiring)))
    const exit = yield* Effect.exit(Fiber.join(acquiring))
    yield* Fiber.interrupt(interrupter)
    return exit
  })
