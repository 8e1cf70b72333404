/**
 * Supervisors: services that restart the services they supervise when those crash, with
 * Erlang/OTP semantics (strategies, restart intensity, restart types) plus a backoff.
 *
 * A supervisor is itself a `Service`. The services it supervises are its children in the
 * tree: started in order when it starts, stopped in reverse when it stops. A crash of one
 * of them (or of anything under it without a supervisor of its own) wakes the supervisor at
 * once, which then acts according to its strategy:
 *
 * | strategy | on a crash of one child |
 * | --- | --- |
 * | `oneForOne` | restart that child |
 * | `oneForAll` | stop all children (in reverse), start them all again (in order) |
 * | `restForOne` | stop that child and the ones after it (in reverse), start them again (in order) |
 * | `forfeitOneForOne` | stop that child, do not restart it |
 * | `forfeitOneForAll` | stop all children, do not restart them |
 * | `crashing` | crash the supervisor itself with the same cause (escalate) |
 *
 * At most `maxRestarts` restarts happen in any window of `within` (default: 3 in 5 s, as
 * Elixir); the next crash inside the window crashes the supervisor with
 * `ServiceError.MaxRestartsExceeded`, which climbs to its own supervisor, or stops the tree
 * and makes `Service.run` of the root fail with `Crashed`.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Metric from "effect/Metric"
import type * as Schedule from "effect/Schedule"
import * as internalService from "./internal/service.js"
import * as internalOptions from "./internal/options.js"
import * as internal from "./internal/supervisor.js"
import * as policy from "./internal/supervisorPolicy.js"
import type * as Service from "./Service.js"

/**
 * OTP's restart types, per supervised service:
 *
 * - `permanent` (the default): restarted after a crash and after a normal stop;
 * - `transient`: restarted after a crash only (a normal stop leaves it stopped);
 * - `temporary`: never restarted; it stops being supervised once it crashed or stopped.
 *
 * A "normal stop" is a `stop` of the service that the supervisor did not ask for (its own
 * `restart` does not count).
 *
 * @example
 * ```ts
 * import type { Supervisor } from "@effect-mode/core"
 *
 * const type: Supervisor.RestartType = "transient"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type RestartType = "permanent" | "transient" | "temporary"

/**
 * The strategy of a supervisor (see the module documentation).
 *
 * @example
 * ```ts
 * import type { Supervisor } from "@effect-mode/core"
 *
 * const strategy: Supervisor.Strategy = "restForOne"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Strategy =
  | "oneForOne"
  | "oneForAll"
  | "restForOne"
  | "forfeitOneForOne"
  | "forfeitOneForAll"
  | "crashing"

/**
 * The options of a supervisor. Invalid values throw a `TypeError` naming them when the
 * supervisor is declared.
 *
 * @example
 * ```ts
 * import { Effect, Schedule } from "effect"
 * import type { Supervisor } from "@effect-mode/core"
 *
 * const options: Supervisor.Options = {
 *   maxRestarts: 5,
 *   within: "10 seconds",
 *   backoff: Schedule.exponential("100 millis").pipe(Schedule.jittered),
 *   resetBackoffAfter: "30 seconds"
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** At most this many restarts … (default 3; 0 escalates the first crash; `Infinity`: no limit). */
  readonly maxRestarts?: number
  /** … in any window of this length; one more escalates (default "5 seconds"). */
  readonly within?: Duration.DurationInput
  /**
   * The delay before each restart of a service, stepped once per restart with the crash
   * `Cause` as input (none by default). Each supervised service has its own schedule state,
   * started over once the service ran `resetBackoffAfter` without crashing. When the
   * schedule ends (e.g. `Schedule.recurs`), the supervisor gives up as if `maxRestarts` were
   * exceeded.
   */
  readonly backoff?: Schedule.Schedule<unknown>
  /** How long a restarted service must run for its backoff to start over (default: `within`). */
  readonly resetBackoffAfter?: Duration.DurationInput
  /**
   * Makes the service that takes the place of `crashed` at `index` instead of restarting
   * it (mode's `replacement`). The crashed service is stopped and detached from the tree.
   */
  readonly replacement?: (crashed: Service.Service, index: number) => Effect.Effect<Service.Service>
  /** The restart type of services given without one (default "permanent"). */
  readonly restart?: RestartType
}

/**
 * A service together with its restart type, accepted wherever a supervisor takes services.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, Supervisor } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const job = yield* Service.make("Job")
 *   const spec: Supervisor.ChildSpec = Supervisor.child(job, { restart: "transient" })
 *   return yield* Supervisor.oneForOne("Jobs", [spec])
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ChildSpec {
  readonly _tag: "ChildSpec"
  readonly service: Service.Service
  readonly restart: RestartType
}

/**
 * A supervisor: a `Service` that supervises its children.
 *
 * - `add` supervises more services, at the end (started at once when the supervisor runs;
 *   a failed start is handled as a crash);
 * - `discard` stops supervising services: they are detached from the tree and left as they
 *   are (not stopped; stopping them is now up to the caller);
 * - `insert(index, service)` puts `service` at `index` (mode's semantics): the service that
 *   was there is detached and stopped; at `index === services.length` it adds at the end;
 *   another index dies with a `RangeError`;
 * - `services`: the supervised services, in order.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, Supervisor } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const a = yield* Service.make("A")
 *   const b = yield* Service.make("B")
 *   const sup = yield* Supervisor.oneForOne("Pool", [a])
 *   yield* sup.start
 *   yield* sup.add(b) // started now, supervised like `a`
 *   console.log((yield* sup.services).map((s) => s.label)) // ["A", "B"]
 *   yield* sup.stop // stops B, then A
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Supervisor extends Service.Service {
  readonly strategy: Strategy
  readonly add: (...services: ReadonlyArray<Service.Service | ChildSpec>) => Effect.Effect<void>
  readonly discard: (...services: ReadonlyArray<Service.Service>) => Effect.Effect<void>
  readonly insert: (index: number, service: Service.Service | ChildSpec) => Effect.Effect<void>
  readonly services: Effect.Effect<ReadonlyArray<Service.Service>>
  /** The restart type of a supervised service, `undefined` when it is not supervised here. */
  readonly restartTypeOf: (service: Service.Service) => RestartType | undefined
  /** The restarts counted in the intensity window that ends now (by `Clock`), and the window's bounds. */
  readonly intensity: Effect.Effect<Intensity>
}

/**
 * A supervisor's restart intensity now: `restarts` done in the last `withinMillis` (one more
 * than `maxRestarts` in such a window escalates).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Supervisor } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const sup = yield* Supervisor.oneForOne("Pool", [], { maxRestarts: 5, within: "1 minute" })
 *   const { restarts, maxRestarts } = yield* sup.intensity // 0, 5
 * })
 * ```
 *
 * @since 0.3.0
 * @category models
 */
export interface Intensity {
  readonly restarts: number
  readonly maxRestarts: number
  readonly withinMillis: number
}

/**
 * The default `maxRestarts`: 3 (Elixir's; OTP's is 1).
 *
 * @example
 * ```ts
 * import { Supervisor } from "@effect-mode/core"
 *
 * console.log(Supervisor.defaultMaxRestarts) // 3
 * ```
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultMaxRestarts: number = policy.defaultMaxRestarts

/**
 * The default `within`: 5 seconds (OTP's and Elixir's).
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { Supervisor } from "@effect-mode/core"
 *
 * console.log(Duration.toMillis(Supervisor.defaultWithin)) // 5000
 * ```
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultWithin: Duration.Duration = policy.defaultWithin

/**
 * Gives a service a restart type (see `RestartType`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, Supervisor } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const cache = yield* Service.make("Cache")
 *   const warmup = yield* Service.make("Warmup")
 *   return yield* Supervisor.oneForOne("App", [
 *     cache,
 *     Supervisor.child(warmup, { restart: "temporary" })
 *   ])
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const child = (service: Service.Service, options: { readonly restart?: RestartType } = {}): ChildSpec =>
  internal.childSpec(service, options.restart ?? "permanent")

/**
 * Makes a supervisor with any strategy; the six named constructors are shorthands for it.
 * The services (or `child` specs) become its children, in order. Nothing starts until the
 * supervisor starts.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, Supervisor } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const a = yield* Service.make("A")
 *   const sup = yield* Supervisor.make("oneForOne", "Sup", [a], { maxRestarts: 1 })
 *   yield* Service.run(sup)
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  strategy: Strategy,
  label: string,
  services: ReadonlyArray<Service.Service | ChildSpec> = [],
  options?: Options
): Effect.Effect<Supervisor> => {
  const decoded = policy.decodeOptions(
    label,
    internalOptions.checkOptions(options, `supervisor ${internalOptions.show(label)}`, policy.optionNames)
  )
  internal.checkStrategy(strategy, label)
  internal.checkServices(services, label)
  return internalService.withMade(services, Effect.map(Effect.context<never>(), (context) => {
    const supervisor = new internal.SupervisorImpl(label, strategy, decoded, context)
    supervisor.addSync(services)
    return supervisor
  }))
}

/**
 * One-for-one: a crashed service is restarted alone.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, Supervisor } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const flaky = yield* Service.make("Flaky", {
 *     tasks: [Service.task((self) => Effect.zipRight(self.sleep("1 second"), Effect.fail("boom")))]
 *   })
 *   const sup = yield* Supervisor.oneForOne("Sup", [flaky], { maxRestarts: 3, within: "5 seconds" })
 *   yield* Service.run(sup) // fails with Crashed (MaxRestartsExceeded) after the 4th crash
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const oneForOne = (
  label: string,
  services: ReadonlyArray<Service.Service | ChildSpec> = [],
  options: Options = {}
): Effect.Effect<Supervisor> => make("oneForOne", label, services, options)

/**
 * One-for-all: a crash stops every supervised service (in reverse) and starts them all
 * again (in order).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, Supervisor } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const db = yield* Service.make("Db")
 *   const api = yield* Service.make("Api")
 *   return yield* Supervisor.oneForAll("App", [db, api])
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const oneForAll = (
  label: string,
  services: ReadonlyArray<Service.Service | ChildSpec> = [],
  options: Options = {}
): Effect.Effect<Supervisor> => make("oneForAll", label, services, options)

/**
 * Rest-for-one (OTP): a crash restarts the crashed service and the services after it
 * (stopped in reverse, started in order); those before it are left alone.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, Supervisor } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const conn = yield* Service.make("Connection")
 *   const consumer = yield* Service.make("Consumer") // depends on the connection
 *   return yield* Supervisor.restForOne("Pipeline", [conn, consumer])
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const restForOne = (
  label: string,
  services: ReadonlyArray<Service.Service | ChildSpec> = [],
  options: Options = {}
): Effect.Effect<Supervisor> => make("restForOne", label, services, options)

/**
 * Forfeit one-for-one: a crashed service is stopped and not restarted; the others go on.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, Supervisor } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const optional = yield* Service.make("Metrics")
 *   return yield* Supervisor.forfeitOneForOne("Extras", [optional])
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const forfeitOneForOne = (
  label: string,
  services: ReadonlyArray<Service.Service | ChildSpec> = [],
  options: Options = {}
): Effect.Effect<Supervisor> => make("forfeitOneForOne", label, services, options)

/**
 * Forfeit one-for-all: a crash stops every supervised service; none is restarted.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, Supervisor } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const a = yield* Service.make("A")
 *   const b = yield* Service.make("B")
 *   return yield* Supervisor.forfeitOneForAll("Pair", [a, b])
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const forfeitOneForAll = (
  label: string,
  services: ReadonlyArray<Service.Service | ChildSpec> = [],
  options: Options = {}
): Effect.Effect<Supervisor> => make("forfeitOneForAll", label, services, options)

/**
 * Crashing (mode's "poison pill"): a crash of a supervised service crashes the supervisor
 * at once with the same cause, which escalates to its own supervisor or ends the program.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, Supervisor } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const critical = yield* Service.make("Ledger")
 *   return yield* Supervisor.crashing("Critical", [critical])
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const crashing = (
  label: string,
  services: ReadonlyArray<Service.Service | ChildSpec> = [],
  options: Options = {}
): Effect.Effect<Supervisor> => make("crashing", label, services, options)

/**
 * True for a value made by one of the supervisor constructors.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, Supervisor } from "@effect-mode/core"
 *
 * const program = Effect.map(Service.make("A"), Supervisor.isSupervisor) // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isSupervisor = (u: unknown): u is Supervisor => internal.isSupervisor(u)

/**
 * Counter of the restarts (and replacements) done by supervisors, tagged `service` with
 * the path of the restarted service.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Supervisor } from "@effect-mode/core"
 *
 * const restartsOfA = Metric.value(Supervisor.restarts.pipe(Metric.tagged("service", "Sup/A")))
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const restarts: Metric.Metric.Counter<number> = internal.restarts

/**
 * Counter of the crashes supervisors escalated (the `crashing` strategy, restart intensity
 * exceeded, backoff ended), tagged `supervisor` with the path of the supervisor.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Supervisor } from "@effect-mode/core"
 *
 * const escalated = Metric.value(Supervisor.escalations.pipe(Metric.tagged("supervisor", "App/Pool")))
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const escalations: Metric.Metric.Counter<number> = internal.escalations
