/**
 * Services, as in mode: long-lived components that start, stop, restart and crash in a
 * tree, with background tasks, timers, crontabs, child services started in order and
 * stopped in reverse, and Diag flags.
 *
 * @since 0.1.0
 */
import type * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type * as Beacon from "./Beacon.js"
import type * as Diag from "./Diag.js"
import * as internalSchedules from "./internal/schedules.js"
import * as internal from "./internal/service.js"
import * as internalTask from "./internal/service/task.js"
import * as ServiceError from "./ServiceError.js"
import type * as Timer from "./Timer.js"

/**
 * The state of a service. `crashed` wins over the lifecycle phase once a crash is recorded.
 *
 * @example
 * ```ts
 * import type { Service } from "@effect-mode/core"
 *
 * const isUp = (state: Service.State) => state === "running"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type State = "init" | "starting" | "running" | "stopping" | "shutdown" | "crashed"

/**
 * The result of `wait`: completed with a value, or cut short by a stop (or crash) of the
 * service, or by the timeout. mode reports a timeout as "stopped"; here they differ.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const program = (svc: Service.Service) =>
 *   Effect.map(svc.wait(Effect.succeed(1), { timeout: "1 second" }), (r) =>
 *     r._tag === "Completed" ? r.result : 0
 *   )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type WaitResult<A> =
  | { readonly _tag: "Completed"; readonly result: A; readonly stopped: false }
  | { readonly _tag: "Stopped"; readonly stopped: true }
  | { readonly _tag: "TimedOut"; readonly stopped: false }

/**
 * The result of `waitFirst`: the indexes and values of the effects that completed first
 * (the others were interrupted), or `stopped` / `timedOut`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const first = (svc: Service.Service) =>
 *   svc.waitFirst([Effect.succeed("a"), Effect.never]) // { done: [0], results: ["a"], ... }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface WaitResults<A> {
  readonly done: ReadonlyArray<number>
  readonly results: ReadonlyArray<A>
  readonly stopped: boolean
  readonly timedOut: boolean
}

/**
 * A handle on one service. Made by `Service.make`; every member is an `Effect` (or returns
 * one), so nothing happens until it is run.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const svc = yield* Service.make("Consumer", {
 *     onStart: () => Effect.log("connecting"),
 *     tasks: [Service.task((self) => self.sleep("1 hour"))]
 *   })
 *   yield* svc.start
 *   console.log(yield* svc.state) // "running"
 *   yield* svc.stop
 *   console.log(yield* svc.state) // "shutdown"
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Unique per handle. */
  readonly id: number
  /** The label given to `make`. */
  readonly label: string
  /** The label used in log prefixes. */
  readonly shortlabel: string
  readonly diag: Diag.Diag
  readonly beacon: Beacon.Node

  readonly state: Effect.Effect<State>
  /** The current state, then every change. */
  readonly stateChanges: Stream.Stream<State>
  /** True while starting or running. */
  readonly started: Effect.Effect<boolean>
  readonly crashed: Effect.Effect<boolean>
  /** True once a stop began or a crash was recorded (until the next start). */
  readonly shouldStop: Effect.Effect<boolean>
  readonly restartCount: Effect.Effect<number>
  readonly crashReason: Effect.Effect<Option.Option<Cause.Cause<unknown>>>
  /** The cause of the last step that failed while stopping (a hook, a finalizer), if any. */
  readonly stopFailure: Effect.Effect<Option.Option<Cause.Cause<unknown>>>

  /** Starts the service; fails with `AlreadyStarted` when it is started, `StartFailed` after a rollback. */
  readonly start: Effect.Effect<void, ServiceError.ServiceError>
  /** Starts the service unless it is started; true when it started it. */
  readonly maybeStart: Effect.Effect<boolean, ServiceError.ServiceError>
  /** Stops the service; never fails, and never hangs past its deadlines. */
  readonly stop: Effect.Effect<void>
  /** Stop, `onRestart`, start (without `onFirstStart` and `dependencies`). */
  readonly restart: Effect.Effect<void, ServiceError.ServiceError>
  /** Records a crash (see the guide: it climbs to the nearest supervisor or stops the tree). */
  readonly crash: (reason: unknown) => Effect.Effect<void>
  /** Releases a stop waiting for it (`waitForShutdown: true`). */
  readonly setShutdown: Effect.Effect<void>

  /** Sleeps, waking early when the service stops or crashes. */
  readonly sleep: (duration: Duration.DurationInput) => Effect.Effect<void>
  readonly wait: <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    options?: { readonly timeout?: Duration.DurationInput }
  ) => Effect.Effect<WaitResult<A>, E, R>
  readonly waitFirst: <A, E, R>(
    effects: Iterable<Effect.Effect<A, E, R>>,
    options?: { readonly timeout?: Duration.DurationInput }
  ) => Effect.Effect<WaitResults<A>, E, R>
  readonly waitMany: <A, E, R>(
    effects: Iterable<Effect.Effect<A, E, R>>,
    options?: { readonly timeout?: Duration.DurationInput }
  ) => Effect.Effect<WaitResult<Array<A>>, E, R>
  /** True when the service stopped or crashed, false when the timeout came first. */
  readonly waitForStopped: (options?: { readonly timeout?: Duration.DurationInput }) => Effect.Effect<boolean>
  readonly waitUntilStopped: Effect.Effect<void>
  /** mode's `itertimer`: a tick stream (see `Timer`) that ends when the service stops or crashes. */
  readonly itertimer: (interval: Duration.DurationInput, options?: Timer.Options) => Stream.Stream<Duration.Duration>

  readonly addDependency: <S extends Service>(child: S) => Effect.Effect<S>
  readonly addRuntimeDependency: <S extends Service>(child: S) => Effect.Effect<S, ServiceError.ServiceError>
  readonly removeDependency: <S extends Service>(child: S) => Effect.Effect<S>
  readonly addFuture: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<Fiber.RuntimeFiber<A, E>, never, R>
  readonly addContext: <A, E, R>(resource: Effect.Effect<A, E, R>) => Effect.Effect<A, E, Exclude<R, Scope.Scope>>
  readonly addFinalizer: (finalizer: Effect.Effect<void>) => Effect.Effect<void>

  /** Per live task: name → status, age and span chain. */
  readonly tracebacks: Effect.Effect<ReadonlyMap<string, string>>
  /** The dump of this service and everything under it. */
  readonly humanTracebacks: Effect.Effect<string>
}

/**
 * Options of a task: its name (logs, dumps, metrics) and what its failure does.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const poll = Service.task(() => Effect.log("poll"), { name: "poll", onError: "log" })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface TaskOptions {
  readonly name?: string
  /** "crash" (the default, as mode) crashes the service; "log" logs the cause. */
  readonly onError?: "crash" | "log"
}

/**
 * A background task declared on a service. Tasks are forked, in declaration order, into
 * the run of every start and interrupted by the matching stop.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const t: Service.Task<never, never> = Service.task((self) => self.sleep("1 second"))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Task<E, R> {
  readonly _tag: "Task"
  readonly name: string | undefined
  readonly onError: "crash" | "log"
  readonly run: (self: Service) => Effect.Effect<void, E, R>
}

/**
 * The options of `Service.make`: mode's hooks, tasks, dependencies and stop settings.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const options: Service.Options<never, never> = {
 *   onStart: () => Effect.log("starting"),
 *   stopTimeout: "5 seconds"
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<E, R> {
  readonly onFirstStart?: (self: Service) => Effect.Effect<void, E, R>
  readonly onStart?: (self: Service) => Effect.Effect<void, E, R>
  readonly onStarted?: (self: Service) => Effect.Effect<void, E, R>
  readonly onStop?: (self: Service) => Effect.Effect<void, E, R>
  readonly onShutdown?: (self: Service) => Effect.Effect<void, E, R>
  readonly onRestart?: (self: Service) => Effect.Effect<void, E, R>
  /** Forked in declaration order on every start. */
  readonly tasks?: ReadonlyArray<Task<E, R>>
  /** Children added on the first start only (mode's `on_init_dependencies`). */
  readonly dependencies?: (self: Service) => Effect.Effect<Iterable<Service>, E, R>
  /** When true, a stop waits for `setShutdown` (up to `shutdownTimeout`). Default false. */
  readonly waitForShutdown?: boolean
  /** Default "60 seconds". */
  readonly shutdownTimeout?: Duration.DurationInput
  /** Deadline of each stop step (a hook, the task interruption, the release of contexts); then it is interrupted. */
  readonly stopTimeout?: Duration.DurationInput
  /** Level of the "Starting..." / "Stopping..." lines. Default "info". */
  readonly mundaneLevel?: "info" | "debug"
}

/**
 * Makes a service. Nothing runs until `start` (or `Service.run`, `Service.scoped`,
 * `Service.layer`). The hooks' requirements `R` are taken from the context `make` runs in.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const consumer = Service.make("Consumer", {
 *   onStart: () => Effect.log("subscribing"),
 *   onStop: () => Effect.log("unsubscribing"),
 *   tasks: [Service.task((self) => Effect.forever(self.sleep("1 second")))]
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <E = never, R = never>(label: string, options: Options<E, R> = {}): Effect.Effect<Service, never, R> =>
  Effect.map(Effect.context<R>(), (context): Service => new internal.ServiceImpl(label, options, context))

/**
 * Declares a background task (mode's `@Service.task`). It runs under `name` (default: the
 * function's name, else `task-N`, its position among the service's tasks). Like `timer` and
 * `crontab`, a bad `name` or `onError` throws a `TypeError` naming it when declared.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const heartbeat = Service.task(
 *   (self) => Effect.forever(Effect.zipRight(Effect.log("beat"), self.sleep("1 second"))),
 *   { name: "heartbeat" }
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const task: <E, R>(fn: (self: Service) => Effect.Effect<void, E, R>, options?: TaskOptions) => Task<E, R> =
  internalTask.task

/**
 * Declares a timer task (mode's `@Service.timer`): `fn` runs after every `interval`,
 * fixed delay by default (see `Timer`), first after one interval unless `execFirst`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const flush = Service.timer("5 seconds", () => Effect.log("flush"), { name: "flush" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const timer: <E, R>(
  interval: Duration.DurationInput,
  fn: (self: Service) => Effect.Effect<void, E, R>,
  options?: TimerTaskOptions
) => Task<E, R> = internalSchedules.timer

/**
 * Options of `Service.timer`.
 *
 * @example
 * ```ts
 * import type { Service } from "@effect-mode/core"
 *
 * const options: Service.TimerTaskOptions = { execFirst: true, rate: "fixed" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface TimerTaskOptions extends TaskOptions {
  /** Call `fn` once at start, before the first interval. Default false. */
  readonly execFirst?: boolean
  /** The most a late or early wake-up is corrected by (fixed delay only). Default "100 millis". */
  readonly maxDriftCorrection?: Duration.DurationInput
  /**
   * "delay" (mode's, the default): the interval starts after `fn` ends. "fixed": calls are due
   * every interval from the start, `fn` included, drift-free like `Schedule.fixed`; when `fn`
   * ran past the next due time, missed calls are skipped and one call is made at once.
   */
  readonly rate?: "delay" | "fixed"
}

/**
 * Declares a crontab task (mode's `@Service.crontab`): `fn` runs at every time matched by
 * `cronFormat`, in `timezone` (default UTC). An invalid expression or time zone throws
 * here, naming it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const nightly = Service.crontab("0 20 * * *", () => Effect.log("report"), {
 *   timezone: "America/Los_Angeles"
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const crontab: <E, R>(
  cronFormat: string,
  fn: (self: Service) => Effect.Effect<void, E, R>,
  options?: CrontabTaskOptions
) => Task<E, R> = internalSchedules.crontab

/**
 * Options of `Service.crontab`.
 *
 * @example
 * ```ts
 * import type { Service } from "@effect-mode/core"
 *
 * const options: Service.CrontabTaskOptions = { timezone: "Europe/Paris", onError: "log" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CrontabTaskOptions extends TaskOptions {
  /** An IANA time zone ("Europe/Paris") or an offset ("+02:00"). Default UTC. */
  readonly timezone?: string
}

/**
 * Wraps a hook so that the Diag flag `flag` is raised while it runs (mode's
 * `Service.transitions_to`), also when it fails.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const committer = Service.make("Committer", {
 *   tasks: [Service.task(Service.transitionsTo("COMMIT", () => Effect.log("committing")))]
 * })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const transitionsTo = <A, E, R>(
  flag: string,
  fn: (self: Service) => Effect.Effect<A, E, R>
) =>
(self: Service): Effect.Effect<A, E, R> =>
  Effect.acquireUseRelease(self.diag.setFlag(flag), () => fn(self), () => self.diag.unsetFlag(flag))

/**
 * A service whose only work is `effect` (mode's `Service.from_awaitable`): it runs as the
 * service's task once started; its failure crashes the service; stopping interrupts it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const poller = Service.fromEffect(Effect.forever(Effect.log("poll")), { name: "Poller" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromEffect = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options: { readonly name?: string } = {}
): Effect.Effect<Service, never, R> => {
  const name = options.name ?? "fromEffect"
  return make<E, R>(name, {
    mundaneLevel: "debug",
    tasks: [task(() => Effect.asVoid(effect), { name })]
  })
}

/**
 * Starts the service now and stops it when the scope closes (`async with service`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const program = Effect.scoped(Effect.gen(function* () {
 *   const svc = yield* Service.scoped(Service.make("Cache"))
 *   // running here; stopped when the scope closes
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const scoped = <E, R>(
  make: Effect.Effect<Service, E, R>
): Effect.Effect<Service, E | ServiceError.ServiceError, R | Scope.Scope> =>
  Effect.flatMap(make, (service) =>
    Effect.zipRight(
      Effect.addFinalizer(() => service.stop),
      Effect.as(service.start, service)
    ))

/**
 * A `Layer` that starts the service when built and stops it when released.
 *
 * @example
 * ```ts
 * import { Context, Effect, Layer } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * class Consumer extends Context.Tag("Consumer")<Consumer, Service.Service>() {}
 * const ConsumerLive = Service.layer(Consumer, Service.make("Consumer"))
 * const program = Effect.flatMap(Consumer, (svc) => svc.state).pipe(Effect.provide(ConsumerLive))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const layer = <I, E, R>(
  tag: Context.Tag<I, Service>,
  make: Effect.Effect<Service, E, R>
): Layer.Layer<I, E | ServiceError.ServiceError, Exclude<R, Scope.Scope>> => Layer.scoped(tag, scoped(make))

/**
 * Runs a service to the end: start it (unless it is started already), wait until it stops
 * or crashes, stop it (in order, children in reverse). Fails with `Crashed` when the tree crashed, `StartFailed` when the
 * start failed. Interrupting it stops the service. A tree that already crashed and stopped is
 * not started again: `run` fails with its `Crashed` at once.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const main = Effect.flatMap(Service.make("App"), Service.run)
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const run = (service: Service): Effect.Effect<void, ServiceError.ServiceError> => {
  const impl = internal.asImpl(service)
  const crashed = Effect.suspend(() => {
    const cause = impl.crashCause
    if (cause === undefined) return Effect.void
    return Effect.fail(
      new ServiceError.Crashed({ label: impl.label, path: impl.crashOrigin ?? impl.pathSync(), cause })
    )
  })
  // A tree that crashed and stopped is not started again behind the caller's back.
  const start = Effect.suspend(() =>
    impl.crashCause !== undefined && (impl.phase === "shutdown" || impl.phase === "init") ? crashed : Effect.asVoid(service.maybeStart)
  )
  return Effect.zipRight(start, service.waitUntilStopped).pipe(
    Effect.ensuring(service.stop),
    Effect.zipRight(crashed)
  )
}

/**
 * True for a value made by `Service.make` (or a Supervisor).
 *
 * @example
 * ```ts
 * import { Service } from "@effect-mode/core"
 *
 * Service.isService({}) // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isService = (u: unknown): u is Service => internal.isService(u)
