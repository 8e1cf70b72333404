/**
 * Health checks of your own, declared on a service: an Effect (a database ping, a broker
 * round trip) with a timeout. The Worker's `/healthz` shows every result and `/readyz` is
 * not ready while a critical check fails; `runTree` runs them anywhere else.
 *
 * @since 0.2.0
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as internal from "./internal/healthCheck.js"
import type * as Service from "./Service.js"

/**
 * What a check runs: an Effect, or a function of the service it is declared on. It passes
 * when it succeeds within its timeout; its error, defect or timeout fails it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { HealthCheck } from "@effect-mode/core"
 *
 * const ping: HealthCheck.Check = Effect.tryPromise(() => fetch("http://db:8080/ping"))
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Check =
  | Effect.Effect<unknown, unknown>
  | ((self: Service.Service) => Effect.Effect<unknown, unknown>)

/**
 * A named check with its timeout.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HealthCheck } from "@effect-mode/core"
 *
 * const check: HealthCheck.HealthCheck = HealthCheck.make("ping", Effect.void)
 * console.log(check.name, check.critical)
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface HealthCheck {
  readonly name: string
  readonly check: Check
  readonly timeout: Duration.Duration
  /** A failing critical check makes the Worker's `/readyz` answer 503; others are only shown. */
  readonly critical: boolean
}

/**
 * The options of `make`.
 *
 * @example
 * ```ts
 * import type { HealthCheck } from "@effect-mode/core"
 *
 * const options: HealthCheck.Options = { timeout: "2 seconds", critical: false }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** How long the check may take (default "5 seconds"); past it, it counts as failed (`timedOut`). */
  readonly timeout?: Duration.DurationInput
  /** Default true: a failure makes the service not ready. */
  readonly critical?: boolean
}

/**
 * The outcome of one run of one check.
 *
 * @example
 * ```ts
 * import type { HealthCheck } from "@effect-mode/core"
 *
 * const line = (r: HealthCheck.Result) => `${r.path} ${r.name}: ${r.status}${r.error === null ? "" : ` (${r.error})`}`
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Result {
  readonly name: string
  /** The path of the service the check is declared on (`"App/Db"`). */
  readonly path: string
  readonly critical: boolean
  readonly status: "ok" | "failed" | "timedOut"
  /** How long the run took, on `Clock`. */
  readonly millis: number
  /** The first line of the failure, or null. */
  readonly error: string | null
}

/**
 * The timeout of a check made without one: 5 seconds.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { HealthCheck } from "@effect-mode/core"
 *
 * console.log(Duration.format(HealthCheck.defaultTimeout)) // "5s"
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultTimeout: Duration.Duration = internal.defaultTimeout

/**
 * Makes a check. A bad name, check, timeout (negative, zero or unreadable) or `critical`
 * throws a `TypeError` naming it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HealthCheck } from "@effect-mode/core"
 *
 * const ping = HealthCheck.make("db ping", Effect.tryPromise(() => fetch("http://db:8080/ping")), { timeout: "1 second" })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const make: (name: string, check: Check, options?: Options) => HealthCheck = internal.make

/**
 * Whether a value was made by `make`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HealthCheck } from "@effect-mode/core"
 *
 * console.log(HealthCheck.isHealthCheck(HealthCheck.make("ok", Effect.void))) // true
 * ```
 *
 * @since 0.2.0
 * @category guards
 */
export const isHealthCheck: (u: unknown) => u is HealthCheck = internal.isHealthCheck

/**
 * Declares checks on a service (a check with the name of one already declared replaces
 * it, so registering from `onStart` on every start is fine). Checks run only while the
 * service is running.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HealthCheck, Service } from "@effect-mode/core"
 *
 * const db = Service.make("Db", {
 *   onStart: (self) => HealthCheck.register(self, HealthCheck.make("ping", Effect.void))
 * })
 * ```
 *
 * @since 0.2.0
 * @category declaring
 */
export const register: {
  (checks: HealthCheck | Iterable<HealthCheck>): (service: Service.Service) => Effect.Effect<void>
  (service: Service.Service, checks: HealthCheck | Iterable<HealthCheck>): Effect.Effect<void>
} = dual(2, internal.register)

/**
 * Removes the check of that name from a service.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HealthCheck, Service } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const db = yield* Service.make("Db")
 *   yield* HealthCheck.register(db, HealthCheck.make("ping", Effect.void))
 *   yield* HealthCheck.unregister(db, "ping")
 * })
 * ```
 *
 * @since 0.2.0
 * @category declaring
 */
export const unregister: {
  (name: string): (service: Service.Service) => Effect.Effect<void>
  (service: Service.Service, name: string): Effect.Effect<void>
} = dual(2, internal.unregister)

/**
 * Declares checks on the service an effect makes: `Service.make(...).pipe(HealthCheck.withChecks(check))`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HealthCheck, Service } from "@effect-mode/core"
 *
 * const db = Service.make("Db").pipe(HealthCheck.withChecks(HealthCheck.make("ping", Effect.void, { timeout: "1 second" })))
 * ```
 *
 * @since 0.2.0
 * @category declaring
 */
export const withChecks: {
  (checks: HealthCheck | Iterable<HealthCheck>): <S extends Service.Service, E, R>(
    self: Effect.Effect<S, E, R>
  ) => Effect.Effect<S, E, R>
  <S extends Service.Service, E, R>(
    self: Effect.Effect<S, E, R>,
    checks: HealthCheck | Iterable<HealthCheck>
  ): Effect.Effect<S, E, R>
} = dual(2, internal.withChecks)

/**
 * The checks declared on a service.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HealthCheck, Service } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const db = yield* Service.make("Db")
 *   const checks = yield* HealthCheck.checksOf(db) // []
 * })
 * ```
 *
 * @since 0.2.0
 * @category running
 */
export const checksOf: (service: Service.Service) => Effect.Effect<ReadonlyArray<HealthCheck>> = internal.checksOf

/**
 * Runs the checks of one service, concurrently, each with its timeout. Never fails: a
 * failure is a result.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HealthCheck, Service } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const db = yield* Service.make("Db").pipe(HealthCheck.withChecks(HealthCheck.make("ping", Effect.void)))
 *   const results = yield* HealthCheck.run(db) // [{ name: "ping", status: "ok", ... }]
 * })
 * ```
 *
 * @since 0.2.0
 * @category running
 */
export const run: (service: Service.Service) => Effect.Effect<ReadonlyArray<Result>> = internal.run

/**
 * Runs the checks of every running service of the tree under `root`, concurrently, in
 * depth-first order of their services.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HealthCheck, Service } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const app = yield* Service.make("App")
 *   const failing = (yield* HealthCheck.runTree(app)).filter((r) => r.critical && r.status !== "ok")
 * })
 * ```
 *
 * @since 0.2.0
 * @category running
 */
export const runTree: (root: Service.Service) => Effect.Effect<ReadonlyArray<Result>> = internal.runTree
