import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Queue from "effect/Queue"
import type * as Service from "../Service.js"
import * as ServiceError from "../ServiceError.js"
import { asImpl, ServiceImpl, type SupervisorLink } from "./service.js"
import { boundedLabel } from "./service/metrics.js"
import { sleepMillis } from "./sleep.js"
import { Backoff, checkRestartType, Intensity, type Policy, type RestartType } from "./supervisorPolicy.js"

/** The six strategies: mode's five and OTP's rest-for-one. */
export type Strategy =
  | "oneForOne"
  | "oneForAll"
  | "restForOne"
  | "forfeitOneForOne"
  | "forfeitOneForAll"
  | "crashing"

/** A service with its restart type, as given to a supervisor. */
export interface ChildSpec {
  readonly _tag: "ChildSpec"
  readonly service: Service.Service
  readonly restart: RestartType
}

export const childSpec = (service: Service.Service, restart: RestartType): ChildSpec => {
  asImpl(service)
  return { _tag: "ChildSpec", service, restart: checkRestartType(restart, `restart type of ${service.label}`) }
}

const isChildSpec = (u: Service.Service | ChildSpec): u is ChildSpec =>
  typeof u === "object" && u !== null && (u as ChildSpec)._tag === "ChildSpec" && "service" in u

export const restarts = Metric.counter("effect_mode_supervisor_restarts", {
  description: "Services restarted (or replaced) by a supervisor, tagged by the service's path",
  incremental: true
})

export const escalations = Metric.counter("effect_mode_supervisor_escalations", {
  description: "Crashes a supervisor escalated (crashing strategy, restart intensity exceeded), tagged by its path",
  incremental: true
})

/** One supervised slot. `service` changes when `replacement` puts a new service in the slot. */
class Entry {
  /** The restart job that has still to restart (or stop) this slot, if any. */
  job: Job | undefined = undefined
  removed = false
  constructor(public service: ServiceImpl, public restart: RestartType, readonly backoff: Backoff | undefined) {}
}

/** What one restart does: stop `stop` (in reverse), drop `drop`, wait `delay`, start `start` (in order). */
interface Job {
  readonly stop: Set<Entry>
  readonly drop: Set<Entry>
  readonly start: Set<Entry>
  readonly delay: number
  fiber: Fiber.RuntimeFiber<unknown, unknown> | undefined
}

type Event =
  | { readonly _tag: "Crashed"; readonly service: ServiceImpl; readonly cause: Cause.Cause<unknown> }
  | { readonly _tag: "Stopped"; readonly service: ServiceImpl }

class Link implements SupervisorLink {
  constructor(readonly owner: SupervisorImpl) {}
  onCrash(service: ServiceImpl, cause: Cause.Cause<unknown>): Effect.Effect<void> {
    return this.owner.childCrashed(service, cause)
  }
  onStopped(service: ServiceImpl): Effect.Effect<void> {
    return this.owner.childStopped(service)
  }
  release(service: ServiceImpl): void {
    this.owner.release(service)
  }
}

const hooks: Service.Options<never, never> = {
  onStart: (self) => (self as SupervisorImpl).beginRun,
  onStarted: (self) => (self as SupervisorImpl).startLoop,
  onStop: (self) => (self as SupervisorImpl).stopLoop
}

const isDown = (service: ServiceImpl): boolean =>
  service.crashCause !== undefined || service.phase === "init" || service.phase === "shutdown"

const startFailure = (error: ServiceError.ServiceError): Cause.Cause<unknown> =>
  error._tag === "StartFailed" ? error.cause : Cause.fail(error)

/**
 * A supervisor: a service whose supervised services are its children. Crashes (and normal
 * stops, for restart types) of the children are queued by its `Link` on the crashing fiber;
 * one loop fiber of the supervisor's run decides, and forks one job per restart so that a
 * backoff delay never holds up the other children.
 */
export class SupervisorImpl extends ServiceImpl {
  readonly entries: Array<Entry> = []
  private readonly byService = new Map<ServiceImpl, Entry>()
  readonly link: Link = new Link(this)
  private readonly intensity: Intensity
  private loopFiber: Fiber.RuntimeFiber<unknown, unknown> | undefined = undefined
  private readonly jobs = new Set<Job>()

  constructor(
    label: string,
    readonly strategy: Strategy,
    readonly policy: Policy,
    private readonly events: Queue.Queue<Event>,
    context: Context.Context<never>
  ) {
    super(label, hooks, context as Context.Context<any>)
    this.intensity = new Intensity(policy.maxRestarts, policy.withinMillis)
  }

  // ---------------------------------------------------------------------------
  // the supervised list
  // ---------------------------------------------------------------------------

  get services(): Effect.Effect<ReadonlyArray<Service.Service>> {
    return Effect.sync(() => this.entries.map((e) => e.service))
  }

  /** The restart type of a supervised service. */
  restartTypeOf(service: Service.Service): RestartType | undefined {
    return this.byService.get(asImpl(service))?.restart
  }

  private newEntry(service: ServiceImpl, restart: RestartType): Entry {
    const backoff = this.policy.backoff === undefined
      ? undefined
      : new Backoff(this.policy.backoff, this.policy.resetBackoffAfterMillis)
    const entry = new Entry(service, restart, backoff)
    this.byService.set(service, entry)
    return entry
  }

  /** Makes `service` a child of this supervisor, linked to it, at `position` among the children. */
  private adopt(service: ServiceImpl, position: number | undefined): void {
    if (service === this) throw new Error(`Supervisor ${this.label} cannot supervise itself`)
    const other = service.supervisor
    if (other instanceof Link && other.owner !== this) other.owner.release(service)
    this.attach(service)
    service.supervisor = this.link
    if (position !== undefined && position >= 0 && position < this.children.length - 1) {
      this.children.splice(this.children.indexOf(service), 1)
      this.children.splice(position, 0, service)
    }
  }

  /** Stops supervising `service`: unlinked and detached from the tree, left as it is. */
  release(service: ServiceImpl): Entry | undefined {
    const entry = this.byService.get(service)
    if (entry === undefined) return undefined
    entry.removed = true
    this.byService.delete(service)
    const i = this.entries.indexOf(entry)
    if (i >= 0) this.entries.splice(i, 1)
    if (service.supervisor === this.link) service.supervisor = undefined
    if (service.parent === this) service.detach()
    return entry
  }

  /** Adds services (or child specs) at the end; returns the entries that are new. */
  addSync(inputs: ReadonlyArray<Service.Service | ChildSpec>): Array<Entry> {
    const added: Array<Entry> = []
    for (const input of inputs) {
      const service = asImpl(isChildSpec(input) ? input.service : input)
      const existing = this.byService.get(service)
      if (existing !== undefined) {
        if (isChildSpec(input)) existing.restart = input.restart
        continue
      }
      this.adopt(service, undefined)
      const entry = this.newEntry(service, isChildSpec(input) ? input.restart : this.policy.restart)
      this.entries.push(entry)
      added.push(entry)
    }
    return added
  }

  private get accepting(): boolean {
    return (this.phase === "running" || this.phase === "starting") && !this.stopSignalled
  }

  /** Starts services added while the supervisor runs; a failed start is handled as a crash. */
  private startAdded(entries: ReadonlyArray<Entry>): Effect.Effect<void> {
    return Effect.forEach(entries, (entry) =>
      Effect.suspend(() => {
        if (!this.accepting || entry.removed) return Effect.void
        const service = entry.service
        return service.maybeStart.pipe(
          Effect.catchAll((error) => this.childCrashed(service, startFailure(error))),
          Effect.asVoid
        )
      }), { discard: true })
  }

  add(...services: ReadonlyArray<Service.Service | ChildSpec>): Effect.Effect<void> {
    return Effect.suspend(() => this.startAdded(this.addSync(services)))
  }

  discard(...services: ReadonlyArray<Service.Service>): Effect.Effect<void> {
    return Effect.sync(() => {
      for (const service of services) this.release(asImpl(service))
    })
  }

  /**
   * Puts `service` at `index` (mode's `insert`): the service that was there is stopped and
   * detached; at `index === services.length` it is added at the end.
   */
  insert(index: number, input: Service.Service | ChildSpec): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (!Number.isInteger(index) || index < 0 || index > this.entries.length) {
        return Effect.die(
          new RangeError(
            `insert: index ${String(index)} is out of range for supervisor ${this.label} (0..${this.entries.length})`
          )
        )
      }
      const service = asImpl(isChildSpec(input) ? input.service : input)
      const restart = isChildSpec(input) ? input.restart : this.byService.get(service)?.restart ?? this.policy.restart
      const current = this.entries[index]
      if (current?.service === service) {
        current.restart = restart
        return Effect.void
      }
      if (this.byService.has(service)) this.release(service)
      const old = this.entries[Math.min(index, this.entries.length)]
      if (old === undefined) return this.startAdded(this.addSync([childSpec(service, restart)]))
      const position = this.children.indexOf(old.service)
      this.release(old.service)
      this.adopt(service, position)
      const entry = this.newEntry(service, restart)
      this.entries.splice(Math.min(index, this.entries.length), 0, entry)
      return old.service.stop.pipe(Effect.zipRight(this.startAdded([entry])))
    })
  }

  /** `removeDependency` of a supervised service: no longer supervised, detached, then stopped. */
  override removeDependency<S extends Service.Service>(child: S): Effect.Effect<S> {
    return Effect.suspend(() => {
      const impl = asImpl(child)
      if (impl.parent !== this || !this.byService.has(impl)) return super.removeDependency(child)
      // detached first: a crash while it stops is its own, not the supervisor's
      this.release(impl)
      return Effect.as(impl.stop, child)
    })
  }

  // ---------------------------------------------------------------------------
  // events (on the fiber of the crashing or stopping child)
  // ---------------------------------------------------------------------------

  childCrashed(service: ServiceImpl, cause: Cause.Cause<unknown>): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.strategy === "crashing") return this.escalateNow(service, cause)
      if (!this.accepting) return Effect.void
      return Effect.asVoid(Queue.offer(this.events, { _tag: "Crashed", service, cause }))
    })
  }

  childStopped(service: ServiceImpl): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (!this.accepting || this.strategy === "crashing") return Effect.void
      return Effect.asVoid(Queue.offer(this.events, { _tag: "Stopped", service }))
    })
  }

  // ---------------------------------------------------------------------------
  // the run: hooks of the supervisor's own lifecycle
  // ---------------------------------------------------------------------------

  /** onStart: a fresh intensity window and backoff per run (OTP: a new supervisor process). */
  get beginRun(): Effect.Effect<void> {
    return Effect.flatMap(Queue.takeAll(this.events), () =>
      Effect.sync(() => {
        this.intensity.reset()
        for (const entry of this.entries) entry.backoff?.reset()
      }))
  }

  /** onStarted: fork the loop, and look at children that went down while nothing listened. */
  get startLoop(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const run = this.run
      if (run === undefined || this.stopSignalled) return Effect.void
      return Effect.flatMap(this.forkIn(run, this.guard(this.loop, "supervisor", "crash"), "supervisor"), (fiber) =>
        Effect.suspend(() => {
          this.loopFiber = fiber
          const crashed = this.entries.filter((e) => e.service.crashCause !== undefined)
          return Effect.forEach(crashed, (e) => this.childCrashed(e.service, e.service.crashCause!), { discard: true })
        }))
    })
  }

  /** onStop: end the loop, then the jobs (a child being restarted finishes its start first). */
  get stopLoop(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const loop = this.loopFiber
      this.loopFiber = undefined
      return (loop === undefined ? Effect.void : Fiber.interrupt(loop)).pipe(
        Effect.zipRight(Effect.suspend(() => {
          const fibers: Array<Fiber.RuntimeFiber<unknown, unknown>> = []
          for (const job of this.jobs) if (job.fiber !== undefined) fibers.push(job.fiber)
          return Fiber.interruptAll(fibers)
        }))
      )
    })
  }

  private get loop(): Effect.Effect<never> {
    return Effect.forever(Effect.flatMap(Queue.take(this.events), (event) => this.handle(event)))
  }

  // ---------------------------------------------------------------------------
  // decisions (on the loop fiber, one event at a time)
  // ---------------------------------------------------------------------------

  private handle(event: Event): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.stopSignalled) return Effect.void
      const entry = this.byService.get(event.service)
      // Gone, already being restarted, or already back up: the event is stale.
      if (entry === undefined || entry.job !== undefined || !isDown(entry.service)) return Effect.void
      // Taken out of the tree behind the supervisor's back: let it go.
      if (entry.service.parent !== this) {
        return Effect.sync(() => {
          this.release(entry.service)
        })
      }
      if (event._tag === "Crashed") return this.onCrash(entry, event.cause)
      const service = entry.service
      if (service.crashCause !== undefined || service.restartInFlight !== undefined || service.phase !== "shutdown") return Effect.void
      return this.onNormalStop(entry)
    })
  }

  private onCrash(entry: Entry, cause: Cause.Cause<unknown>): Effect.Effect<void> {
    switch (this.strategy) {
      case "crashing":
        return this.escalateNow(entry.service, cause)
      case "forfeitOneForOne":
        return this.forfeit([entry], entry, cause)
      case "forfeitOneForAll":
        return this.forfeit(this.entries, entry, cause)
      default:
        if (entry.restart === "temporary") {
          return Effect.zipRight(
            this.log(LogLevel.Warning, `Not restarting temporary service ${entry.service.pathSync()}`, cause),
            this.schedule({ stop: [entry], drop: [entry], start: [], delay: 0 })
          )
        }
        return this.restartFrom(entry, cause)
    }
  }

  private onNormalStop(entry: Entry): Effect.Effect<void> {
    if (this.strategy !== "oneForOne" && this.strategy !== "oneForAll" && this.strategy !== "restForOne") {
      return Effect.void
    }
    const path = entry.service.pathSync()
    switch (entry.restart) {
      case "temporary":
        return Effect.zipRight(
          Effect.sync(() => this.release(entry.service)),
          this.log(LogLevel.Debug, `Temporary service ${path} stopped: no longer supervised`)
        )
      case "transient":
        return this.log(LogLevel.Debug, `Transient service ${path} stopped normally: not restarted`)
      case "permanent":
        return this.restartFrom(entry, undefined)
    }
  }

  /** The group a restart of `entry` covers under this strategy. */
  private group(entry: Entry): Array<Entry> {
    switch (this.strategy) {
      case "oneForAll":
        return [...this.entries]
      case "restForOne":
        return this.entries.slice(this.entries.indexOf(entry))
      default:
        return [entry]
    }
  }

  private restartFrom(entry: Entry, cause: Cause.Cause<unknown> | undefined): Effect.Effect<void> {
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const path = entry.service.pathSync()
      if (!this.intensity.tryRestart(now)) return this.escalate(entry, cause)
      const delay = entry.backoff === undefined ? Effect.succeed(0) : entry.backoff.next(now, cause)
      return Effect.flatMap(delay, (millis) => {
        if (millis === "done") return this.escalate(entry, cause)
        const group = this.group(entry)
        // OTP: a temporary sibling is stopped with the group and never restarted.
        const drop = group.filter((e) => e !== entry && e.restart === "temporary")
        const start = group.filter((e) => e === entry || e.restart !== "temporary")
        const why = cause === undefined ? "stopped" : "crashed"
        const others = group.length > 1 ? ` (with ${group.length - 1} other service(s))` : ""
        const when = millis > 0 ? ` in ${Duration.format(Duration.millis(millis))}` : ""
        return Effect.zipRight(
          this.log(LogLevel.Warning, `Restarting ${path}${others}${when}: it ${why}`),
          this.schedule({ stop: group, drop, start, delay: millis })
        )
      })
    })
  }

  private forfeit(candidates: ReadonlyArray<Entry>, crashed: Entry, cause: Cause.Cause<unknown>): Effect.Effect<void> {
    return Effect.suspend(() => {
      // everything still started, crashed or not (a sibling that crashed too is stopped now)
      const live = candidates.filter((e) => e === crashed || (e.service.phase !== "init" && e.service.phase !== "shutdown"))
      return Effect.zipRight(
        this.log(
          LogLevel.Error,
          `Giving up on crashed service ${crashed.service.pathSync()}` +
            (live.length > 1 ? `: stopping ${live.length} services` : ": stopping it"),
          cause
        ),
        this.schedule({ stop: live, drop: [], start: [], delay: 0 })
      )
    })
  }

  private escalate(entry: Entry, cause: Cause.Cause<unknown> | undefined): Effect.Effect<void> {
    return Effect.suspend(() => {
      const error = new ServiceError.MaxRestartsExceeded({
        label: this.label,
        maxRestarts: this.policy.maxRestarts,
        withinMillis: this.policy.withinMillis
      })
      return this.log(
        LogLevel.Error,
        `${error.message}: escalating the ${cause === undefined ? "stop" : "crash"} of ${entry.service.pathSync()}`,
        cause
      ).pipe(
        Effect.zipRight(Metric.increment(Metric.tagged(escalations, "supervisor", boundedLabel("effect_mode_supervisor_escalations", this.pathSync())))),
        Effect.zipRight(this.crashWith(Cause.fail(error)))
      )
    })
  }

  /** The crashing strategy: the supervisor crashes with the cause of its child's crash. */
  private escalateNow(service: ServiceImpl, cause: Cause.Cause<unknown>): Effect.Effect<void> {
    return this.log(LogLevel.Error, `Escalating the crash of ${service.pathSync()}`, cause).pipe(
      Effect.zipRight(Metric.increment(Metric.tagged(escalations, "supervisor", boundedLabel("effect_mode_supervisor_escalations", this.pathSync())))),
      Effect.zipRight(this.crashWith(cause))
    )
  }

  // ---------------------------------------------------------------------------
  // jobs
  // ---------------------------------------------------------------------------

  /**
   * Forks a job. Jobs still pending on any of its entries are interrupted first and what
   * they had left to do is taken over, so that one slot is never handled by two jobs.
   */
  private schedule(plan: {
    readonly stop: ReadonlyArray<Entry>
    readonly drop: ReadonlyArray<Entry>
    readonly start: ReadonlyArray<Entry>
    readonly delay: number
  }): Effect.Effect<void> {
    return Effect.suspend(() => {
      const job: Job = {
        stop: new Set(plan.stop),
        drop: new Set(plan.drop),
        start: new Set(plan.start),
        delay: plan.delay,
        fiber: undefined
      }
      const overlapping = new Set<Job>()
      for (const e of [...job.stop, ...job.start, ...job.drop]) if (e.job !== undefined) overlapping.add(e.job)
      for (const old of overlapping) {
        for (const e of [...old.stop, ...old.start, ...old.drop]) {
          if (e.job !== old) continue
          job.stop.add(e)
          if (old.start.has(e) && !job.drop.has(e)) job.start.add(e)
          if (old.drop.has(e)) job.drop.add(e)
        }
      }
      const fibers = [...overlapping].flatMap((old) => old.fiber === undefined ? [] : [old.fiber])
      return Fiber.interruptAll(fibers).pipe(
        Effect.zipRight(Effect.suspend(() => {
          const run = this.run
          if (run === undefined || run.closed || this.stopSignalled) return Effect.void
          for (const e of [...job.stop, ...job.start, ...job.drop]) e.job = job
          this.jobs.add(job)
          const body = this.runJob(job).pipe(Effect.ensuring(Effect.sync(() => this.endJob(job))))
          return Effect.map(this.forkIn(run, this.guard(body, "supervisor-restart", "crash"), "supervisor-restart"), (fiber) => {
            job.fiber = fiber
          })
        }))
      )
    })
  }

  private endJob(job: Job): void {
    this.jobs.delete(job)
    for (const e of [...job.stop, ...job.start, ...job.drop]) if (e.job === job) e.job = undefined
  }

  private ordered(set: ReadonlySet<Entry>): Array<Entry> {
    if (set.size === 0) return []
    if (set.size === 1) {
      const [only] = set
      return only!.removed ? [] : [only!]
    }
    return this.entries.filter((e) => set.has(e))
  }

  private runJob(job: Job): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      for (const e of self.ordered(job.stop).reverse()) {
        if (e.job === job) yield* e.service.stop
      }
      for (const e of self.ordered(job.drop)) {
        if (e.job === job) self.release(e.service)
      }
      if (job.delay > 0) yield* sleepMillis(job.delay)
      for (const e of self.ordered(job.start)) {
        if (self.stopSignalled) return
        if (e.job !== job) continue
        const ok = yield* self.restartEntry(e)
        if (!ok) return
      }
    })
  }

  /** Restarts (or replaces) one slot; false when that failed (it is then handled as a crash). */
  private restartEntry(entry: Entry): Effect.Effect<boolean> {
    const self = this
    return Effect.gen(function*() {
      const old = entry.service
      let service = old
      if (self.policy.replacement !== undefined) {
        const index = self.entries.indexOf(entry)
        const made = yield* Effect.exit(self.userCode(Effect.suspend(() => self.policy.replacement!(old, index))))
        if (Exit.isFailure(made)) {
          if (Cause.isInterruptedOnly(made.cause)) return yield* Effect.interrupt
          entry.job = undefined
          yield* self.log(LogLevel.Error, `Replacement of ${old.pathSync()} failed`, made.cause)
          yield* self.childCrashed(old, made.cause)
          return false
        }
        service = asImpl(made.value)
        if (service !== old) {
          self.swap(entry, service)
          yield* self.log(LogLevel.Info, `Replaced ${old.pathSync()} with ${service.pathSync()} at index ${index}`)
        }
      }
      const started = yield* Effect.exit(
        service === old
          ? Effect.catchTag(service.restart, "AlreadyStarted", () => Effect.void)
          : Effect.asVoid(service.maybeStart)
      )
      entry.job = undefined
      if (Exit.isFailure(started)) {
        if (Cause.isInterruptedOnly(started.cause)) return yield* Effect.interrupt
        const cause = Cause.isFailType(started.cause) ? startFailure(started.cause.error) : started.cause
        yield* self.childCrashed(service, cause)
        return false
      }
      const now = yield* Clock.currentTimeMillis
      entry.backoff?.restarted(now)
      yield* Metric.increment(Metric.tagged(restarts, "service", boundedLabel("effect_mode_supervisor_restarts", service.pathSync())))
      // A crash between its start and now was ignored while the slot was covered: look again.
      if (service.crashCause !== undefined) yield* self.childCrashed(service, service.crashCause)
      return true
    })
  }

  /** Puts `fresh` in the slot of `entry` (the old service is stopped by now): `replacement`. */
  private swap(entry: Entry, fresh: ServiceImpl): void {
    const old = entry.service
    const position = this.children.indexOf(old)
    const elsewhere = this.byService.get(fresh)
    if (elsewhere !== undefined && elsewhere !== entry) this.release(fresh)
    this.byService.delete(old)
    if (old.supervisor === this.link) old.supervisor = undefined
    if (old.parent === this) old.detach()
    this.adopt(fresh, position)
    entry.service = fresh
    this.byService.set(fresh, entry)
  }
}

export const isSupervisor = (u: unknown): u is SupervisorImpl => u instanceof SupervisorImpl
