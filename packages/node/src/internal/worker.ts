/**
 * The Worker's program: acquire the root (make the root service, or build the root layer),
 * run until a stop, stop it, bounded by the shutdown deadline and its grace, and turn the
 * outcome into an exit code.
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Scope from "effect/Scope"
import { Service } from "@effect-mode/core"
import { detector, SliceMonitor } from "./blocking.js"
import { serve, urlHost } from "./health.js"
import { withLogging } from "./logging.js"
import { makeHandler } from "./observer/handler.js"
import type { Resolved } from "./options.js"
import { acquireRoot, beginStop, type Ctx, release, stopRequested } from "./context.js"
import { watchdog } from "./deadline.js"
import { Roots } from "./roots.js"
import { Signals } from "./signals.js"

/** What `runMain` accepts: a service (made by the effect, started here) or a layer of services. */
export type Root =
  | Effect.Effect<Service.Service, unknown, Scope.Scope>
  | Layer.Layer<unknown, unknown, never>
  | Layer.Layer<never, unknown, never>

/** Exit codes (see docs/guide/worker.md). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  shutdownTimeout: 124,
  internal: 70
} as const

/** What the process-level wrapper needs from the program once it ends. */
export interface ProcessState {
  signals: Signals | undefined
}

const writeStderr = (text: string): void => {
  process.stderr.write(text.endsWith("\n") ? text : `${text}\n`)
}

// -----------------------------------------------------------------------------
// reporting
// -----------------------------------------------------------------------------

interface Failure {
  readonly _tag: string
  readonly label: string
  readonly cause: Cause.Cause<unknown>
}

const asWrapped = (cause: Cause.Cause<unknown>): Failure | undefined => {
  const failures = Array.from(Cause.failures(cause))
  if (failures.length !== 1 || Cause.defects(cause).length > 0) return undefined
  const error = failures[0] as Partial<Failure> | undefined
  if (error === undefined || typeof error !== "object" || error === null) return undefined
  if ((error._tag === "StartFailed" || error._tag === "Crashed") && Cause.isCause(error.cause)) {
    return error as Failure
  }
  return undefined
}

/**
 * Unwraps the `StartFailed` (and `Crashed`) errors a failed start nests, one per level of
 * the tree, down to the cause that started it: "App failed to start because Db failed to
 * start" and the error of Db.
 */
export const explain = (cause: Cause.Cause<unknown>): { readonly chain: Array<string>; readonly cause: Cause.Cause<unknown> } => {
  const chain: Array<string> = []
  let current = cause
  for (let depth = 0; depth < 64; depth++) {
    const wrapped = asWrapped(current)
    if (wrapped === undefined) break
    chain.push(`${wrapped.label} ${wrapped._tag === "StartFailed" ? "failed to start" : "crashed"}`)
    current = wrapped.cause
  }
  return { chain, cause: current }
}

const reportFailure = (ctx: Ctx, headline: string, cause: Cause.Cause<unknown>): Effect.Effect<number> => {
  const { chain, cause: root } = explain(cause)
  const why = chain.length === 0 ? "" : ` (${chain.join(", because ")})`
  // Past the deadline the exit code is the deadline's, said by the watchdog.
  const exiting = ctx.deadlinePassed ? "" : `; exiting with code ${ExitCode.failure}`
  ctx.failureReported = true
  return Effect.as(Effect.logError(`[Worker] ${headline}${why}${exiting}`, root), ExitCode.failure)
}

/** What a recorded crash is told as: a failed start (the body's start failed, or the cause says so) or a crash. */
const crashVerb = (cause: Cause.Cause<unknown>, failure: Cause.Cause<unknown> | undefined): string =>
  failure !== undefined || asWrapped(cause)?._tag === "StartFailed" ? "failed to start" : "crashed"

/** A crash recorded in the tree, told as the worker tells it (`outcome`), once. */
const reportCrash = (ctx: Ctx): Effect.Effect<void> =>
  Effect.flatMap(ctx.roots.crash, (crash) => {
    if (crash === undefined || ctx.failureReported) return Effect.void
    return Effect.asVoid(reportFailure(ctx, `Service ${crash.origin} ${crashVerb(crash.cause, undefined)}`, crash.cause))
  })

/**
 * The exit code once the stop completed: 1 when the tree crashed, its start failed or the
 * root could not be made (the cause logged with the path of the service it started
 * from), else 0.
 */
const outcome = (ctx: Ctx, failure: Cause.Cause<unknown> | undefined, what: string): Effect.Effect<number> =>
  Effect.flatMap(ctx.roots.crash, (crash) => {
  // Told already by the deadline (the stop of a crashed tree outlived it).
  if (ctx.failureReported) return Effect.succeed(ExitCode.failure)
  if (crash !== undefined) {
    const verb = crashVerb(crash.cause, failure)
    // A failed start's own error says which service under the root failed to start (its
    // chain); the crash recorded holds the reason alone.
    const told = failure === undefined || Cause.isInterruptedOnly(failure) ? crash.cause : asWrapped(failure)?.cause ?? failure
    return reportFailure(ctx, `Service ${crash.origin} ${verb}`, told)
  }
  if (failure !== undefined && !Cause.isInterruptedOnly(failure)) return reportFailure(ctx, what, failure)
  // A stop that ends in the grace, past the deadline: the watchdog tells the exit code (124).
  if (ctx.deadlinePassed) return Effect.succeed(ExitCode.shutdownTimeout)
  const signal = ctx.signals.received
  return Effect.as(
    Effect.log(`[Worker] Stopped${signal === undefined ? "" : ` after ${signal}`}; exiting with code ${ExitCode.ok}`),
    ExitCode.ok
  )
  })

// -----------------------------------------------------------------------------
// bodies: acquire the root(s), run until stopped, stop
// -----------------------------------------------------------------------------

/** `runMain(effect)`: make the root, start it, wait until it stops or a signal, stop it. */
const serviceBody = (make: Effect.Effect<Service.Service, unknown, Scope.Scope>, ctx: Ctx): Effect.Effect<number> =>
  Effect.gen(function*() {
    // A signal meanwhile interrupts the make.
    const made = yield* acquireRoot(ctx, "the root effect, still making the root service", (scope) => Scope.extend(make, scope))
    if (Exit.isFailure(made)) {
      yield* beginStop(ctx)
      yield* release(ctx, true)
      return yield* outcome(ctx, made.cause, "The root effect failed")
    }
    const root = made.value
    yield* ctx.roots.set([root])
    ctx.activity = `the start of ${root.label}`
    // A signal during the start stops the service: its start is cut short and rolled back.
    const canceller = yield* Effect.fork(Effect.zipRight(stopRequested(ctx), root.stop))
    const started = yield* Effect.exit(root.maybeStart)
    yield* Fiber.interrupt(canceller)
    if (Exit.isSuccess(started)) yield* Effect.raceFirst(root.waitUntilStopped, Effect.asVoid(stopRequested(ctx)))
    yield* beginStop(ctx)
    ctx.activity = `the stop of ${root.label}`
    yield* root.stop
    yield* release(ctx, true)
    return yield* outcome(ctx, Exit.isFailure(started) ? started.cause : undefined, `Service ${root.label} failed to start`)
  })

/**
 * `runMain(layer)`: `Service.launch` under a root of the worker's own, so that every
 * service the layer builds (however the user's layers wrap or re-export it) is in one tree
 * the dump, the health endpoints and the blocking detector read. The stop begins on a
 * signal, or when the tree crashes or stops by itself, or when the layer fails to build;
 * interrupting the launch releases the layer (services stop in reverse dependency order).
 */
const layerBody = (layer: Layer.Layer<unknown, unknown, never>, ctx: Ctx): Effect.Effect<number> =>
  Effect.gen(function*() {
    const root = yield* Service.launchRoot("Worker")
    yield* ctx.roots.set([root])
    ctx.activity = "the build of the root layer"
    const launched = yield* Effect.fork(Service.launch(layer, { root }))
    // The root's resources are the layer's: released when the launch ends (in the grace too).
    launched.addObserver(() => {
      ctx.released = "done"
    })
    yield* Effect.raceAll([
      Effect.asVoid(Fiber.await(launched)),
      Effect.asVoid(stopRequested(ctx)),
      root.waitUntilStopped
    ])
    yield* beginStop(ctx)
    ctx.activity = "the release of the root layer"
    // A crash: the launch stops the tree and ends by itself; else it is interrupted.
    const exit = (yield* root.crashed) ? yield* Fiber.await(launched) : yield* Fiber.interrupt(launched)
    const crashed = (yield* ctx.roots.crash) !== undefined
    const failure = Exit.isFailure(exit) && !crashed ? exit.cause : undefined
    return yield* outcome(ctx, failure, "The root layer failed to build")
  })

// -----------------------------------------------------------------------------
// the program
// -----------------------------------------------------------------------------

const dumpLoop = (ctx: Ctx): Effect.Effect<never> =>
  Effect.forever(
    Queue.take(ctx.signals.dumps).pipe(
      Effect.flatMap((signal) =>
        Effect.map(ctx.roots.dump, (dump) => {
          writeStderr(
            `=== effect-mode dump (pid ${process.pid}, ${signal}, ${new Date().toISOString()}) ===\n${dump}\n=== end of dump ===`
          )
        })
      )
    )
  )

const announceStop = (ctx: Ctx, options: Resolved): Effect.Effect<void> =>
  Effect.flatMap(stopRequested(ctx), (signal) =>
    Effect.log(
      `[Worker] Signal received: ${signal}; stopping (shutdownTimeout ${Duration.format(options.shutdownTimeout)}` +
        (options.forceExitOnSecondSignal ? "; a second signal exits at once)" : ")")
    ))

const ignoredSignals = (ctx: Ctx): Effect.Effect<never> =>
  Effect.forever(Effect.flatMap(Queue.take(ctx.signals.ignored), (signal) =>
    Effect.logWarning(`[Worker] ${signal} received while stopping; ignored (forceExitOnSecondSignal: false)`)))

/**
 * The whole worker as one Effect that always succeeds with the process exit code. The
 * body runs disconnected, so that when the shutdown deadline passes the program can give
 * up on it at once even if it is stuck in uninterruptible code.
 */
export const program = (root: Root, options: Resolved, state: ProcessState): Effect.Effect<number> => {
  const monitor = options.blockingTimeout === null ? undefined : new SliceMonitor(Duration.toMillis(options.blockingTimeout))
  const worker = Effect.scoped(Effect.gen(function*() {
    const signals = yield* Signals.make(options.forceExitOnSecondSignal, options.dumpSignal, writeStderr)
    state.signals = signals
    yield* Effect.acquireRelease(Effect.sync(() => signals.install()), () => Effect.sync(() => signals.uninstall()))
    const ctx: Ctx = {
      roots: new Roots(),
      signals,
      stopBegan: yield* Deferred.make<void>(),
      stopping: false,
      deadlinePassed: false,
      deadline: yield* Deferred.make<void>(),
      activity: "the start of the worker",
      rootScope: undefined,
      released: "no",
      failureReported: false
    }
    yield* Effect.forkScoped(announceStop(ctx, options))
    yield* Effect.forkScoped(dumpLoop(ctx))
    yield* Effect.forkScoped(ignoredSignals(ctx))
    if (monitor !== undefined && options.blockingTimeout !== null) {
      yield* Effect.forkScoped(detector(monitor, options.blockingTimeout, ctx.roots))
    }
    if (options.health !== undefined) {
      const health = options.health
      const observer = health.observer === undefined
        ? undefined
        : yield* makeHandler(Effect.sync(() => ctx.roots.all), health.observer)
      const listening = yield* Effect.either(serve(ctx.roots, health, () => ctx.stopping || signals.received !== undefined, observer))
      if (listening._tag === "Left") {
        return yield* Effect.as(
          Effect.logError(
            `[Worker] Cannot serve the health endpoints on ${health.host ?? "*"}:${health.port}: ` +
              `${listening.left.message}; exiting with code ${ExitCode.failure}`
          ),
          ExitCode.failure
        )
      }
      yield* Effect.log(
        `[Worker] Health endpoints on http://${urlHost(health.host ?? "localhost")}:${listening.right} (/livez /readyz /healthz /debug${observer === undefined ? "" : " /observer"})`
      )
    }
    const body = Service.withStopCut(
      Layer.isLayer(root)
        ? layerBody(root as Layer.Layer<unknown, unknown, never>, ctx)
        : serviceBody(root as Effect.Effect<Service.Service, unknown, Scope.Scope>, ctx),
      ctx.deadline
    )
    // The body runs on a fiber of its own scope, which is not closed when the deadline
    // passes: the deadline interrupts it and gives it shutdownGrace, but does not wait
    // for code stuck in an uninterruptible region.
    const bodyScope = yield* Scope.make()
    const running = yield* Effect.forkIn(body, bodyScope)
    // Past the deadline the watchdog decides (the body may end interrupted by its grace).
    const code = yield* Effect.raceFirst(
      Effect.flatMap(Fiber.await(running), (exit) => ctx.deadlinePassed ? Effect.never : exit),
      watchdog(ctx, running, options.shutdownTimeout, options.shutdownGrace, ExitCode.shutdownTimeout, writeStderr, reportCrash(ctx))
    )
    if (running.unsafePoll() !== null) yield* Scope.close(bodyScope, Exit.void)
    return code
  }))
  return worker.pipe(
    (self) => monitor === undefined ? self : Effect.supervised(self, monitor),
    withLogging(options.logFormat, options.logLevel),
    Effect.catchAllCause((cause) =>
      Effect.sync(() => {
        writeStderr(`[Worker] internal error; exiting with code ${ExitCode.internal}\n${Cause.pretty(cause)}`)
        return ExitCode.internal
      })
    )
  )
}
