/**
 * The typed errors of effect-mode. Every one is a `Data.TaggedError`, so they can be
 * matched with `Effect.catchTag` and compared structurally.
 *
 * @since 0.1.0
 */
import type * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"

/**
 * `start` was called on a service that is already starting, running or stopping.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const svc = yield* Service.make("Consumer")
 *   yield* svc.start
 *   const error = yield* Effect.flip(svc.start) // AlreadyStarted
 *   yield* svc.stop
 *   return error._tag
 * })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class AlreadyStarted extends Data.TaggedError("AlreadyStarted")<{
  readonly label: string
  readonly state: string
}> {
  override get message(): string {
    return `Service ${this.label} is already started (state: ${this.state})`
  }
}

/**
 * A start failed. Everything the start had acquired was released (in reverse), the
 * service is left `crashed`, and `cause` tells why.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const svc = yield* Service.make("Db", { onStart: () => Effect.fail("no connection") })
 *   return yield* svc.start.pipe(
 *     Effect.catchTag("StartFailed", (e) => Effect.succeed(`${e.label} failed`))
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class StartFailed extends Data.TaggedError("StartFailed")<{
  readonly label: string
  readonly cause: Cause.Cause<unknown>
}> {
  override get message(): string {
    return `Service ${this.label} failed to start`
  }
}

/**
 * A service crashed. `Service.run` fails with it when the tree it runs crashed, and
 * `Service.launch` when a service of its layer crashed. `path` and `label` name the service
 * the crash started from (in `Service.run` of a root whose leaf crashed, the leaf).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const svc = yield* Service.make("Worker", {
 *     tasks: [Service.task(() => Effect.fail("boom"))]
 *   })
 *   return yield* Service.run(svc).pipe(
 *     Effect.catchTag("Crashed", (e) => Effect.succeed(e.label))
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class Crashed extends Data.TaggedError("Crashed")<{
  /** The label of the service the crash started from. */
  readonly label: string
  /** The path of the service the crash started from ("App/Consumer"). */
  readonly path: string
  readonly cause: Cause.Cause<unknown>
}> {
  override get message(): string {
    return `Service ${this.path} crashed`
  }
}

/**
 * A stop waited for `setShutdown` (`waitForShutdown: true`) longer than
 * `shutdownTimeout`. The stop still completes; this error is logged and recorded.
 *
 * @example
 * ```ts
 * import { ServiceError } from "@effect-mode/core"
 *
 * const e = new ServiceError.ShutdownTimeout({ label: "Flusher", timeoutMillis: 1000 })
 * console.log(e.message) // "Service Flusher did not signal shutdown within 1000 ms"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class ShutdownTimeout extends Data.TaggedError("ShutdownTimeout")<{
  readonly label: string
  readonly timeoutMillis: number
}> {
  override get message(): string {
    return `Service ${this.label} did not signal shutdown within ${this.timeoutMillis} ms`
  }
}

/**
 * A supervisor restarted its services more often than `maxRestarts` within
 * `within`; it crashes with this error, which escalates to its own parent.
 *
 * @example
 * ```ts
 * import { ServiceError } from "@effect-mode/core"
 *
 * const e = new ServiceError.MaxRestartsExceeded({ label: "Pool", maxRestarts: 3, withinMillis: 5000 })
 * console.log(e.message)
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MaxRestartsExceeded extends Data.TaggedError("MaxRestartsExceeded")<{
  readonly label: string
  readonly maxRestarts: number
  readonly withinMillis: number
}> {
  override get message(): string {
    return `Supervisor ${this.label} exceeded ${this.maxRestarts} restarts within ${this.withinMillis} ms`
  }
}

/**
 * A stop step (a hook, waiting for a child's stop, the interruption of the tasks, the
 * release of contexts) did not finish within the service's `stopTimeout`. The stop went on
 * without it; the error is the service's `stopFailure` and is logged.
 *
 * @example
 * ```ts
 * import { ServiceError } from "@effect-mode/core"
 *
 * const e = new ServiceError.StopTimeout({ label: "Flusher", step: "onStop", timeoutMillis: 1000 })
 * console.log(e.message) // "Service Flusher: onStop did not finish within 1s; interrupted"
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export class StopTimeout extends Data.TaggedError("StopTimeout")<{
  readonly label: string
  readonly step: string
  readonly timeoutMillis: number
}> {
  override get message(): string {
    return `Service ${this.label}: ${this.step} did not finish within ${Duration.format(Duration.millis(this.timeoutMillis))}; interrupted`
  }
}

/**
 * Any error of effect-mode.
 *
 * @example
 * ```ts
 * import type { ServiceError } from "@effect-mode/core"
 *
 * const describe = (e: ServiceError.ServiceError): string => e._tag
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type ServiceError =
  | AlreadyStarted
  | StartFailed
  | Crashed
  | ShutdownTimeout
  | StopTimeout
  | MaxRestartsExceeded

/**
 * A call to the API of a supervised `Service.Tag` service could not be served: the service
 * did not run again within the call timeout (it is restarting, or stopped), or it stopped
 * or crashed while the call was in flight.
 *
 * @example
 * ```ts
 * import { ServiceError } from "@effect-mode/core"
 *
 * const e = new ServiceError.ServiceUnavailable({ label: "Gateway", reason: "not running within 5000 ms" })
 * console.log(e.message) // "Service Gateway is unavailable: not running within 5000 ms"
 * ```
 *
 * @since 0.3.0
 * @category errors
 */
export class ServiceUnavailable extends Data.TaggedError("ServiceUnavailable")<{
  readonly label: string
  readonly reason: string
}> {
  override get message(): string {
    return `Service ${this.label} is unavailable: ${this.reason}`
  }
}
