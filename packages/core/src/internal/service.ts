import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import * as HashMap from "effect/HashMap"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Beacon from "../Beacon.js"
import * as Diag from "../Diag.js"
import type * as Service from "../Service.js"
import type * as Timer from "../Timer.js"
import * as ServiceError from "../ServiceError.js"
import { bounded } from "./bounded.js"
import { shortCause } from "./causeText.js"
import * as schedules from "./schedules.js"
import { decodeDuration } from "./duration.js"
import { Run } from "./run.js"
import { renderTracebacks } from "./tracebacks.js"

/** The lifecycle phase; the public `State` is this, or "crashed" when a crash is recorded. */
export type Phase = "init" | "starting" | "running" | "stopping" | "shutdown"

/**
 * What a supervisor attaches to a service it supervises: a crash of the service (or of a
 * descendant that has no supervisor of its own) is handed to `onCrash` instead of walking
 * further up the tree.
 */
export interface SupervisorLink {
  readonly onCrash: (service: ServiceImpl, cause: Cause.Cause<unknown>) => Effect.Effect<void>
  /** Told when the service ends a stop that is not part of its own `restart` (restart types). */
  readonly onStopped?: (service: ServiceImpl) => Effect.Effect<void>
}

let nextId = 1

const defaultShutdownTimeout = Duration.seconds(60)

/**
 * True on a fiber that runs a stop (or a start's rollback). Such a fiber is never
 * interrupted from outside, so the stop steps can be interruptible (for their deadlines)
 * without the stop being cut short by whoever asked for it; stops of children run inline.
 */
const onStopFiber: FiberRef.FiberRef<boolean> = FiberRef.unsafeMake(false)

/**
 * The service whose own code (a hook, a task, a future) the current fiber runs, if any.
 * A stop asked for from inside the code being stopped cannot wait for itself.
 */
const runningCodeOf: FiberRef.FiberRef<ServiceImpl | undefined> = FiberRef.unsafeMake<ServiceImpl | undefined>(undefined)

/**
 * Runs a stop procedure on a fiber of its own unless already on one. The caller waits for
 * it without being able to cut it short: a stop never leaves a half-stopped tree, and it
 * is bounded by its own deadlines.
 */
const isolateStop = (effect: Effect.Effect<void>): Effect.Effect<void> =>
  Effect.flatMap(FiberRef.get(onStopFiber), (inside) =>
    inside
      ? effect
      : Effect.uninterruptible(
        Effect.flatMap(Effect.forkDaemon(Effect.locally(effect, onStopFiber, true)), Fiber.join)
      ))

/** What `guard`'s error boundary runs with: the refs of the fiber that forked the task. */
interface OuterRefs {
  readonly annotations: HashMap.HashMap<string, unknown>
  readonly context: Context.Context<never>
  readonly onStop: boolean
  readonly code: ServiceImpl | undefined
}

function withOuterRefs(effect: Effect.Effect<void>, outer: OuterRefs): Effect.Effect<void> {
  return effect.pipe(
    Effect.locally(FiberRef.currentLogAnnotations, outer.annotations),
    Effect.locally(FiberRef.currentContext, outer.context),
    Effect.locally(onStopFiber, outer.onStop),
    Effect.locally(runningCodeOf, outer.code)
  )
}

/** @internal */
export const TypeId: unique symbol = Symbol.for("@effect-mode/core/Service")

class NodeImpl implements Beacon.Node {
  constructor(readonly service: ServiceImpl) {}
  get parent() {
    return Effect.sync(() => Option.map(Option.fromNullable(this.service.parent), (p) => p.beacon))
  }
  get children() {
    return Effect.sync(() => this.service.children.map((c) => c.beacon))
  }
  get depth() {
    return Effect.sync(() => this.service.depthSync())
  }
  get path() {
    return Effect.sync(() => this.service.pathSync())
  }
}

/**
 * The one implementation of `Service.Service`. Its mutable fields are only touched inside
 * `Effect.sync`/`Effect.suspend`, so each transition is atomic on the JavaScript thread.
 */
export class ServiceImpl implements Service.Service {
  readonly [TypeId] = TypeId
  readonly id: number = nextId++
  readonly shortlabel: string
  private diagState: Diag.Diag | undefined = undefined
  /** Made on first use: most services never raise a flag (and a Diag holds a Ref and four closures). */
  get diag(): Diag.Diag {
    return this.diagState ??= Diag.make()
  }
  readonly beacon: NodeImpl = new NodeImpl(this)

  phase: Phase = "init"
  crashCause: Cause.Cause<unknown> | undefined = undefined
  crashOrigin: string | undefined = undefined
  lastStopFailure: Cause.Cause<unknown> | undefined = undefined
  restarts = 0
  /** True while `restart` runs: its stop is not a normal stop for a supervisor. */
  restarting = false
  private depsAdded = false
  private firstStartDone = false
  /** The restart in flight, if any: a restart asked for meanwhile joins it. */
  private restartDone: Deferred.Deferred<void, ServiceError.ServiceError> | undefined = undefined
  /** How many times a stop (or a crash) of this service began: a restart under it gives way. */
  private stopsSignalled = 0

  parent: ServiceImpl | undefined = undefined
  children: Array<ServiceImpl> = []
  supervisor: SupervisorLink | undefined = undefined

  /** Completed when the current run should stop: a stop began, or a crash was recorded. */
  private stopSignal: Deferred.Deferred<void> | undefined = undefined
  stopSignalled = false
  private shutdownSignal: Deferred.Deferred<void> | undefined = undefined
  private shutdownSignalled = false
  /** Completed when the start (or stop) in flight ends. */
  private startDone: Deferred.Deferred<void> | undefined = undefined
  private stopDone: Deferred.Deferred<void> | undefined = undefined
  /** A start (or stop) is in flight; `startDone`/`stopDone` are made only when someone waits for it. */
  private startInFlight = false
  private stopInFlight = false
  private crashStopper: Fiber.RuntimeFiber<void> | undefined = undefined

  run: Run | undefined = undefined
  startedAt: number | undefined = undefined
  private published: Service.State = "init"
  private subscribers: Set<Queue.Queue<Service.State>> | undefined = undefined

  private readonly mundane: LogLevel.LogLevel
  private readonly stopTimeout: Duration.Duration | undefined
  private readonly shutdownTimeout: Duration.Duration

  constructor(
    readonly label: string,
    readonly options: Service.Options<any, any>,
    private readonly context: Context.Context<any>
  ) {
    this.shortlabel = label
    this.mundane = options.mundaneLevel === "debug" ? LogLevel.Debug : LogLevel.Info
    this.stopTimeout = options.stopTimeout === undefined
      ? undefined
      : decodeDuration(options.stopTimeout, `stopTimeout of service ${label}`)
    this.shutdownTimeout = options.shutdownTimeout === undefined
      ? defaultShutdownTimeout
      : decodeDuration(options.shutdownTimeout, `shutdownTimeout of service ${label}`)
  }

  // ---------------------------------------------------------------------------
  // tree
  // ---------------------------------------------------------------------------

  depthSync(): number {
    let depth = 1
    for (let p = this.parent; p !== undefined; p = p.parent) depth++
    return depth
  }

  pathSync(): string {
    let path = this.label
    for (let p = this.parent; p !== undefined; p = p.parent) path = `${p.label}/${path}`
    return path
  }

  attach(child: ServiceImpl): void {
    if (child.parent === this) return
    let ancestor: ServiceImpl | undefined = this
    for (; ancestor !== undefined; ancestor = ancestor.parent) {
      if (ancestor === child) {
        throw new Error(`Service ${child.label} cannot depend on its own ancestor ${this.pathSync()}`)
      }
    }
    // A start or stop in flight holds on to its children: moving one away from under it could
    // turn the tree upside down under that start (and each would wait for the other).
    const from = child.parent
    if (from !== undefined && (from.phase === "starting" || from.phase === "stopping")) {
      throw new Error(`Service ${child.label} cannot move to ${this.pathSync()} while ${from.pathSync()} is ${from.phase}`)
    }
    child.detach()
    child.parent = this
    this.children.push(child)
  }

  detach(): void {
    const parent = this.parent
    if (parent === undefined) return
    const i = parent.children.indexOf(this)
    if (i >= 0) parent.children.splice(i, 1)
    parent.run?.runtimeChildren.delete(this)
    this.parent = undefined
  }

  // ---------------------------------------------------------------------------
  // state
  // ---------------------------------------------------------------------------

  stateSync(): Service.State {
    return this.crashCause !== undefined ? "crashed" : this.phase
  }

  private publish(): void {
    const state = this.stateSync()
    if (state === this.published) return
    this.published = state
    if (this.subscribers !== undefined) {
      for (const q of this.subscribers) q.unsafeOffer(state)
    }
  }

  private setPhase(phase: Phase): void {
    this.phase = phase
    this.publish()
  }

  private signalStop(): void {
    if (this.stopSignalled) return
    this.stopSignalled = true
    this.stopsSignalled++
    if (this.stopSignal !== undefined) Deferred.unsafeDone(this.stopSignal, Exit.void)
  }

  /**
   * The Deferred behind `stopSignalled`, made when first awaited (a Deferred weighs about
   * 0.75 KB, and most services never await their stop); already done when signalled.
   */
  private stopSignalDeferred(): Deferred.Deferred<void> {
    if (this.stopSignal === undefined) {
      this.stopSignal = Deferred.unsafeMake(FiberId.none)
      if (this.stopSignalled) Deferred.unsafeDone(this.stopSignal, Exit.void)
    }
    return this.stopSignal
  }

  /** As `stopSignalDeferred`, for `shutdownSignalled`. */
  private shutdownSignalDeferred(): Deferred.Deferred<void> {
    if (this.shutdownSignal === undefined) {
      this.shutdownSignal = Deferred.unsafeMake(FiberId.none)
      if (this.shutdownSignalled) Deferred.unsafeDone(this.shutdownSignal, Exit.void)
    }
    return this.shutdownSignal
  }

  private resetSignals(): void {
    if (this.stopSignalled) {
      this.stopSignal = undefined
      this.stopSignalled = false
    }
    if (this.shutdownSignalled) {
      this.shutdownSignal = undefined
      this.shutdownSignalled = false
    }
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
          () =>
            Effect.zipRight(
              Effect.sync(() => this.subscribers?.delete(queue)),
              Queue.shutdown(queue)
            )
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

  /** The cause of the last failed stop step (hook, child, finalizer), if any. */
  get stopFailure(): Effect.Effect<Option.Option<Cause.Cause<unknown>>> {
    return Effect.sync(() => Option.fromNullable(this.lastStopFailure))
  }

  // ---------------------------------------------------------------------------
  // logging
  // ---------------------------------------------------------------------------

  prefix(): string {
    return `[^${"-".repeat(this.depthSync() - 1)}${this.shortlabel}]: `
  }

  annotations(): Record<string, string> {
    return { service: this.label, servicePath: this.pathSync() }
  }

  log(level: LogLevel.LogLevel, message: string, cause?: Cause.Cause<unknown>): Effect.Effect<void> {
    return Effect.withFiberRuntime((fiber) => {
      // A line the fiber's minimum level filters out (as Effect's own check does): skip
      // formatting it and annotating it (an annotation copies the fiber's FiberRefs).
      if (LogLevel.greaterThan(fiber.getFiberRef(FiberRef.currentMinimumLogLevel), level)) return Effect.void
      const line = this.prefix() + message
      const log = cause === undefined ? Effect.logWithLevel(level, line) : Effect.logWithLevel(level, line, cause)
      return Effect.annotateLogs(log, this.annotations())
    })
  }

  /** Runs user code of this service: its context provided, its logs annotated. */
  userCode<A, E>(effect: Effect.Effect<A, E, any>): Effect.Effect<A, E> {
    return Effect.annotateLogs(
      Effect.provide(effect, this.context).pipe(
        Effect.locally(onStopFiber, false),
        Effect.locally(runningCodeOf, this)
      ),
      this.annotations()
    )
  }

  /** True when `other` is this service or one of its descendants. */
  private contains(other: ServiceImpl): boolean {
    for (let s: ServiceImpl | undefined = other; s !== undefined; s = s.parent) {
      if (s === this) return true
    }
    return false
  }

  // ---------------------------------------------------------------------------
  // start
  // ---------------------------------------------------------------------------

  get start(): Effect.Effect<void, ServiceError.ServiceError> {
    return Effect.suspend(() => {
      if (this.phase !== "init" && this.phase !== "shutdown") {
        return Effect.fail(new ServiceError.AlreadyStarted({ label: this.label, state: this.stateSync() }))
      }
      return this.doStart()
    })
  }

  get maybeStart(): Effect.Effect<boolean, ServiceError.ServiceError> {
    return Effect.suspend(() => {
      if (this.phase !== "init" && this.phase !== "shutdown") return Effect.succeed(false)
      return Effect.as(this.doStart(), true)
    })
  }

  /** A start hook: interruptible, and cut short when a stop is requested meanwhile. */
  private startHook(
    fn: ((self: Service.Service) => Effect.Effect<unknown, unknown, any>) | undefined
  ): Effect.Effect<void, unknown> {
    if (fn === undefined) return Effect.void
    return Effect.interruptible(
      Effect.raceFirst(Effect.asVoid(this.userCode(Effect.suspend(() => fn(this)))), Deferred.await(this.stopSignalDeferred()))
    )
  }

  private doStart(): Effect.Effect<void, ServiceError.ServiceError> {
    return Effect.uninterruptible(Effect.suspend(() => {
      this.crashCause = undefined
      this.crashOrigin = undefined
      this.resetSignals()
      this.startInFlight = true
      this.startDone = undefined
      const run = new Run()
      this.run = run
      this.setPhase("starting")
      return Effect.exit(this.startSteps(run)).pipe(
        Effect.flatMap((exit) => this.finishStart(run, exit)),
        Effect.ensuring(Effect.sync(() => {
          this.startInFlight = false
          const startDone = this.startDone
          this.startDone = undefined
          if (startDone !== undefined) Deferred.unsafeDone(startDone, Exit.void)
        }))
      )
    }))
  }

  private startSteps(run: Run): Effect.Effect<void, unknown> {
    const options = this.options
    const self = this
    return Effect.gen(function*() {
      if (!self.depsAdded) {
        if (options.dependencies !== undefined) {
          // Added once, on the first start that gets them: a failing `dependencies` is
          // asked again by the next start.
          const deps = Array.from(yield* self.userCode(Effect.suspend(() => options.dependencies!(self))), asImpl)
          for (const dep of deps) self.attach(dep)
        }
        self.depsAdded = true
      }
      if (!self.firstStartDone) {
        yield* self.startHook(options.onFirstStart)
        self.firstStartDone = true
        if (self.stopSignalled) return
      }
      yield* self.log(self.mundane, "Starting...")
      yield* self.startHook(options.onStart)
      if (self.stopSignalled) return
      if (options.tasks !== undefined && options.tasks.length > 0) yield* self.forkTasks(run, options.tasks)
      for (const child of [...self.children]) {
        yield* child.maybeStart
        if (self.stopSignalled) return
      }
      yield* self.startHook(options.onStarted)
    })
  }

  private finishStart(run: Run, exit: Exit.Exit<void, unknown>): Effect.Effect<void, ServiceError.ServiceError> {
    if (Exit.isSuccess(exit) && !this.stopSignalled) {
      return Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.sync(() => {
          this.startedAt = now
          this.setPhase("running")
        }))
    }
    // The start did not complete: a step failed, the start was interrupted, a stop was
    // requested meanwhile, or the service crashed while starting. Release what was
    // acquired, in reverse, and say why.
    return isolateStop(this.teardown(run, false)).pipe(
      Effect.zipRight(Effect.suspend(() => {
        this.run = undefined
        const failure = Exit.isFailure(exit) ? exit.cause : this.crashCause
        if (failure !== undefined && !Cause.isInterruptedOnly(failure)) {
          this.crashCause ??= failure
          this.crashOrigin ??= this.pathSync()
          this.signalStop()
          this.setPhase("shutdown")
          return Effect.zipRight(
            this.log(LogLevel.Error, "Start failed", failure),
            Effect.fail(new ServiceError.StartFailed({ label: this.label, cause: failure }))
          )
        }
        this.signalStop()
        this.setPhase("shutdown")
        return Exit.isFailure(exit) ? Effect.failCause(exit.cause as Cause.Cause<never>) : Effect.void
      }))
    )
  }

  // ---------------------------------------------------------------------------
  // tasks and futures
  // ---------------------------------------------------------------------------

  /** Forks the declared tasks in order, each behind the error boundary of `guard`. */
  private forkTasks(run: Run, tasks: ReadonlyArray<Service.Task<any, any>>): Effect.Effect<void> {
    return Effect.forEach(tasks, (task, index) =>
      this.forkGuarded(
        run,
        Effect.suspend(() => task.run(this)),
        task.name ?? `task-${index + 1}`,
        task.onError
      ), { discard: true })
  }

  /**
   * `forkIn(run, guard(effect, name, onError), name)`, cheaper. What user code runs with (as
   * `userCode` sets it, plus the task's name) is set on the forking fiber around the fork,
   * and the new fiber inherits it: setting it inside the new fiber would copy its FiberRefs
   * once per ref (about 2 KB each, kept while it runs), each behind an `Effect.locally`.
   * Refs that already hold the value are left alone. The error boundary runs with the
   * forking fiber's refs, exactly as `guard`'s.
   */
  forkGuarded<A, E>(
    run: Run,
    effect: Effect.Effect<A, E, any>,
    name: string,
    onError: "crash" | "log"
  ): Effect.Effect<Fiber.RuntimeFiber<A | void>> {
    return Effect.withFiberRuntime((parent) => {
      const outer: OuterRefs = {
        annotations: parent.getFiberRef(FiberRef.currentLogAnnotations),
        context: parent.getFiberRef(FiberRef.currentContext),
        onStop: parent.getFiberRef(onStopFiber),
        code: parent.getFiberRef(runningCodeOf)
      }
      const annotations = HashMap.set(
        HashMap.set(HashMap.set(outer.annotations, "service", this.label), "servicePath", this.pathSync()),
        "task",
        name
      )
      const setUp: Array<Effect.Effect<void>> = [FiberRef.set(FiberRef.currentLogAnnotations, annotations)]
      const restore: Array<Effect.Effect<void>> = [FiberRef.set(FiberRef.currentLogAnnotations, outer.annotations)]
      if (outer.code !== this) {
        setUp.push(FiberRef.set(runningCodeOf, this))
        restore.push(FiberRef.set(runningCodeOf, outer.code))
      }
      // Merging an empty context (a service made without requirements) changes nothing.
      if (this.context.unsafeMap.size > 0) {
        setUp.push(FiberRef.set(FiberRef.currentContext, Context.merge(outer.context, this.context)))
        restore.push(FiberRef.set(FiberRef.currentContext, outer.context))
      }
      if (outer.onStop) {
        setUp.push(FiberRef.set(onStopFiber, false))
        restore.push(FiberRef.set(onStopFiber, true))
      }
      const body: Effect.Effect<A | void> = Effect.catchAllCause(
        effect as Effect.Effect<A, E>,
        (cause) => withOuterRefs(this.taskFailed(cause, name, onError), outer)
      )
      return Effect.uninterruptible(Effect.ensuring(
        Effect.zipRight(Effect.all(setUp, { discard: true }), this.forkIn(run, body, name)),
        Effect.all(restore, { discard: true })
      ))
    })
  }

  /** The error boundary of every task and future: a failure crashes the service or is logged. */
  guard<A, E>(effect: Effect.Effect<A, E, any>, name: string, onError: "crash" | "log"): Effect.Effect<A | void> {
    return Effect.catchAllCause(
      this.userCode(Effect.annotateLogs(effect, "task", name)),
      (cause) => this.taskFailed(cause, name, onError)
    )
  }

  private taskFailed(cause: Cause.Cause<unknown>, name: string, onError: "crash" | "log"): Effect.Effect<void> {
    if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
    if (onError === "log") return this.log(LogLevel.Error, `Task ${name} failed`, cause)
    return this.crashWith(cause)
  }

  forkIn<A, E>(run: Run, effect: Effect.Effect<A, E>, name: string): Effect.Effect<Fiber.RuntimeFiber<A, E>> {
    return Effect.uninterruptible(Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.suspend(() => {
        if (run.closed) {
          return Effect.dieMessage(`Service ${this.pathSync()} is not running: cannot fork ${name}`)
        }
        // Fibers inherit the interruptibility of the fiber that forks them: a task forked
        // during the (uninterruptible) start must itself be interruptible.
        return Effect.map(Effect.forkDaemon(Effect.interruptible(effect)), (fiber) => {
          run.add(fiber, name, now)
          return fiber
        })
      })))
  }

  private activeRun(what: string): Effect.Effect<Run> {
    return Effect.suspend(() => {
      const run = this.run
      if (run === undefined || run.closed) {
        return Effect.dieMessage(`${what}: service ${this.pathSync()} is not started (state: ${this.stateSync()})`)
      }
      return Effect.succeed(run)
    })
  }

  addFuture<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<Fiber.RuntimeFiber<A, E>, never, R> {
    return Effect.flatMap(Effect.context<R>(), (ctx) =>
      Effect.flatMap(this.activeRun("addFuture"), (run) => {
        const name = `future-${run.nextFutureId++}`
        const guarded = Effect.provide(effect, ctx).pipe(
          Effect.onError((cause) =>
            Cause.isInterruptedOnly(cause) ? Effect.void : this.crashWith(cause)
          ),
          Effect.locally(runningCodeOf, this),
          Effect.annotateLogs(this.annotations()),
          Effect.annotateLogs("task", name)
        )
        return this.forkIn(run, guarded, name)
      }))
  }

  private runScope(run: Run): Effect.Effect<Scope.Scope> {
    if (run.scope !== undefined) return Effect.succeed(run.scope)
    return Effect.map(Scope.make(), (scope) => {
      if (run.scope !== undefined) return run.scope
      run.scope = scope
      return scope
    })
  }

  addContext<A, E, R>(resource: Effect.Effect<A, E, R>): Effect.Effect<A, E, Exclude<R, Scope.Scope>> {
    return Effect.flatMap(this.activeRun("addContext"), (run) =>
      Effect.flatMap(this.runScope(run), (scope) => Scope.extend(resource, scope)))
  }

  addFinalizer(finalizer: Effect.Effect<void>): Effect.Effect<void> {
    return Effect.flatMap(this.activeRun("addFinalizer"), (run) =>
      Effect.flatMap(this.runScope(run), (scope) => Scope.addFinalizer(scope, finalizer)))
  }

  // ---------------------------------------------------------------------------
  // dependencies
  // ---------------------------------------------------------------------------

  addDependency<S extends Service.Service>(child: S): Effect.Effect<S> {
    return Effect.sync(() => {
      this.attach(asImpl(child))
      return child
    })
  }

  addRuntimeDependency<S extends Service.Service>(child: S): Effect.Effect<S, ServiceError.ServiceError> {
    return Effect.suspend(() => {
      const impl = asImpl(child)
      this.attach(impl)
      const run = this.run
      if (run === undefined || run.closed) return Effect.succeed(child)
      run.runtimeChildren.add(impl)
      if (this.phase !== "running" && this.phase !== "starting") return Effect.succeed(child)
      return impl.maybeStart.pipe(
        Effect.tapError(() => Effect.sync(() => impl.detach())),
        Effect.as(child)
      )
    })
  }

  removeDependency<S extends Service.Service>(child: S): Effect.Effect<S> {
    return Effect.suspend(() => {
      const impl = asImpl(child)
      if (impl.parent !== this) return Effect.succeed(child)
      return impl.stop.pipe(Effect.zipRight(Effect.sync(() => impl.detach())), Effect.as(child))
    })
  }

  // ---------------------------------------------------------------------------
  // stop
  // ---------------------------------------------------------------------------

  get stop(): Effect.Effect<void> {
    return Effect.flatMap(FiberRef.get(runningCodeOf), (caller) => {
      // Asked from inside the code this stop will interrupt or wait for (a task of this
      // tree, or one of its hooks): start the stop and return at once.
      if (caller !== undefined && this.contains(caller) && !(this.phase === "init" || this.phase === "shutdown")) {
        return this.phase === "stopping" ? Effect.void : this.stopInBackground()
      }
      return this.stopNow
    })
  }

  private get stopNow(): Effect.Effect<void> {
    return Effect.suspend(() => {
      switch (this.phase) {
        case "init":
        case "shutdown":
          return Effect.void
        case "stopping":
          return this.stopInFlight ? Deferred.await(this.stopDone ??= Deferred.unsafeMake(FiberId.none)) : Effect.void
        case "starting": {
          // Ask the start in flight to abort (its hooks are raced against the stop signal),
          // stop the children it may be starting, then wait for its rollback.
          this.signalStop()
          const startDone = this.startInFlight ? (this.startDone ??= Deferred.unsafeMake(FiberId.none)) : undefined
          return Effect.forEach([...this.children].reverse(), (c) => c.stop, { discard: true }).pipe(
            Effect.zipRight(startDone === undefined ? Effect.void : Deferred.await(startDone))
          )
        }
        case "running":
          return this.doStop()
      }
    })
  }

  private doStop(): Effect.Effect<void> {
    const run = this.run!
    this.stopInFlight = true
    this.stopDone = undefined
    this.signalStop()
    this.setPhase("stopping")
    return isolateStop(
      this.log(this.mundane, "Stopping...").pipe(
        Effect.zipRight(this.teardown(run, true)),
        Effect.zipRight(Effect.sync(() => {
          this.run = undefined
          this.startedAt = undefined
          this.setPhase("shutdown")
        })),
        Effect.zipRight(this.log(this.mundane, "-Stopped!")),
        Effect.zipRight(Effect.suspend(() =>
          this.supervisor?.onStopped === undefined || this.restarting
            ? Effect.void
            : this.supervisor.onStopped(this)
        )),
        Effect.ensuring(Effect.sync(() => {
          this.stopInFlight = false
          const stopDone = this.stopDone
          this.stopDone = undefined
          if (stopDone !== undefined) Deferred.unsafeDone(stopDone, Exit.void)
        }))
      )
    )
  }

  /** One stop step: bounded by `stopTimeout`, its failure logged and recorded, never failing. */
  private stopStep(what: string, effect: Effect.Effect<unknown, unknown>): Effect.Effect<void> {
    return bounded(effect, this.stopTimeout, what).pipe(
      Effect.catchAllCause((cause) =>
        Effect.zipRight(
          Effect.sync(() => {
            this.lastStopFailure = cause
          }),
          this.log(LogLevel.Warning, `${what} failed while stopping`, cause)
        )
      )
    )
  }

  private stopHook(
    name: string,
    fn: ((self: Service.Service) => Effect.Effect<unknown, unknown, any>) | undefined
  ): Effect.Effect<void> {
    if (fn === undefined) return Effect.void
    return this.stopStep(name, this.userCode(Effect.suspend(() => fn(this))))
  }

  /**
   * Releases a run in mode's stop order: onStop, children in reverse, the wait for
   * `setShutdown`, the run's fibers, its contexts and finalizers (reverse order), onShutdown.
   * Without hooks it is the rollback of a failed start.
   */
  private teardown(run: Run, withHooks: boolean): Effect.Effect<void> {
    const self = this
    const options = this.options
    return Effect.gen(function*() {
      if (withHooks) yield* self.stopHook("onStop", options.onStop)
      for (const child of [...self.children].reverse()) {
        yield* child.stop
      }
      if (withHooks && options.waitForShutdown === true) yield* self.awaitShutdown()
      run.closed = true
      if (run.fibers.size > 0) yield* self.stopStep("interrupting tasks", run.interruptAll)
      if (run.scope !== undefined) yield* self.stopStep("releasing contexts", Scope.close(run.scope, Exit.void))
      if (withHooks) yield* self.stopHook("onShutdown", options.onShutdown)
      for (const child of run.runtimeChildren) child.detach()
      run.runtimeChildren.clear()
    })
  }

  private awaitShutdown(): Effect.Effect<void> {
    if (this.shutdownSignalled) return Effect.void
    const millis = Duration.toMillis(this.shutdownTimeout)
    return Deferred.await(this.shutdownSignalDeferred()).pipe(
      Effect.interruptible,
      Effect.timeoutTo({
        duration: this.shutdownTimeout,
        onSuccess: () => Effect.void,
        onTimeout: () => {
          const error = new ServiceError.ShutdownTimeout({ label: this.label, timeoutMillis: millis })
          this.lastStopFailure = Cause.fail(error)
          return this.log(LogLevel.Warning, error.message)
        }
      }),
      Effect.flatten
    )
  }

  get setShutdown(): Effect.Effect<void> {
    return Effect.sync(() => {
      if (this.shutdownSignalled) return
      this.shutdownSignalled = true
      if (this.shutdownSignal !== undefined) Deferred.unsafeDone(this.shutdownSignal, Exit.void)
    })
  }

  // ---------------------------------------------------------------------------
  // restart and crash
  // ---------------------------------------------------------------------------

  get restart(): Effect.Effect<void, ServiceError.ServiceError> {
    return Effect.flatMap(FiberRef.get(runningCodeOf), (caller) =>
      // Asked from inside the code this restart stops (a task or hook of this tree): it
      // cannot wait for itself, so it runs on a fiber of its own and the caller goes on.
      caller !== undefined && this.contains(caller) && this.phase !== "init" && this.phase !== "shutdown"
        ? this.restartInBackground
        : this.restartNow)
  }

  private get restartInBackground(): Effect.Effect<void> {
    // a failed start is logged and recorded (crashed) where it happens
    const restart = this.restartNow.pipe(Effect.ignore, Effect.locally(runningCodeOf, undefined))
    return Effect.asVoid(Effect.forkDaemon(restart))
  }

  private get restartNow(): Effect.Effect<void, ServiceError.ServiceError> {
    return Effect.suspend(() => {
      // A restart asked for while one is in flight joins it: one restart, one outcome.
      if (this.restartDone !== undefined) return Deferred.await(this.restartDone)
      const done = Deferred.unsafeMake<void, ServiceError.ServiceError>(FiberId.none)
      this.restartDone = done
      this.restarting = true
      return this.restartSteps.pipe(Effect.onExit((exit) =>
        Effect.sync(() => {
          this.restarting = false
          this.restartDone = undefined
          Deferred.unsafeDone(done, exit)
        })
      ))
    })
  }

  /** Stops signalled on the ancestors so far, and whether one of them is stopping now. */
  private ancestorStops(): number {
    let n = 0
    for (let p = this.parent; p !== undefined; p = p.parent) {
      n += p.stopsSignalled
      if (p.phase === "stopping") return -1
    }
    return n
  }

  private get restartSteps(): Effect.Effect<void, ServiceError.ServiceError> {
    const ancestorStops = this.ancestorStops()
    return this.stop.pipe(
      Effect.zipRight(Effect.suspend(() => {
        // When the tree above began to stop (or crashed) meanwhile, the restart gives way
        // to it: the service stays stopped, as that stop expects it to be.
        if (ancestorStops === -1 || this.ancestorStops() !== ancestorStops) return Effect.void
        this.crashCause = undefined
        this.crashOrigin = undefined
        this.restarts++
        this.publish()
        return this.options.onRestart === undefined ? this.start : Effect.catchAllCause(
          this.userCode(Effect.suspend(() => this.options.onRestart!(this))),
          (cause) => this.restartFailed(cause)
        ).pipe(Effect.zipRight(this.start))
      }))
    )
  }

  /**
   * `onRestart` failed or died: the start side of the restart failed, as a failed start
   * (crashed with the cause, `StartFailed`). An interruption is passed on, not a crash.
   */
  private restartFailed(cause: Cause.Cause<unknown>): Effect.Effect<never, ServiceError.ServiceError> {
    if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
    return Effect.suspend(() => {
      this.crashCause ??= cause
      this.crashOrigin ??= this.pathSync()
      this.signalStop()
      this.publish()
      return Effect.zipRight(
        this.log(LogLevel.Error, "Restart failed", cause),
        Effect.fail(new ServiceError.StartFailed({ label: this.label, cause }))
      )
    })
  }

  crash(reason: unknown): Effect.Effect<void> {
    return this.crashWith(Cause.isCause(reason) ? reason : Cause.fail(reason))
  }

  /**
   * Records a crash. The crash climbs the tree to the nearest service that has a supervisor
   * (whose supervisor is told) or to the root (which is then stopped, with everything
   * under it). Every service on the way and under that point is marked with the same cause.
   */
  crashWith(cause: Cause.Cause<unknown>): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.crashCause !== undefined) return Effect.void
      let top: ServiceImpl = this
      while (top.supervisor === undefined && top.parent !== undefined) top = top.parent
      const origin = this.pathSync()
      // Once, in one line; the whole cause (stack frames included) at debug.
      const logged = Effect.zipRight(
        this.log(LogLevel.Error, `Crashed: ${shortCause(cause)}`),
        this.log(LogLevel.Debug, "Crashed (the whole cause)", cause)
      )
      top.markCrashed(cause, origin)
      if (top.supervisor !== undefined) return Effect.zipRight(logged, top.supervisor.onCrash(top, cause))
      return Effect.zipRight(logged, top.stopStartedInBackground())
    })
  }

  markCrashed(cause: Cause.Cause<unknown>, origin: string): void {
    if (this.crashCause === undefined) {
      this.crashCause = cause
      this.crashOrigin = origin
      this.signalStop()
      this.publish()
    }
    for (const child of this.children) child.markCrashed(cause, origin)
  }

  /**
   * Stops this service on a fiber of its own: a crash is often reported from inside a
   * task of the tree being stopped, which cannot wait for its own interruption. The fiber
   * is owned by this service: `stop`, `run` and `waitUntilStopped` all await the same stop.
   */
  private stopInBackground(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.crashStopper !== undefined && this.crashStopper.unsafePoll() === null) return Effect.void
      const stop = this.stopNow.pipe(Effect.locally(onStopFiber, true), Effect.locally(runningCodeOf, undefined))
      return Effect.map(Effect.forkDaemon(stop), (fiber) => {
        this.crashStopper = fiber
      })
    })
  }

  /**
   * Stops in the background the highest started services of this subtree: this one if it
   * is started, else the started ones below it (a child may run under a stopped parent).
   */
  private stopStartedInBackground(): Effect.Effect<void> {
    return Effect.suspend(() =>
      this.phase === "init" || this.phase === "shutdown"
        ? Effect.forEach(this.children, (child) => child.stopStartedInBackground(), { discard: true })
        : this.stopInBackground()
    )
  }

  /** Waits until the crash-triggered stop (if any) has finished. */
  get awaitCrashStop(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const fiber = this.crashStopper
      return fiber === undefined ? Effect.void : Effect.asVoid(fiber.await)
    })
  }

  // ---------------------------------------------------------------------------
  // waiting
  // ---------------------------------------------------------------------------

  private get stopped(): Effect.Effect<void> {
    return Effect.suspend(() => this.stopSignalled ? Effect.void : Deferred.await(this.stopSignalDeferred()))
  }

  sleep(duration: Duration.DurationInput): Effect.Effect<void> {
    return Effect.suspend(() => this.stopSignalled ? Effect.void : Effect.raceFirst(Effect.sleep(duration), this.stopped))
  }

  wait<A, E, R>(
    effect: Effect.Effect<A, E, R>,
    options?: { readonly timeout?: Duration.DurationInput }
  ): Effect.Effect<Service.WaitResult<A>, E, R> {
    const raced = Effect.raceFirst(
      Effect.map(effect, (result): Service.WaitResult<A> => ({ _tag: "Completed", result, stopped: false })),
      Effect.as(this.stopped, stoppedResult)
    )
    return Effect.suspend(() => {
      if (this.stopSignalled) return Effect.succeed(stoppedResult)
      return options?.timeout === undefined
        ? raced
        : Effect.timeoutTo(raced, {
          duration: options.timeout,
          onSuccess: (r): Service.WaitResult<A> => r,
          onTimeout: (): Service.WaitResult<A> => timedOutResult
        })
    })
  }

  waitFirst<A, E, R>(
    effects: Iterable<Effect.Effect<A, E, R>>,
    options?: { readonly timeout?: Duration.DurationInput }
  ): Effect.Effect<Service.WaitResults<A>, E, R> {
    const list = Array.from(effects)
    const self = this
    return Effect.scoped(Effect.gen(function*() {
      if (self.stopSignalled) return { done: [], results: [], stopped: true, timedOut: false }
      const first = yield* Deferred.make<void>()
      const fibers = yield* Effect.forEach(list, (effect) =>
        effect.pipe(
          Effect.onExit(() => Deferred.succeed(first, undefined)),
          Effect.forkScoped
        ))
      const outcome = yield* Effect.raceFirst(
        Effect.as(Deferred.await(first), "done" as const),
        Effect.as(self.stopped, "stopped" as const)
      ).pipe(
        options?.timeout === undefined ? (x) => x : Effect.timeoutTo({
          duration: options.timeout,
          onSuccess: (x) => x,
          onTimeout: () => "timedOut" as const
        })
      )
      if (outcome !== "done") {
        return { done: [], results: [], stopped: outcome === "stopped", timedOut: outcome === "timedOut" }
      }
      const done: Array<number> = []
      const results: Array<A> = []
      for (let i = 0; i < fibers.length; i++) {
        const exit = fibers[i]!.unsafePoll()
        if (exit === null) continue
        if (Exit.isFailure(exit)) return yield* Effect.failCause(exit.cause)
        done.push(i)
        results.push(exit.value)
      }
      return { done, results, stopped: false, timedOut: false }
    }))
  }

  waitMany<A, E, R>(
    effects: Iterable<Effect.Effect<A, E, R>>,
    options?: { readonly timeout?: Duration.DurationInput }
  ): Effect.Effect<Service.WaitResult<Array<A>>, E, R> {
    return this.wait(Effect.all(Array.from(effects), { concurrency: "unbounded" }), options)
  }

  itertimer(interval: Duration.DurationInput, options?: Timer.Options): Stream.Stream<Duration.Duration> {
    return schedules.itertimer(this, interval, options)
  }

  waitForStopped(options?: { readonly timeout?: Duration.DurationInput }): Effect.Effect<boolean> {
    if (options?.timeout === undefined) return Effect.as(this.stopped, true)
    return Effect.timeoutTo(this.stopped, {
      duration: options.timeout,
      onSuccess: () => true,
      onTimeout: () => false
    })
  }

  get waitUntilStopped(): Effect.Effect<void> {
    return this.stopped
  }

  // ---------------------------------------------------------------------------
  // introspection
  // ---------------------------------------------------------------------------

  get tracebacks(): Effect.Effect<ReadonlyMap<string, string>> {
    return Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.suspend(() => {
        const run = this.run
        if (run === undefined) return Effect.succeed(new Map<string, string>())
        return Effect.map(run.describe(now), (lines) => new Map(lines))
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

const stoppedResult: Service.WaitResult<never> = { _tag: "Stopped", stopped: true }
const timedOutResult: Service.WaitResult<never> = { _tag: "TimedOut", stopped: false }

/**
 * Handle members that are methods work detached too (`Effect.flatMap(make, parent.addDependency)`):
 * each is bound to its service on first access, so services that never hand out a method
 * pay nothing for it.
 */
const bindOnAccess = (proto: object, names: ReadonlyArray<string>): void => {
  for (const name of names) {
    const fn = (proto as Record<string, (...args: Array<unknown>) => unknown>)[name]!
    Object.defineProperty(proto, name, {
      configurable: true,
      get(this: object) {
        const bound = fn.bind(this)
        Object.defineProperty(this, name, { value: bound, configurable: true, writable: true })
        return bound
      }
    })
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

export const isService = (u: unknown): u is ServiceImpl => typeof u === "object" && u !== null && TypeId in u

export const asImpl = (service: Service.Service): ServiceImpl => {
  if (!isService(service)) {
    throw new TypeError(`Not an effect-mode service: ${String(service)}`)
  }
  return service
}

