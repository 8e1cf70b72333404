/**
 * Restart jobs: one fiber of the supervisor's run per restart, so that a backoff delay
 * never holds up the other slots. A job stops its slots (in reverse), drops the temporary
 * ones, waits its delay, then restarts (or replaces) the rest in order. A slot is never
 * handled by two jobs: a new job takes over what an overlapping one had left to do.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as LogLevel from "effect/LogLevel"
import * as Context from "effect/Context"
import * as ServiceError from "../../ServiceError.js"
import { resolve, runsNoUserCode, type ServiceImpl } from "../service.js"
import { sleepMillis } from "../sleep.js"
import type { Policy } from "../supervisorPolicy.js"
import type { Entries, Entry, Job } from "./entries.js"
import type { Host } from "./host.js"
import { restartsHook } from "./metrics.js"

/** @internal */
export const startFailure = (error: ServiceError.ServiceError): Cause.Cause<unknown> =>
  error._tag === "StartFailed" ? error.cause : Cause.fail(error)

/** What a job plans. */
export interface JobPlan {
  readonly stop: ReadonlyArray<Entry>
  readonly drop: ReadonlyArray<Entry>
  readonly start: ReadonlyArray<Entry>
  readonly delay: number
}

/** @internal */
export class Jobs {
  private readonly jobs = new Set<Job>()

  constructor(
    private readonly host: Host,
    private readonly entries: Entries,
    private readonly policy: Policy,
    /** A restart failed, or a crash came while the slot was covered: handled as a crash. */
    private readonly crashed: (service: ServiceImpl, cause: Cause.Cause<unknown>) => Effect.Effect<void>
  ) {}

  /** The fibers of the jobs in flight (interrupted when the supervisor stops). */
  get fibers(): Array<Fiber.RuntimeFiber<unknown, unknown>> {
    const fibers: Array<Fiber.RuntimeFiber<unknown, unknown>> = []
    for (const job of this.jobs) if (job.fiber !== undefined) fibers.push(job.fiber)
    return fibers
  }

  /**
   * Forks a job. Jobs still pending on any of its entries are interrupted first and what
   * they had left to do is taken over.
   */
  schedule(plan: JobPlan): Effect.Effect<void> {
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
      if (overlapping.size === 0 && this.quick(job)) {
        const body = this.claim(job)
        return body === undefined ? Effect.void : body
      }
      const fibers = [...overlapping].flatMap((old) => old.fiber === undefined ? [] : [old.fiber])
      return (fibers.length === 0 ? Effect.void : Fiber.interruptAll(fibers)).pipe(
        Effect.zipRight(Effect.suspend(() => {
          const body = this.claim(job)
          if (body === undefined) return Effect.void
          return Effect.map(this.host.forkGuarded(this.host.run!, body, "supervisor-restart", "crash"), (fiber) => {
            job.fiber = fiber
          })
        }))
      )
    })
  }

  /**
   * Makes `job` the one that covers its slots and returns its work (which ends it), unless the
   * supervisor is no longer running.
   */
  private claim(job: Job): Effect.Effect<void> | undefined {
    const run = this.host.run
    if (run === undefined || run.closed || this.host.stopSignalled) return undefined
    for (const e of [...job.stop, ...job.start, ...job.drop]) e.job = job
    this.jobs.add(job)
    return Effect.ensuring(this.runJob(job), Effect.sync(() => this.endJob(job)))
  }

  /**
   * A job with no delay whose restarts run no user code (`runsNoUserCode`) and whose slots no
   * other job covers: it takes a few steps, so it runs on the supervisor's loop, at once,
   * instead of on a fiber of its own. Events that come meanwhile wait in the mailbox, and
   * are handled once it is over, as the events of a covered slot would be.
   */
  private quick(job: Job): boolean {
    if (job.delay > 0 || this.policy.replacement !== undefined) return false
    for (const e of job.stop) if (!runsNoUserCode(e.service)) return false
    for (const e of job.start) if (!runsNoUserCode(e.service)) return false
    return true
  }

  private endJob(job: Job): void {
    this.jobs.delete(job)
    for (const e of [...job.stop, ...job.start, ...job.drop]) if (e.job === job) e.job = undefined
  }

  /** Stops the job's slots (in reverse), drops the temporary ones, waits its delay, restarts the rest in order. */
  private runJob(job: Job): Effect.Effect<void> {
    return Effect.suspend(() =>
      Effect.zipRight(
        this.stopFrom(this.entries.ordered(job.stop).reverse(), 0, job),
        Effect.suspend(() => {
          for (const e of this.entries.ordered(job.drop)) {
            if (e.job === job) this.entries.release(e.service)
          }
          const restart = Effect.suspend(() => this.restartFrom(this.entries.ordered(job.start), 0, job))
          return job.delay > 0 ? Effect.zipRight(sleepMillis(job.delay), restart) : restart
        })
      )
    )
  }

  private stopFrom(list: ReadonlyArray<Entry>, from: number, job: Job): Effect.Effect<void> {
    let i = from
    while (i < list.length && (list[i]!.job !== job || list[i]!.removed)) i++
    if (i >= list.length) return Effect.void
    return Effect.flatMap(list[i]!.service.stop, () => this.stopFrom(list, i + 1, job))
  }

  private restartFrom(list: ReadonlyArray<Entry>, from: number, job: Job): Effect.Effect<void> {
    if (this.host.stopSignalled) return Effect.void
    let i = from
    // A slot taken out meanwhile (`discard`, or `insert` in its place) is not this job's any more.
    while (i < list.length && (list[i]!.job !== job || list[i]!.removed)) i++
    if (i >= list.length) return Effect.void
    return Effect.flatMap(this.restartEntry(list[i]!), (ok) => ok ? this.restartFrom(list, i + 1, job) : Effect.void)
  }

  /** Restarts (or replaces) one slot; false when that failed (it is then handled as a crash). */
  private restartEntry(entry: Entry): Effect.Effect<boolean> {
    if (this.policy.replacement === undefined) return Effect.suspend(() => this.restarted(entry, entry.service))
    const self = this
    return Effect.gen(function*() {
      const old = entry.service
      let service = old
      const replacement = self.policy.replacement
      if (replacement !== undefined) {
        const index = self.entries.list.indexOf(entry)
        const made = yield* Effect.exit(self.host.userCode(Effect.suspend(() => replacement(old, index))))
        if (Exit.isFailure(made)) {
          if (Cause.isInterruptedOnly(made.cause)) return yield* Effect.interrupt
          entry.job = undefined
          yield* self.host.log(LogLevel.Error, `Replacement of ${old.pathSync()} failed`, made.cause)
          yield* self.crashed(old, made.cause)
          return false
        }
        service = yield* resolve(made.value)
        if (service !== old) {
          self.entries.swap(entry, service)
          yield* self.host.log(LogLevel.Info, `Replaced ${old.pathSync()} with ${service.pathSync()} at index ${index}`)
        }
      }
      return yield* self.restarted(entry, service, old)
    })
  }

  /** Starts the slot's service again (`restart` of the same service, `maybeStart` of a replacement). */
  private restarted(entry: Entry, service: ServiceImpl, old: ServiceImpl = service): Effect.Effect<boolean> {
    const start = service === old
      ? Effect.catchTag(
        Effect.suspend(() => {
          service.restartBySupervisor = true
          return service.restart
        }),
        "AlreadyStarted",
        () => Effect.void
      )
      : Effect.asVoid(service.maybeStart)
    return Effect.matchCauseEffect(start, {
      onFailure: (cause) => {
        entry.job = undefined
        if (Cause.isInterruptedOnly(cause)) return Effect.interrupt
        // A restart that failed is a restart all the same (as restartCount and intensity count it).
        restartsHook(service.pathSync()).update(1)
        return Effect.as(this.crashed(service, Cause.isFailType(cause) ? startFailure(cause.error) : cause), false)
      },
      onSuccess: () =>
        Effect.withFiberRuntime<boolean>((fiber) => {
          entry.job = undefined
          entry.backoff?.restarted(Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeMillis())
          restartsHook(service.pathSync()).update(1)
          // A crash between its start and now was ignored while the slot was covered: look again.
          if (service.crashCause !== undefined) return Effect.as(this.crashed(service, service.crashCause), true)
          return Effect.succeed(true)
        })
    })
  }
}
