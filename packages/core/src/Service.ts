/**
 * Services, as in mode: long-lived components that start, stop, restart and crash in a
 * tree, with background tasks, timers, crontabs, child services started in order and
 * stopped in reverse, and Diag flags.
 *
 * @since 0.1.0
 */
import type * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import type * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import type * as Schedule from "effect/Schedule"
import type * as Stream from "effect/Stream"
import type * as Types from "effect/Types"
import type * as Beacon from "./Beacon.js"
import type * as Diag from "./Diag.js"
import * as internalBounded from "./internal/bounded.js"
import * as internalCurrent from "./internal/layer/current.js"
import * as internalLaunch from "./internal/layer/launch.js"
import * as internalRegistry from "./internal/layer/registry.js"
import * as internalSupervised from "./internal/layer/supervised.js"
import * as internalTag from "./internal/layer/tag.js"
import * as internalOptions from "./internal/options.js"
import * as internalRunScope from "./internal/service/runScope.js"
import * as internalValidate from "./internal/service/validate.js"
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

  /**
   * Per live task: name → status, age and span chain. Live tasks that share a name are told
   * apart by their fiber id: `"worker #12"`, `"worker #13"`.
   */
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
 * The error type of a service's options: the union of the errors of every hook, task and
 * the `dependencies` hook. Errors never leave `make` (a failure crashes the service, see the
 * guide); the type says what a crash of this service can carry.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Service } from "@effect-mode/core"
 *
 * type E = Service.OptionsError<{
 *   onStart: () => Effect.Effect<void, "A">
 *   tasks: ReadonlyArray<Service.Task<"B", never>>
 * }> // "A" | "B"
 * ```
 *
 * @since 0.3.0
 * @category models
 */
export type OptionsError<O> =
  | HookError<Prop<O, HookName>>
  | TaskError<ElementOf<Prop<O, "tasks">>>
  | HookError<Prop<O, "dependencies">>

/**
 * The requirements of a service's options: the union of the requirements of every hook,
 * task and the `dependencies` hook. `make` takes them from the context it runs in.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import type { Service } from "@effect-mode/core"
 *
 * class Db extends Context.Tag("Db")<Db, { readonly ping: Effect.Effect<void> }>() {}
 * type R = Service.OptionsContext<{ onStart: () => Effect.Effect<void, never, Db> }> // Db
 * ```
 *
 * @since 0.3.0
 * @category models
 */
export type OptionsContext<O> =
  | HookContext<Prop<O, HookName>>
  | TaskContext<ElementOf<Prop<O, "tasks">>>
  | HookContext<Prop<O, "dependencies">>

type HookName = "onFirstStart" | "onStart" | "onStarted" | "onStop" | "onShutdown" | "onRestart"
type Prop<O, K extends string> = K extends keyof O ? NonNullable<O[K]> : never
type ElementOf<A> = A extends ReadonlyArray<infer T> ? T : never
type HookError<F> = F extends (...args: ReadonlyArray<any>) => Effect.Effect<any, infer E, any> ? E : never
type HookContext<F> = F extends (...args: ReadonlyArray<any>) => Effect.Effect<any, any, infer R> ? R : never
type TaskError<T> = T extends Task<infer E, any> ? E : never
type TaskContext<T> = T extends Task<any, infer R> ? R : never

/**
 * Makes a service. Nothing runs until `start` (or `Service.run`, `Service.scoped`,
 * `Service.layer`). The hooks' requirements `R` are taken from the context `make` runs in.
 * `R` is inferred as the union of the requirements of every hook and task (and the error
 * type of each may differ): no type argument needs to be written.
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
export const make: {
  (label: string): Effect.Effect<Service>
  <O extends Types.NoExcessProperties<Options<any, any>, O>>(
    label: string,
    options: O
  ): Effect.Effect<Service, never, OptionsContext<O>>
  <E = never, R = never>(label: string, options?: Options<E, R>): Effect.Effect<Service, never, R>
} = ((label: string, options?: Options<any, any>): Effect.Effect<Service, never, any> =>
  Effect.withFiberRuntime((fiber) => {
    options = internalOptions.checkOptions(options, `Service.make(${internalOptions.show(label)})`, internalValidate.optionNames)
    const context = fiber.getFiberRef(FiberRef.currentContext) as Context.Context<any>
    // Made inside a scope: what its hooks and tasks acquire with a Scope is the run's, not
    // that scope's (which lives across restarts).
    if (context.unsafeMap.has(Scope.Scope.key)) options = internalRunScope.inRunScopes(options)
    const service = new internal.ServiceImpl(label, internalRegistry.checkingContext(label, options, context), context)
    // Made inside another service's code (a Tag's scoped or hook): its own code sees itself
    // as `Service.Current`, not that service.
    if (context.unsafeMap.has(internalCurrent.Current.key)) {
      ;(service as { context: Context.Context<any> }).context = Context.add(context, internalCurrent.Current, service)
    }
    return Effect.succeed(service)
  })) as any

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
  fromEffectOptions?: { readonly name?: string }
): Effect.Effect<Service, never, R> => {
  if (!Effect.isEffect(effect)) {
    throw new TypeError(`Invalid effect of Service.fromEffect: ${JSON.stringify(String(effect))} is not an Effect`)
  }
  const options = internalOptions.checkOptions(fromEffectOptions, "Service.fromEffect", ["name"])
  const name = options.name ?? "fromEffect"
  // The name is the service's label and its task's name: checked as a label, when declared.
  internal.checkLabel(name, "Service.fromEffect")
  return make<E, R>(name, {
    mundaneLevel: "debug",
    tasks: [task(() => Effect.asVoid(effect), { name })]
  })
}

/**
 * Starts the service now and stops it when the scope closes (`async with service`). Inside
 * the layer of a `Service.launch` (for example in an `Effect.Service` of your own), the
 * service joins the launch's tree, as `Service.Tag` services do.
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
  Effect.flatMap(make, internalRegistry.startScoped)

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
export const run = (service: Service): Effect.Effect<void, ServiceError.ServiceError> =>
  internal.withMade(service, Effect.suspend(() => runMade(service)))

const runMade = (service: Service): Effect.Effect<void, ServiceError.ServiceError> => {
  const impl = internal.asImpl(service)
  const crashed = Effect.suspend(() => {
    const cause = impl.crashCause
    if (cause === undefined) return Effect.void
    const path = impl.crashOrigin ?? impl.pathSync()
    // The label of the service the crash started from, as `path` (and `Service.launch`) say.
    return Effect.fail(new ServiceError.Crashed({ label: path.slice(path.lastIndexOf("/") + 1), path, cause }))
  })
  // A tree that crashed and stopped is not started again behind the caller's back; a start
  // that failed (told as StartFailed) is tried again, as `maybeStart` would.
  const start = Effect.suspend(() =>
    impl.crashCause !== undefined && !impl.startFailed && (impl.phase === "shutdown" || impl.phase === "init")
      ? crashed
      : Effect.asVoid(service.maybeStart)
  )
  return Effect.zipRight(start, service.waitUntilStopped).pipe(
    Effect.ensuring(service.stop),
    Effect.zipRight(crashed)
  )
}

/**
 * Runs `self` with a signal that cuts the stops in progress: when `cut` completes, each stop
 * step then running (`onStop`, the interruption of the tasks, the release of contexts and
 * finalizers, `onShutdown`; a child's stop through its own steps) is interrupted in the
 * background and its stop goes on with the next step, as at its `stopTimeout` (logged,
 * recorded as a `StopTimeout`). The wait for `setShutdown` keeps its own `shutdownTimeout`.
 * Steps that begin afterwards run as usual. The signal is read when a stop begins, from
 * the fiber that stops; fibers forked by `self`, and the stops they run, inherit it. The Worker sets it to its `shutdownTimeout` deadline, so that the rest of each stop
 * (finalizers, `onShutdown`) runs in the grace that follows.
 *
 * @example
 * ```ts
 * import { Deferred, Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const cut = yield* Deferred.make<void>()
 *   const app = yield* Service.make("App", { onStop: () => Effect.never })
 *   yield* app.start
 *   yield* Effect.fork(Effect.delay(Deferred.succeed(cut, undefined), "5 seconds"))
 *   yield* Service.withStopCut(app.stop, cut) // ends 5 s later: onStop is cut
 * })
 * ```
 *
 * @since 0.3.0
 * @category running
 */
export const withStopCut: {
  (cut: Deferred.Deferred<void>): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, cut: Deferred.Deferred<void>): Effect.Effect<A, E, R>
} = dual(2, internalBounded.withStopCut)

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
export const isService = (u: unknown): u is Service => internal.isHandle(u)

/**
 * mode's `ServiceProxy`: a handle whose service is made on first use, by `make`, and whose
 * every member is that service's (`start`, `stop`, `state`, `crash`, `addDependency`,
 * `beacon`, ...). Its `label` and `shortlabel` are the proxy's own (mode's are its class
 * name); its `id` is its own. Use it where a service must be declared before anything runs
 * (mode's Faust creates its App at import time): nothing of `make` runs until the proxy is
 * used, or given to `addDependency`, a supervisor, `Service.run` or `ServiceGraph`. `make`
 * runs once (a make that dies runs again at the next use); its requirements are those of the
 * context the proxy is made in. A bad label or make throws a `TypeError` when the proxy is
 * declared.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const app = yield* Service.proxy("AppProxy", () => Service.make("App"))
 *   yield* app.start // makes App, then starts it
 *   console.log(yield* app.state) // "running"
 *   yield* app.stop
 * })
 * ```
 *
 * @since 0.4.0
 * @category constructors
 */
export const proxy: <R = never>(
  label: string,
  make: () => Effect.Effect<Service, never, R>
) => Effect.Effect<Service, never, R> = internal.proxy

// -----------------------------------------------------------------------------
// Layer-first services
// -----------------------------------------------------------------------------

/**
 * The identifier of `Service.Current`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const label: Effect.Effect<string, never, Service.Current> = Effect.map(Service.Current, (s) => s.label)
 * ```
 *
 * @since 0.3.0
 * @category models
 */
export interface Current {
  readonly _: unique symbol
}

/**
 * The lifecycle handle of the service whose code is running: provided to the `scoped`,
 * hooks and tasks of a `Service.Tag` service, to fork futures, raise `Diag` flags, add
 * mode-style children or read its state while the typed API is being built.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * class Cache extends Service.Tag<Cache>()("Cache", {
 *   scoped: Effect.gen(function* () {
 *     const self = yield* Service.Current
 *     yield* self.diag.setFlag("WARM")
 *     return { get: (key: string) => Effect.succeed(key.length) }
 *   })
 * }) {}
 * ```
 *
 * @since 0.3.0
 * @category tags
 */
export const Current: Context.Tag<Current, Service> = internalCurrent.Current

/**
 * What `Service.Tag` accepts: every option of `Service.make` (hooks, tasks, timers,
 * crontabs, `stopTimeout`, ...) but mode's `dependencies` hook, plus `scoped`, the effect
 * that builds the service's typed API (run inside each start, in the service's run scope,
 * so what it acquires is released by the matching stop), and `dependencies`, layers as in
 * `Effect.Service`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Service } from "@effect-mode/core"
 *
 * const options: Service.TagOptions = {
 *   scoped: Effect.succeed({ ping: Effect.void }),
 *   stopTimeout: "5 seconds"
 * }
 * ```
 *
 * @since 0.3.0
 * @category models
 */
export interface TagOptions extends Omit<Options<any, any>, "dependencies"> {
  /** Builds the typed API (an object); may read `Service.Current`; runs inside every start. */
  readonly scoped?: Effect.Effect<object, any, any>
  /**
   * Builds the typed API, as `scoped` does (it runs in the same place: inside every start, in
   * the run scope), for an effect that needs no `Scope`: `Effect.Service`'s `effect`. Give one
   * of `scoped`, `effect`, `sync` and `succeed`.
   */
  readonly effect?: Effect.Effect<object, any, any>
  /** Makes the typed API at every start (`Effect.Service`'s `sync`). */
  readonly sync?: () => object
  /** The typed API, the same object at every start (`Effect.Service`'s `succeed`). */
  readonly succeed?: object
  /**
   * As in `Effect.Service`: the class gets a static accessor per member of the API
   * (`Self.query(sql)` is `Effect.andThen(Self, (api) => api.query(sql))`).
   */
  readonly accessors?: boolean
  /** Layers this service is built on, as in `Effect.Service` (`Default` provides them). */
  readonly dependencies?: ReadonlyArray<Layer.Layer.Any>
  /**
   * Restarts the service in place when it crashes (see `SuperviseOptions`): its `scoped`
   * runs again in a fresh run scope, its tasks start again, and callers holding its API
   * keep working.
   */
  readonly supervise?: SuperviseOptions
}

/**
 * How a supervised `Service.Tag` service is restarted: the options of a one-for-one
 * `Supervisor` of its own (`restart` type, `maxRestarts` in any window of `within`,
 * `backoff`; one crash too many escalates with `MaxRestartsExceeded` to the tree above, so
 * `Service.launch` ends with `Crashed`), plus `callTimeout`: how long a call to its API made
 * while it restarts waits for the new instance (default "5 seconds") before failing with
 * `ServiceError.ServiceUnavailable`. A call in flight when it crashes fails with
 * `ServiceUnavailable` too. `strategy`: "oneForOne" (the default) restarts the service alone;
 * "restForOne" also stops every service of the launch that depends on it (directly or not)
 * in reverse start order when it crashes, and starts them again in start order once it runs.
 *
 * @example
 * ```ts
 * import { Schedule } from "effect"
 * import type { Service } from "@effect-mode/core"
 *
 * const supervise: Service.SuperviseOptions = {
 *   maxRestarts: 3,
 *   within: "1 minute",
 *   backoff: Schedule.exponential("100 millis"),
 *   callTimeout: "2 seconds"
 * }
 * ```
 *
 * @since 0.3.0
 * @category models
 */
export interface SuperviseOptions extends internalSupervised.SuperviseOptions {}

/**
 * The API of a supervised service as callers see it: every Effect member and every method
 * can also fail with `ServiceUnavailable`.
 *
 * @example
 * ```ts
 * import type { Effect } from "effect"
 * import type { Service } from "@effect-mode/core"
 *
 * type Api = Service.Supervised<{ readonly charge: (cents: number) => Effect.Effect<string> }>
 * ```
 *
 * @since 0.3.0
 * @category models
 */
export type Supervised<A> = {
  readonly [K in keyof A]: A[K] extends Effect.Effect<infer X, infer E, infer R>
    ? Effect.Effect<X, E | ServiceError.ServiceUnavailable, R>
    : A[K] extends (...args: infer P) => Effect.Effect<infer X, infer E, infer R>
      ? (...args: P) => Effect.Effect<X, E | ServiceError.ServiceUnavailable, R>
    : A[K]
}

/**
 * The typed API of a `Service.Tag` service (what its `scoped` or `effect` gives, what `sync`
 * returns, or `succeed`; `{}` without any).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Service } from "@effect-mode/core"
 *
 * type Api = Service.TagApi<{ scoped: Effect.Effect<{ readonly lag: Effect.Effect<number> }> }>
 * ```
 *
 * @since 0.3.0
 * @category models
 */
export type TagApi<Make> = Make extends { readonly scoped: Effect.Effect<infer A, any, any> } ? NeverToEmpty<A>
  : Make extends { readonly effect: Effect.Effect<infer A, any, any> } ? NeverToEmpty<A>
  : Make extends { readonly sync: () => infer A } ? A
  : Make extends { readonly succeed: infer A } ? A
  : {}

type NeverToEmpty<A> = [A] extends [never] ? {} : A

/**
 * The error type of a `Service.Tag` service's layer (besides `ServiceError`): the union over
 * `scoped`, every hook and every task.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Service } from "@effect-mode/core"
 *
 * type E = Service.TagError<{ scoped: Effect.Effect<{}, "Refused"> }> // "Refused"
 * ```
 *
 * @since 0.3.0
 * @category models
 */
export type TagError<Make> = OptionsError<Make> | ScopedError<Prop<Make, "scoped"> | Prop<Make, "effect">>

/**
 * The requirements of a `Service.Tag` service (its `DefaultWithoutDependencies`): the union
 * over `scoped`, every hook and every task, less `Scope` and `Service.Current`.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import type { Service } from "@effect-mode/core"
 *
 * class Db extends Context.Tag("Db")<Db, {}>() {}
 * type R = Service.TagContext<{ scoped: Effect.Effect<{}, never, Db> }> // Db
 * ```
 *
 * @since 0.3.0
 * @category models
 */
export type TagContext<Make> = Exclude<
  OptionsContext<Make> | ScopedContext<Prop<Make, "scoped"> | Prop<Make, "effect">>,
  Scope.Scope | Current
>

type ScopedError<X> = X extends Effect.Effect<any, infer E, any> ? E : never
type ScopedContext<X> = X extends Effect.Effect<any, any, infer R> ? R : never
type Deps<Make> = Make extends { readonly dependencies: ReadonlyArray<infer L> } ? L : never
// Inferred in every position: a layer that provides nothing (`Layer<never, E, R>`, e.g.
// `Layer.effectDiscard`) is not a `Layer<any, ...>` (ROut is contravariant in `Layer`).
type LayerOut<L> = L extends Layer.Layer<infer ROut, infer _E, infer _R> ? ROut : never
type LayerError<L> = L extends Layer.Layer<infer _ROut, infer E, infer _R> ? E : never
type LayerIn<L> = L extends Layer.Layer<infer _ROut, infer _E, infer RIn> ? RIn : never

/**
 * The class `Service.Tag` returns: a `Context` tag whose service is `Self` (the typed API),
 * with `Default` (the layer, `dependencies` included), `DefaultWithoutDependencies`, and
 * `handle`, the lifecycle handle behind the API.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * class Clock2 extends Service.Tag<Clock2>()("Clock2", { scoped: Effect.succeed({ now: Effect.succeed(0) }) }) {}
 * const program = Effect.gen(function* () {
 *   const clock = yield* Clock2 // the typed API
 *   const handle = yield* Clock2.handle // its lifecycle handle
 * })
 * ```
 *
 * @since 0.3.0
 * @category models
 */
export type TagClass<Self, Key extends string, Make> =
  & {
    new(_: TagApi<Make>): CallersApi<Make> & {
      readonly _tag: Key
    }
    /** Runs `body` with the API. */
    readonly use: <X>(
      body: (_: Self) => X
    ) => [X] extends [Effect.Effect<infer A, infer E, infer R>] ? Effect.Effect<A, E, R | Self>
      : [X] extends [PromiseLike<infer A>] ? Effect.Effect<A, Cause.UnknownException, Self>
      : Effect.Effect<X, never, Self>
    /** Makes an API value (for tests that provide a stand-in with `Layer.succeed`). */
    readonly make: (_: TagApi<Make>) => Self
    /** The lifecycle handle of the service in the context (a defect for a stand-in not built by `Default`). */
    readonly handle: Effect.Effect<Service, never, Self>
    /** The layer without `dependencies`: starts the service when built, stops it when released. */
    readonly DefaultWithoutDependencies: Layer.Layer<Self, TagError<Make> | ServiceError.ServiceError, TagContext<Make>>
    /** `DefaultWithoutDependencies` with `dependencies` provided. */
    readonly Default: Layer.Layer<
      Self,
      TagError<Make> | ServiceError.ServiceError | LayerError<Deps<Make>>,
      Exclude<TagContext<Make>, LayerOut<Deps<Make>>> | LayerIn<Deps<Make>>
    >
  }
  & Context.Tag<Self, Self>
  & { readonly key: Key }
  & (Make extends { readonly accessors: true } ? Effect.Tag.Proxy<Self, Omit<CallersApi<Make>, ClassMember>> : {})

/** The members of a Tag's class itself: an API member of the same name gets no accessor (the class's wins). */
type ClassMember =
  | "key"
  | "use"
  | "make"
  | "handle"
  | "Default"
  | "DefaultWithoutDependencies"
  | "of"
  | "context"
  | "pipe"
  | "stack"
  | "name"
  | "length"
  | "prototype"
  | "Service"
  | "Identifier"
  | "_op"

/** The API as callers see it: `Supervised` for a supervised service. */
type CallersApi<Make> = Make extends { readonly supervise: object } ? Supervised<TagApi<Make>> : TagApi<Make>

type MissingSelfGeneric = "Missing `Self` generic - use `class Self extends Service.Tag<Self>()(...)`"

/**
 * Defines a service the way `Effect.Service` does, with mode's lifecycle: the result is a
 * class usable as a `Context` tag; `yield* Self` gives the typed API built by `scoped`;
 * `Self.Default` is its layer, which makes the lifecycle handle, starts it (running `scoped`
 * inside the start, in the run scope, with `Service.Current` provided, before `onStart`;
 * then the tasks, timers and crontabs) and stops it when released. Hooks and tasks may use
 * the service's dependencies (`yield* Database` in a task works). `E` and `R` are inferred
 * over `scoped`, every hook, every task and `dependencies`. Get the lifecycle handle with
 * `yield* Self.handle`. Run the whole program with `Service.launch` (or the Worker) to get
 * one tree and crash reporting over every service.
 *
 * As in `Effect.Service`, the API can also be built with `effect` (no `Scope` needed), `sync`
 * or `succeed` instead of `scoped` (one of them; each runs at every start), and
 * `accessors: true` gives the class a static accessor per member of the API.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * class Database extends Service.Tag<Database>()("Database", {
 *   scoped: Effect.gen(function* () {
 *     const pool = yield* Effect.acquireRelease(
 *       Effect.as(Effect.log("pool open"), { size: 4 }),
 *       () => Effect.log("pool closed")
 *     )
 *     return { query: (sql: string) => Effect.succeed(`${sql} on ${pool.size}`) }
 *   })
 * }) {}
 *
 * class Consumer extends Service.Tag<Consumer>()("Consumer", {
 *   dependencies: [Database.Default],
 *   scoped: Effect.succeed({ lag: Effect.succeed(0) }),
 *   tasks: [
 *     Service.task((self) =>
 *       Effect.gen(function* () {
 *         const db = yield* Database
 *         yield* db.query("select 1")
 *         yield* self.sleep("1 second")
 *       })
 *     )
 *   ]
 * }) {}
 *
 * const main = Service.launch(Consumer.Default) // starts Database, then Consumer
 * ```
 *
 * @since 0.3.0
 * @category constructors
 */
export const Tag: <Self = never>() => [Self] extends [never] ? MissingSelfGeneric
  : <const Key extends string, const Make extends Types.NoExcessProperties<TagOptions, Make>>(
    key: Key,
    options: Make
  ) => TagClass<Self, Key, Make> = internalTag.makeTag(make as any) as any

/**
 * The options of `Service.launch`.
 *
 * @example
 * ```ts
 * import type { Service } from "@effect-mode/core"
 *
 * const options: Service.LaunchOptions = { label: "Orders" }
 * ```
 *
 * @since 0.3.0
 * @category models
 */
export interface LaunchOptions extends internalLaunch.LaunchOptions {}

/**
 * Runs a program made of layers: builds `layer`, and every service built from it
 * (`Service.Tag`, `Service.layer`, `Service.scoped`), however your own layers wrap or
 * re-export it, joins one tree under a root (label "App" unless told) in start order, with
 * its layer dependencies as edges (`ServiceGraph.Snapshot.dependsOn`). Runs until
 * interrupted, or until a service that nothing supervises crashes. Either way the root is
 * stopped, and its stop releases the layer (services stop in the reverse order of the layer
 * graph; a shared dependency after the last service using it); after a crash `launch` then
 * fails with `Crashed` (the path and cause of the crash). `Worker.runMain(layer)` is built
 * on it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * class Ticker extends Service.Tag<Ticker>()("Ticker", {
 *   tasks: [Service.timer("1 second", () => Effect.log("tick"))]
 * }) {}
 *
 * const main: Effect.Effect<never, Service.ServiceErrors> = Service.launch(Ticker.Default, { label: "App" })
 * ```
 *
 * @since 0.3.0
 * @category running
 */
export const launch: <ROut, E, RIn>(
  layer: Layer.Layer<ROut, E, RIn>,
  options?: LaunchOptions
) => Effect.Effect<never, E | ServiceError.ServiceError, RIn> = internalLaunch.makeLaunch(make as any)

/**
 * Makes the root a `Service.launch` hangs its services under, for code that needs the root
 * before the launch (the Worker does, for its dump and health endpoints): pass it as
 * `launch(layer, { root })`. It is `starting` while the layer is built and `running` once
 * everything is up (so readiness follows the whole program); a crash meanwhile stops what
 * was built in reverse start order. Any other service given as `root` starts once the layer
 * is built.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * class Ticker extends Service.Tag<Ticker>()("Ticker", {}) {}
 * const main = Effect.flatMap(Service.launchRoot("Main"), (root) => Service.launch(Ticker.Default, { root }))
 * ```
 *
 * @since 0.3.0
 * @category constructors
 */
export const launchRoot: (label: string) => Effect.Effect<Service> = internalLaunch.makeLaunchRoot(make as any)

/**
 * Every error of the lifecycle (`ServiceError.ServiceError`), for signatures.
 *
 * @example
 * ```ts
 * import type { Service } from "@effect-mode/core"
 *
 * const tagOf = (e: Service.ServiceErrors) => e._tag
 * ```
 *
 * @since 0.3.0
 * @category models
 */
export type ServiceErrors = ServiceError.ServiceError

/**
 * The layer dependencies of a service (the services of the context its layer was built
 * with, direct ones only); empty for a service not built by a layer.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const deps = (s: Service.Service) => Service.dependenciesOf(s).map((d) => d.label)
 * ```
 *
 * @since 0.3.0
 * @category getters
 */
export const dependenciesOf: (service: Service) => ReadonlyArray<Service> = internalRegistry.dependenciesOf

/**
 * Forks a declared task (`Service.task`, `Service.timer`, `Service.crontab`) into the run of
 * the service being built, from its `scoped`: how a `Service.Tag` service starts loops that
 * use the state its `scoped` creates (its own API is not in its own context). The task is
 * owned by the run: interrupted by the stop, forked again by the next start; its failure
 * crashes the service (or is logged, with `onError: "log"`); its name shows in the dump.
 *
 * @example
 * ```ts
 * import { Effect, Queue } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * class Inbox extends Service.Tag<Inbox>()("Inbox", {
 *   scoped: Effect.gen(function* () {
 *     const queue = yield* Queue.unbounded<string>()
 *     yield* Service.addTask(Service.task(() => Effect.forever(Effect.flatMap(Queue.take(queue), Effect.log)), { name: "drain" }))
 *     return { post: (text: string) => Queue.offer(queue, text) }
 *   })
 * }) {}
 * ```
 *
 * @since 0.3.0
 * @category constructors
 */
export const addTask: <E, R>(task: Task<E, R>) => Effect.Effect<void, never, R | Current> = internalTag.addTask

/**
 * A group of `Service.Tag` services supervised together by one supervisor (labelled
 * `label`, under the launch's root): declare it once and name it in each member's
 * `supervise: { group }`. With `strategy: "oneForAll"`, a crash of any member stops every
 * member (in reverse) and starts them all again (in order); `"restForOne"` restarts the
 * crashed member and the members after it; `"oneForOne"` (the default) only the crashed one.
 * The options are the `Supervisor`'s (`maxRestarts`, `within`, `backoff`): the whole group
 * shares one restart intensity, so a group that keeps crashing escalates as one.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const Payments = Service.supervisorGroup("Payments", { strategy: "oneForAll", maxRestarts: 3, within: "1 minute" })
 *
 * class Ledger extends Service.Tag<Ledger>()("Ledger", {
 *   scoped: Effect.succeed({ post: (cents: number) => Effect.succeed(cents) }),
 *   supervise: { group: Payments }
 * }) {}
 * class Gateway extends Service.Tag<Gateway>()("Gateway", {
 *   dependencies: [Ledger.Default],
 *   scoped: Effect.succeed({ charge: (cents: number) => Effect.succeed(cents) }),
 *   supervise: { group: Payments, callTimeout: "2 seconds" }
 * }) {}
 * ```
 *
 * @since 0.3.0
 * @category constructors
 */
export const supervisorGroup = (
  label: string,
  options: {
    readonly strategy?: "oneForOne" | "oneForAll" | "restForOne"
    readonly maxRestarts?: number
    readonly within?: Duration.DurationInput
    readonly backoff?: Schedule.Schedule<unknown>
    readonly resetBackoffAfter?: Duration.DurationInput
  } = {}
): SupervisorGroup => internalSupervised.supervisorGroup(label, options)

/**
 * A group made by `Service.supervisorGroup`.
 *
 * @example
 * ```ts
 * import { Service } from "@effect-mode/core"
 *
 * const group: Service.SupervisorGroup = Service.supervisorGroup("Payments")
 * ```
 *
 * @since 0.3.0
 * @category models
 */
export interface SupervisorGroup extends internalSupervised.Group {}
