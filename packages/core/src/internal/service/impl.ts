/**
 * ServiceImpl: the one implementation of `Service.Service`. It holds a service's data (its
 * lifecycle state, tree links, latches, options decoded once) and hands every operation to
 * the module that owns it: lifecycle.ts (state), tree.ts (links and moves), start.ts,
 * stop.ts, restart.ts, crash.ts, waiting.ts, tasks.ts, log.ts. Its mutable fields are only
 * touched inside `Effect.sync`/`Effect.suspend`, so each transition is atomic on the
 * JavaScript thread.
 *
 * @internal
 */
import type * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Beacon from "../../Beacon.js"
import * as Diag from "../../Diag.js"
import type * as Service from "../../Service.js"
import type * as ServiceError from "../../ServiceError.js"
import type * as Timer from "../../Timer.js"
import type { Run } from "../run.js"
import * as schedules from "../schedules.js"
import { renderTracebacks, tracebackMap } from "../tracebacks.js"
import * as crash from "./crash.js"
import { bindOnAccess } from "./bindOnAccess.js"
import { TypeId } from "./handle.js"
import { Latch } from "./latch.js"
import { withMade } from "./proxy.js"
import * as lifecycle from "./lifecycle.js"
import * as log from "./log.js"
import * as metrics from "./metrics.js"
import * as restart from "./restart.js"
import * as start from "./start.js"
import * as stop from "./stop.js"
import * as tasks from "./tasks.js"
import * as tree from "./tree.js"
import { decodeServiceOptions, type Decoded } from "./validate.js"
import * as waiting from "./waiting.js"

/**
 * What a supervisor attaches to a service it supervises: a crash of the service (or of a
 * descendant that has no supervisor of its own) is handed to `onCrash` instead of walking
 * further up the tree.
 *
 * @internal
 */
export interface SupervisorLink {
  /** The service that supervises: the link holds only while the service is its child. */
  readonly owner: ServiceImpl
  readonly onCrash: (service: ServiceImpl, cause: Cause.Cause<unknown>) => Effect.Effect<void>
  /** Told when the service ends a stop that is not part of its own `restart` (restart types). */
  readonly onStopped?: (service: ServiceImpl) => Effect.Effect<void>
  /** The service leaves the supervisor's tree (a move): it is no longer supervised. */
  readonly release: (service: ServiceImpl) => void
}

/**
 * What a service composed into something bigger (a supervisor) lets that owner decide:
 * how `removeDependency` of a child goes. Undefined: the default.
 *
 * @internal
 */
export interface Extension {
  readonly removeDependency?: (child: ServiceImpl) => Effect.Effect<void> | undefined
}

let nextId = 1

/** A new handle id (services and proxies share the sequence: an id is unique per handle). */
export const newId = (): number => nextId++


class NodeImpl implements Beacon.Node {
  constructor(readonly service: ServiceImpl) {}
  get parent() {
    return Effect.sync(() => Option.map(Option.fromNullable(this.service.parent), (p) => p.beacon))
  }
  get children() {
    return Effect.sync(() => this.service.children.map((c) => c.beacon))
  }
  get depth() {
    return Effect.sync(() => tree.depth(this.service))
  }
  get path() {
    return Effect.sync(() => tree.path(this.service))
  }
}

/** @internal */
export class ServiceImpl implements Service.Service {
  readonly [TypeId] = TypeId
  readonly id: number = nextId++
  readonly shortlabel: string
  private diagState: Diag.Diag | undefined = undefined
  /** Made on first use: most services never raise a flag (and a Diag holds a Ref and four closures). */
  get diag(): Diag.Diag {
    return this.diagState ??= Diag.make()
  }
  private node: NodeImpl | undefined = undefined
  /** Made on first use: most services are never asked for their node. */
  get beacon(): NodeImpl {
    return this.node ??= new NodeImpl(this)
  }

  // --- written by lifecycle.ts only ---------------------------------------------------
  lifecycle: lifecycle.Lifecycle = lifecycle.initial
  crashCause: Cause.Cause<unknown> | undefined = undefined
  crashOrigin: string | undefined = undefined
  restarts = 0
  /** How many times a stop (or a crash) of this service began: a restart under it gives way. */
  stopsSignalled = 0
  /** How many times `stop` was asked for, the service down or not: a restart in flight gives way to one. */
  stopsAsked = 0
  /** The crash recorded is that of a start (or restart) that failed, reported as `StartFailed`. */
  startFailed = false
  /**
   * Set by a supervisor's restart job just before it restarts the service (read and cleared
   * by that restart): a failed start there is the job's to handle, not to be told to it again.
   */
  restartBySupervisor = false
  /** Open when the current run should stop: a stop began, or a crash was recorded. */
  stopSignal: Latch = new Latch()
  /** Open once `setShutdown` was called in this run; made when first used (most services never are). */
  shutdownSignal: Latch | undefined = undefined
  published: Service.State = "init"
  subscribers: Set<Queue.Queue<Service.State>> | undefined = undefined

  // --- written by tree.ts only ---------------------------------------------------------
  parent: ServiceImpl | undefined = undefined
  children: Array<ServiceImpl> = []
  supervisor: SupervisorLink | undefined = undefined

  // --- written by the module named -----------------------------------------------------
  /** stop.ts: the cause of the last failed stop step. */
  lastStopFailure: Cause.Cause<unknown> | undefined = undefined
  /** restart.ts: the restart in flight, if any (a restart asked for meanwhile joins it). */
  restartInFlight: Effect.Effect<void, ServiceError.ServiceError> | undefined = undefined
  /** start.ts: `dependencies` were added, `onFirstStart` ran. */
  depsAdded = false
  firstStartDone = false
  /** crash.ts: the stop a crash began in the background. */
  crashStopper: Fiber.RuntimeFiber<void> | undefined = undefined
  /** Set by the owner of a composed service (a supervisor). */
  extension: Extension | undefined = undefined

  readonly decoded: Decoded
  readonly mundane: LogLevel.LogLevel

  constructor(
    readonly label: string,
    readonly options: Service.Options<any, any>,
    readonly context: Context.Context<any>
  ) {
    this.decoded = decodeServiceOptions(label, options)
    this.shortlabel = label
    this.mundane = options.mundaneLevel === "debug" ? LogLevel.Debug : LogLevel.Info
    metrics.made()
  }

  // --- derived state ---------------------------------------------------------------------

  get phase(): lifecycle.Phase {
    return lifecycle.phaseOf(this)
  }
  get run(): Run | undefined {
    return lifecycle.runOf(this)
  }
  get startedAt(): number | undefined {
    return this.lifecycle._tag === "Running" ? this.lifecycle.startedAt : undefined
  }
  get stopSignalled(): boolean {
    return this.stopSignal.isOpen
  }
  stateSync(): Service.State {
    return lifecycle.stateOf(this)
  }
  depthSync(): number {
    return tree.depth(this)
  }
  pathSync(): string {
    return tree.path(this)
  }

  get state(): Effect.Effect<Service.State> {
    return Effect.sync(() => this.stateSync())
  }

  get stateChanges(): Stream.Stream<Service.State> {
    return Stream.unwrapScoped(
      Effect.flatMap(Queue.unbounded<Service.State>(), (queue) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            ;(this.subscribers ??= new Set()).add(queue)
            return Stream.concat(Stream.make(this.published), Stream.fromQueue(queue))
          }),
          () => Effect.zipRight(Effect.sync(() => this.subscribers?.delete(queue)), Queue.shutdown(queue))
        ))
    )
  }

  get started(): Effect.Effect<boolean> {
    return Effect.sync(() => this.phase === "starting" || this.phase === "running")
  }
  get crashed(): Effect.Effect<boolean> {
    return Effect.sync(() => this.crashCause !== undefined)
  }
  get shouldStop(): Effect.Effect<boolean> {
    return Effect.sync(() => this.stopSignalled || this.phase === "stopping" || this.phase === "shutdown")
  }
  get restartCount(): Effect.Effect<number> {
    return Effect.sync(() => this.restarts)
  }
  get crashReason(): Effect.Effect<Option.Option<Cause.Cause<unknown>>> {
    return Effect.sync(() => Option.fromNullable(this.crashCause))
  }
  get stopFailure(): Effect.Effect<Option.Option<Cause.Cause<unknown>>> {
    return Effect.sync(() => Option.fromNullable(this.lastStopFailure))
  }

  // --- logging and user code (log.ts) ----------------------------------------------------

  prefix(): string {
    return log.prefix(this)
  }
  annotations(): Record<string, string> {
    return log.annotations(this)
  }
  log(level: LogLevel.LogLevel, message: string | (() => string), cause?: Cause.Cause<unknown>): Effect.Effect<void> {
    return log.log(this, level, message, cause)
  }
  userCode<A, E>(effect: Effect.Effect<A, E, any>): Effect.Effect<A, E> {
    return log.userCode(this, effect)
  }

  // --- lifecycle operations --------------------------------------------------------------

  get start(): Effect.Effect<void, ServiceError.ServiceError> {
    return start.start(this)
  }
  get maybeStart(): Effect.Effect<boolean, ServiceError.ServiceError> {
    return start.maybeStart(this)
  }
  get stop(): Effect.Effect<void> {
    return stop.stop(this)
  }
  get setShutdown(): Effect.Effect<void> {
    return Effect.sync(() => (this.shutdownSignal ??= new Latch()).open())
  }
  get restart(): Effect.Effect<void, ServiceError.ServiceError> {
    return restart.restart(this)
  }
  crash(reason: unknown): Effect.Effect<void> {
    return crash.crash(this, reason)
  }
  crashWith(cause: Cause.Cause<unknown>): Effect.Effect<void> {
    return crash.crashWith(this, cause)
  }
  markCrashed(cause: Cause.Cause<unknown>, origin: string): void {
    crash.markTree(this, cause, origin)
  }
  get awaitCrashStop(): Effect.Effect<void> {
    return crash.awaitCrashStop(this)
  }

  // --- waiting (waiting.ts) --------------------------------------------------------------

  sleep(duration: Duration.DurationInput): Effect.Effect<void> {
    return waiting.sleep(this, duration)
  }
  wait<A, E, R>(
    effect: Effect.Effect<A, E, R>,
    options?: { readonly timeout?: Duration.DurationInput }
  ): Effect.Effect<Service.WaitResult<A>, E, R> {
    return waiting.wait(this, effect, options)
  }
  waitFirst<A, E, R>(
    effects: Iterable<Effect.Effect<A, E, R>>,
    options?: { readonly timeout?: Duration.DurationInput }
  ): Effect.Effect<Service.WaitResults<A>, E, R> {
    return waiting.waitFirst(this, effects, options)
  }
  waitMany<A, E, R>(
    effects: Iterable<Effect.Effect<A, E, R>>,
    options?: { readonly timeout?: Duration.DurationInput }
  ): Effect.Effect<Service.WaitResult<Array<A>>, E, R> {
    return waiting.waitMany(this, effects, options)
  }
  waitForStopped(options?: { readonly timeout?: Duration.DurationInput }): Effect.Effect<boolean> {
    return waiting.waitForStopped(this, options)
  }
  get waitUntilStopped(): Effect.Effect<void> {
    return waiting.stopped(this)
  }
  itertimer(interval: Duration.DurationInput, options?: Timer.Options): Stream.Stream<Duration.Duration> {
    return schedules.itertimer(this, interval, options)
  }

  // --- tree (tree.ts) and run resources (tasks.ts) ---------------------------------------

  attach(child: ServiceImpl): void {
    tree.attach(this, child)
  }
  detach(): void {
    tree.detach(this)
  }
  placeChild(child: ServiceImpl, position: number): void {
    tree.place(this, child, position)
  }
  addDependency<S extends Service.Service>(child: S): Effect.Effect<S> {
    return withMade(child, tree.addDependency(this, child))
  }
  addRuntimeDependency<S extends Service.Service>(child: S): Effect.Effect<S, ServiceError.ServiceError> {
    return withMade(child, tree.addRuntimeDependency(this, child))
  }
  removeDependency<S extends Service.Service>(child: S): Effect.Effect<S> {
    return withMade(child, tree.removeDependency(this, child))
  }
  addFuture<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<Fiber.RuntimeFiber<A, E>, never, R> {
    return tasks.addFuture(this, effect)
  }
  addContext<A, E, R>(resource: Effect.Effect<A, E, R>): Effect.Effect<A, E, Exclude<R, Scope.Scope>> {
    return tasks.addContext(this, resource)
  }
  addFinalizer(finalizer: Effect.Effect<void>): Effect.Effect<void> {
    return tasks.addFinalizer(this, finalizer)
  }
  forkIn<A, E>(run: Run, effect: Effect.Effect<A, E>, name: string): Effect.Effect<Fiber.RuntimeFiber<A, E>> {
    return tasks.forkIn(this, run, effect, name)
  }
  forkGuarded<A, E>(
    run: Run,
    effect: Effect.Effect<A, E, any>,
    name: string,
    onError: "crash" | "log"
  ): Effect.Effect<Fiber.RuntimeFiber<A | void>> {
    return tasks.forkGuarded(this, run, effect, name, onError)
  }

  // --- introspection ---------------------------------------------------------------------

  get tracebacks(): Effect.Effect<ReadonlyMap<string, string>> {
    return Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.suspend(() => {
        const run = this.run
        if (run === undefined) return Effect.succeed(new Map<string, string>())
        return Effect.map(run.describe(now), tracebackMap)
      }))
  }
  get humanTracebacks(): Effect.Effect<string> {
    return renderTracebacks(this)
  }
  toString(): string {
    return `<${this.label}: ${this.stateSync()}>`
  }
  toJSON(): unknown {
    return { _id: "Service", id: this.id, label: this.label, state: this.stateSync() }
  }
}

bindOnAccess(ServiceImpl.prototype, [
  "crash",
  "sleep",
  "wait",
  "waitFirst",
  "waitMany",
  "waitForStopped",
  "itertimer",
  "addDependency",
  "addRuntimeDependency",
  "removeDependency",
  "addFuture",
  "addContext",
  "addFinalizer"
])
