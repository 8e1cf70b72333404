/**
 * Supervision: what a supervisor does with the service it is composed with. Crashes (and
 * normal stops, for restart types) of its children are queued by its link on the crashing
 * fiber; one loop fiber of the supervisor's run takes them one at a time, asks `decide` for
 * a plan, and carries it out: logs, metrics, releases, escalations, restart jobs (jobs.ts).
 *
 * @internal
 */
import type * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as CauseM from "effect/Cause"
import type * as Service from "../../Service.js"
import * as ServiceError from "../../ServiceError.js"
import type { ChildSpec, Intensity } from "../../Supervisor.js"
import { asImpl, type ServiceImpl, type SupervisorLink } from "../service.js"
import { boundedLabel } from "../service/metrics.js"
import type { Policy } from "../supervisorPolicy.js"
import { decide, inWindow, type Plan, type Slot, type Slots } from "./decide.js"
import { childSpec, Entries, type Entry, isChildSpec } from "./entries.js"
import type { Host } from "./host.js"
import { Jobs, startFailure } from "./jobs.js"
import { Mailbox } from "./mailbox.js"
import { escalations } from "./metrics.js"
import type { StrategyData } from "./strategy.js"

/** @internal */
export type Event =
  | { readonly _tag: "Crashed"; readonly service: ServiceImpl; readonly cause: Cause.Cause<unknown> }
  | { readonly _tag: "Stopped"; readonly service: ServiceImpl }

const slotOf = (owner: ServiceImpl, entry: Entry): Slot => {
  const s = entry.service
  const phase = s.phase
  return {
    restart: entry.restart,
    pending: entry.job !== undefined,
    started: phase === "starting" || phase === "running" || phase === "stopping",
    shutdown: phase === "shutdown",
    crashed: s.crashCause !== undefined,
    restarting: s.restartInFlight !== undefined,
    movedAway: s.parent !== owner
  }
}

/** @internal */
export class Supervision {
  readonly entries: Entries
  private readonly jobs: Jobs
  /** The restart times within the intensity window (OTP's `restarts`). */
  private times: ReadonlyArray<number> = []

  /** The restarts counted in the intensity window ending now, and the window's bounds. */
  get intensity(): Effect.Effect<Intensity> {
    return Effect.map(Clock.currentTimeMillis, (now) => {
      const { maxRestarts, withinMillis } = this.policy
      return { restarts: inWindow({ times: this.times, maxRestarts, withinMillis }, now).length, maxRestarts, withinMillis }
    })
  }
  private loopFiber: Fiber.RuntimeFiber<unknown, unknown> | undefined = undefined
  /** The children's events, taken by the loop one at a time. */
  private readonly events = new Mailbox<Event>()

  constructor(
    private readonly host: Host,
    private readonly owner: ServiceImpl,
    readonly strategy: StrategyData,
    readonly policy: Policy
  ) {
    const link: SupervisorLink = {
      owner,
      onCrash: (service, cause) => this.childCrashed(service, cause),
      onStopped: (service) => this.childStopped(service),
      release: (service) => {
        this.entries.release(service)
      }
    }
    this.entries = new Entries(host, link, policy)
    this.jobs = new Jobs(host, this.entries, policy, (service, cause) => this.childCrashed(service, cause))
  }

  // --- the supervised list -------------------------------------------------------------

  private get accepting(): boolean {
    return (this.host.phase === "running" || this.host.phase === "starting") && !this.host.stopSignalled
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

  add(services: ReadonlyArray<Service.Service | ChildSpec>): Effect.Effect<void> {
    return Effect.suspend(() => this.startAdded(this.entries.add(services)))
  }

  discard(services: ReadonlyArray<Service.Service>): Effect.Effect<void> {
    return Effect.suspend(() => {
      // A child whose start (or stop) is part of the supervisor's own, in flight: detached,
      // that start would wait for it and that stop no longer reach it (both would hang).
      const phase = this.host.phase
      for (const service of services) {
        const impl = asImpl(service)
        const inFlight = impl.lifecycle._tag === "Starting" || impl.lifecycle._tag === "Stopping"
        if ((phase === "starting" || phase === "stopping") && inFlight && this.entries.get(impl) !== undefined) {
          return Effect.dieMessage(
            `discard: ${impl.label} cannot leave supervisor ${this.host.pathSync()} while it is ${phase}` +
              ` (its ${phase === "starting" ? "start" : "stop"} holds ${impl.label}); discard it once that is over`
          )
        }
      }
      for (const service of services) this.entries.release(asImpl(service))
      return Effect.void
    })
  }

  /** Puts `service` at `index` (mode's `insert`, and the service that was there is stopped). */
  insert(index: number, input: Service.Service | ChildSpec): Effect.Effect<void> {
    return Effect.suspend(() => {
      const list = this.entries.list
      if (!Number.isInteger(index) || index < 0 || index > list.length) {
        return Effect.die(
          new RangeError(
            `insert: index ${String(index)} is out of range for supervisor ${this.host.label} (0..${list.length})`
          )
        )
      }
      const service = asImpl(isChildSpec(input) ? input.service : input)
      const restart = isChildSpec(input) ? input.restart : this.entries.get(service)?.restart ?? this.policy.restart
      const current = list[index]
      if (current?.service === service) {
        current.restart = restart
        return Effect.void
      }
      if (this.entries.get(service) !== undefined) this.entries.release(service)
      const old = list[Math.min(index, list.length)]
      if (old === undefined) return this.startAdded(this.entries.add([childSpec(service, restart)]))
      const entry = this.entries.replaceAt(index, old, service, restart)
      return old.service.stop.pipe(Effect.zipRight(this.startAdded([entry])))
    })
  }

  /** `removeDependency` of a supervised service: no longer supervised, detached, then stopped. */
  removeChild(child: ServiceImpl): Effect.Effect<void> | undefined {
    if (this.entries.get(child) === undefined) return undefined
    // detached first: a crash while it stops is its own, not the supervisor's
    this.entries.release(child)
    return child.stop
  }

  // --- events (on the fiber of the crashing or stopping child) ---------------------------

  childCrashed(service: ServiceImpl, cause: Cause.Cause<unknown>): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.strategy.onCrash === "escalate") return this.escalateNow(service, cause)
      if (!this.accepting) return Effect.void
      this.events.offer({ _tag: "Crashed", service, cause })
      return Effect.void
    })
  }

  private childStopped(service: ServiceImpl): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (!this.accepting || this.strategy.onCrash === "escalate") return Effect.void
      // A stop of a crashed service, or one a restart job makes: `decide` ignores it (a
      // crash is handled as a crash; a slot a job covers is the job's), now or later.
      if (service.crashCause !== undefined || this.entries.get(service)?.job !== undefined) return Effect.void
      this.events.offer({ _tag: "Stopped", service })
      return Effect.void
    })
  }

  // --- the run: hooks of the supervisor's own lifecycle ----------------------------------

  /** onStart: a fresh intensity window and backoff per run (OTP: a new supervisor process). */
  get beginRun(): Effect.Effect<void> {
    return Effect.sync(() => {
      this.events.clear()
      this.times = []
      for (const entry of this.entries.list) entry.backoff?.reset()
    })
  }

  /** onStarted: fork the loop, and look at children that went down while nothing listened. */
  get startLoop(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const run = this.host.run
      if (run === undefined || this.host.stopSignalled) return Effect.void
      const loop = Effect.forever(Effect.flatMap(this.events.take, (event) => this.handle(event)))
      return Effect.flatMap(this.host.forkGuarded(run, loop, "supervisor", "crash"), (fiber) =>
        Effect.suspend(() => {
          this.loopFiber = fiber
          const crashed = this.entries.list.filter((e) => e.service.crashCause !== undefined)
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
        Effect.zipRight(Effect.suspend(() => Fiber.interruptAll(this.jobs.fibers)))
      )
    })
  }

  // --- decisions (on the loop fiber, one event at a time) --------------------------------

  private handle(event: Event): Effect.Effect<void> {
    return Effect.withFiberRuntime((fiber) => {
        const now = Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeMillis()
        if (this.host.stopSignalled) return Effect.void
        const entry = this.entries.get(event.service)
        if (entry === undefined) return Effect.void
        const list = this.entries.list
        const slots: Slots = { count: list.length, at: (i) => slotOf(this.owner, list[i]!) }
        const index = list.indexOf(entry)
        const decided = decide(
          event._tag === "Crashed" ? { _tag: "Crashed", index, cause: event.cause } : { _tag: "Stopped", index },
          slots,
          this.strategy,
          { times: this.times, maxRestarts: this.policy.maxRestarts, withinMillis: this.policy.withinMillis },
          now
        )
        this.times = decided.times
        return this.carryOut(decided.plan, event._tag === "Crashed" ? event.cause : undefined, now)
      })
  }

  private carryOut(plan: Plan, cause: Cause.Cause<unknown> | undefined, now: number): Effect.Effect<void> {
    const list = this.entries.list
    const at = (indexes: ReadonlyArray<number>) => indexes.map((i) => list[i]!)
    switch (plan._tag) {
      case "Ignore":
        return Effect.void
      case "Release": {
        const service = list[plan.index]!.service
        this.entries.release(service)
        return plan.why === "movedAway"
          ? Effect.void
          : this.host.log(LogLevel.Debug, `Temporary service ${service.pathSync()} stopped: no longer supervised`)
      }
      case "Keep":
        return this.host.log(
          LogLevel.Debug,
          `Transient service ${list[plan.index]!.service.pathSync()} stopped normally: not restarted`
        )
      case "Escalate":
        return plan.why === "crashing"
          ? this.escalateNow(list[plan.index]!.service, cause!)
          : this.escalate(list[plan.index]!, cause)
      case "Drop": {
        const entry = list[plan.index]!
        return Effect.zipRight(
          this.host.log(LogLevel.Warning, `Not restarting temporary service ${entry.service.pathSync()}`, cause),
          this.jobs.schedule({ stop: [entry], drop: [entry], start: [], delay: 0 })
        )
      }
      case "Forfeit": {
        const crashed = list[plan.index]!
        const live = at(plan.stop)
        return Effect.zipRight(
          this.host.log(
            LogLevel.Error,
            `Giving up on crashed service ${crashed.service.pathSync()}` +
              (live.length > 1 ? `: stopping ${live.length} services` : ": stopping it"),
            cause
          ),
          this.jobs.schedule({ stop: live, drop: [], start: [], delay: 0 })
        )
      }
      case "Restart": {
        const entry = list[plan.index]!
        const group = at(plan.stop)
        const restartIn = (millis: number | "done"): Effect.Effect<void> => {
          if (millis === "done") return this.escalate(entry, cause)
          const others = group.length > 1 ? ` (with ${group.length - 1} other service(s))` : ""
          const when = millis > 0 ? ` in ${Duration.format(Duration.millis(millis))}` : ""
          return Effect.zipRight(
            this.host.log(LogLevel.Warning, () => `Restarting ${entry.service.pathSync()}${others}${when}: it ${plan.why}`),
            this.jobs.schedule({ stop: group, drop: at(plan.drop), start: at(plan.start), delay: millis })
          )
        }
        return entry.backoff === undefined ? restartIn(0) : Effect.flatMap(entry.backoff.next(now, cause), restartIn)
      }
    }
  }

  private countEscalation(): Effect.Effect<void> {
    return Metric.increment(
      Metric.tagged(escalations, "supervisor", boundedLabel("effect_mode_supervisor_escalations", this.host.pathSync()))
    )
  }

  private escalate(entry: Entry, cause: Cause.Cause<unknown> | undefined): Effect.Effect<void> {
    return Effect.suspend(() => {
      const error = new ServiceError.MaxRestartsExceeded({
        label: this.host.label,
        maxRestarts: this.policy.maxRestarts,
        withinMillis: this.policy.withinMillis
      })
      return this.host.log(
        LogLevel.Error,
        `${error.message}: escalating the ${cause === undefined ? "stop" : "crash"} of ${entry.service.pathSync()}`,
        cause
      ).pipe(
        Effect.zipRight(this.countEscalation()),
        Effect.zipRight(this.host.crashWith(CauseM.fail(error)))
      )
    })
  }

  /** The crashing strategy: the supervisor crashes with the cause of its child's crash. */
  private escalateNow(service: ServiceImpl, cause: Cause.Cause<unknown>): Effect.Effect<void> {
    return this.host.log(LogLevel.Error, `Escalating the crash of ${service.pathSync()}`, cause).pipe(
      Effect.zipRight(this.countEscalation()),
      Effect.zipRight(this.host.crashWith(cause))
    )
  }
}
