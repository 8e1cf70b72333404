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
import * as Metric from "effect/Metric"
import * as ServiceError from "../../ServiceError.js"
import { asImpl, type ServiceImpl } from "../service.js"
import { boundedLabel } from "../service/metrics.js"
import { sleepMillis } from "../sleep.js"
import type { Policy } from "../supervisorPolicy.js"
import type { Entries, Entry, Job } from "./entries.js"
import type { Host } from "./host.js"
import { restarts } from "./metrics.js"

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
      const fibers = [...overlapping].flatMap((old) => old.fiber === undefined ? [] : [old.fiber])
      return Fiber.interruptAll(fibers).pipe(
        Effect.zipRight(Effect.suspend(() => {
          const run = this.host.run
          if (run === undefined || run.closed || this.host.stopSignalled) return Effect.void
          for (const e of [...job.stop, ...job.start, ...job.drop]) e.job = job
          this.jobs.add(job)
          const body = this.runJob(job).pipe(Effect.ensuring(Effect.sync(() => this.endJob(job))))
          return Effect.map(
            this.host.forkIn(run, this.host.guard(body, "supervisor-restart", "crash"), "supervisor-restart"),
            (fiber) => {
              job.fiber = fiber
            }
          )
        }))
      )
    })
  }

  private endJob(job: Job): void {
    this.jobs.delete(job)
    for (const e of [...job.stop, ...job.start, ...job.drop]) if (e.job === job) e.job = undefined
  }

  private runJob(job: Job): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      for (const e of self.entries.ordered(job.stop).reverse()) {
        if (e.job === job) yield* e.service.stop
      }
      for (const e of self.entries.ordered(job.drop)) {
        if (e.job === job) self.entries.release(e.service)
      }
      if (job.delay > 0) yield* sleepMillis(job.delay)
      for (const e of self.entries.ordered(job.start)) {
        if (self.host.stopSignalled) return
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
        service = asImpl(made.value)
        if (service !== old) {
          self.entries.swap(entry, service)
          yield* self.host.log(LogLevel.Info, `Replaced ${old.pathSync()} with ${service.pathSync()} at index ${index}`)
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
        yield* self.crashed(service, cause)
        return false
      }
      const now = yield* Clock.currentTimeMillis
      entry.backoff?.restarted(now)
      yield* Metric.increment(
        Metric.tagged(restarts, "service", boundedLabel("effect_mode_supervisor_restarts", service.pathSync()))
      )
      // A crash between its start and now was ignored while the slot was covered: look again.
      if (service.crashCause !== undefined) yield* self.crashed(service, service.crashCause)
      return true
    })
  }
}
