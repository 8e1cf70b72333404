/**
 * Run: what one start of a service owns until the matching stop (its task and future
 * fibers, the scope of its contexts and finalizers, its runtime children), and the lines
 * that describe its live fibers.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import type { ServiceImpl } from "./service.js"

/** One live task of a run, as the dump and `tracebacks` show it: its status, age and span chain in `text`. */
export interface TaskLine {
  readonly name: string
  /** The id of its fiber (of the fiber that registered it, for a timer waiting on the scheduler). */
  readonly id: number
  readonly text: string
}

interface TaskInfo {
  readonly name: string
  readonly startedAt: number
}

/**
 * A timer or crontab of the run waiting on the timer scheduler: a task with no fiber between
 * its ticks (internal/scheduledTask.ts), listed with the id of the task fiber that registered it.
 */
export interface ScheduledTask extends TaskInfo {
  readonly fiberId: number
  /** Whether it waits for a tick now (false while a tick's fiber, listed itself, runs). */
  readonly pending: boolean
}

/**
 * What one start of a service owns until the matching stop: its task and future fibers,
 * the scope of its contexts and finalizers (made on first use), and the children added
 * with `addRuntimeDependency`. One plain list of fibers per run, interrupted all at once,
 * costs less than a scope finalizer per fiber.
 */
export class Run {
  // Made on first use: most runs have no runtime child, many no timer, some no task fiber.
  private live: Array<Entry> | undefined = undefined
  private pruneAt = PRUNE_MIN
  private children: Set<ServiceImpl> | undefined = undefined
  private timers: Array<ScheduledTask> | undefined = undefined
  scope: Scope.CloseableScope | undefined = undefined
  closed = false
  nextFutureId = 1
  /** The start is past its children (in `onStarted`): it holds none of them any more. */
  childrenStarted = false

  /** The children added with `addRuntimeDependency`. */
  get runtimeChildren(): ReadonlySet<ServiceImpl> {
    return this.children ?? none
  }
  addRuntimeChild(child: ServiceImpl): void {
    ;(this.children ??= new Set()).add(child)
  }
  deleteRuntimeChild(child: ServiceImpl): void {
    this.children?.delete(child)
  }
  /** The runtime children, forgotten by the run. */
  takeRuntimeChildren(): Array<ServiceImpl> {
    const children = this.children === undefined ? [] : Array.from(this.children)
    this.children = undefined
    return children
  }

  /** Timers and crontabs registered with the timer scheduler, cancelled by the run's teardown. */
  get scheduled(): ReadonlyArray<ScheduledTask> {
    return this.timers ?? noTimers
  }
  addScheduled(task: ScheduledTask): void {
    // A literal holds one slot; an empty array or a set would take room for more at once.
    if (this.timers === undefined) this.timers = [task]
    else this.timers.push(task)
  }
  /** The timers and crontabs, forgotten by the run. */
  takeScheduled(): Array<ScheduledTask> {
    const timers = this.timers ?? []
    this.timers = undefined
    return timers
  }

  /**
   * Adds a fiber that lives as long as the run, or nearly (a task started with it). It has no
   * observer of its own (a closure per fiber): the list drops ended fibers when it has doubled
   * since the last time, and whenever it is read, so it holds at most twice the live fibers.
   */
  add(fiber: Fiber.RuntimeFiber<any, any>, name: string, startedAt: number): void {
    this.push(new Entry(fiber, name, startedAt))
  }

  /**
   * Adds a fiber that may end long before the run (a future, a timer's tick): when it ends,
   * the list lets go of it at once, so that it is not kept alive (and promoted to the old
   * generation) by the run until the next pruning.
   */
  addShortLived(fiber: Fiber.RuntimeFiber<any, any>, name: string, startedAt: number): void {
    const entry = new Entry(fiber, name, startedAt)
    this.push(entry)
    fiber.addObserver(() => {
      entry.fiber = undefined
    })
  }

  private push(entry: Entry): void {
    const live = this.live
    // A literal holds one slot; an empty array would take room for 17 at its first push.
    if (live === undefined) return void (this.live = [entry])
    if (live.length >= this.pruneAt) this.pruneAt = Math.max(PRUNE_MIN, 2 * prune(live))
    live.push(entry)
  }

  /** The fibers of the run that have not ended, with their names and start instants. */
  get fibers(): ReadonlyArray<LiveFiber> {
    const live = this.live
    if (live === undefined) return noFibers
    prune(live)
    return live as ReadonlyArray<LiveFiber>
  }

  /**
   * Interrupts every fiber of the run first, then waits for them all to end: `Fiber.interruptAll`
   * without its generator (a run usually has one fiber or two), and without `fiber.await`'s
   * message to each fiber and canceler (`ended`).
   */
  get interruptAll(): Effect.Effect<void> {
    return Effect.withFiberRuntime((self) => {
      const live = this.fibers
      const id = self.id()
      for (let i = 0; i < live.length; i++) live[i]!.fiber.unsafeInterruptAsFork(id)
      if (live.length === 1) return ended(live[0]!.fiber)
      const fibers = live.map((entry) => entry.fiber)
      return Effect.forEach(fibers, ended, { discard: true })
    })
  }

  /** One line per live fiber: name, status, age and span chain (suspended fibers have no stack). */
  describe(now: number): Effect.Effect<Array<TaskLine>> {
    return Effect.map(
      Effect.forEach(this.fibers.slice(), (live): Effect.Effect<TaskLine> =>
        Effect.map(live.fiber.status, (status) => ({
          name: live.name,
          id: live.fiber.id().id,
          text: describeFiber(status._tag, live, now)
        }))),
      (lines) => {
        for (const task of this.scheduled) {
          if (task.pending) {
            lines.push({
              name: task.name,
              id: task.fiberId,
              text: `status=Scheduled age=${formatAge(Math.max(0, now - task.startedAt))}`
            })
          }
        }
        return lines
      }
    )
  }
}

const none: ReadonlySet<never> = new Set<never>()
const noFibers: ReadonlyArray<never> = []
const noTimers: ReadonlyArray<never> = []
const PRUNE_MIN = 8

/** A fiber of a run that has not ended, with what describes it. */
export interface LiveFiber extends TaskInfo {
  readonly fiber: Fiber.RuntimeFiber<unknown, unknown>
}

/** An entry of the run's list: its fiber is let go of when a short-lived one ends. */
class Entry implements TaskInfo {
  constructor(public fiber: Fiber.RuntimeFiber<unknown, unknown> | undefined, readonly name: string, readonly startedAt: number) {}
}

/**
 * Waits for `fiber` to end, through an observer of its own. `fiber.await` also tells the fiber
 * a message to add its observer (which the fiber, suspended, must be scheduled to read) and
 * wraps the wait with a canceler that tells it another; both are written into a fiber that is
 * about to end, and a stop waits on every task fiber of the tree. Interrupted meanwhile, the
 * wait ends and the observer, left on the fiber, is called once it ends, for nothing.
 */
const ended = (fiber: Fiber.RuntimeFiber<unknown, unknown>): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    fiber.addObserver(() => resume(Effect.void))
  })

/** Drops the ended fibers from `live`, in place, keeping the order; returns how many are left. */
const prune = (live: Array<Entry>): number => {
  let kept = 0
  for (let i = 0; i < live.length; i++) {
    const entry = live[i]!
    if (entry.fiber !== undefined && entry.fiber.unsafePoll() === null) live[kept++] = entry
  }
  live.length = kept
  return kept
}

const spanChain = (fiber: Fiber.RuntimeFiber<unknown, unknown>): Array<string> => {
  const names: Array<string> = []
  let span = fiber.currentSpan
  while (span !== undefined) {
    if (span._tag === "Span") {
      names.push(span.name)
      span = span.parent._tag === "Some" ? span.parent.value : undefined
    } else {
      names.push(`external:${span.spanId}`)
      span = undefined
    }
  }
  return names
}

const formatAge = (millis: number): string =>
  millis < 1000 ? `${millis}ms` : millis < 60_000 ? `${(millis / 1000).toFixed(1)}s` : `${(millis / 60_000).toFixed(1)}m`

const describeFiber = (status: string, live: LiveFiber, now: number): string => {
  const spans = spanChain(live.fiber)
  return `status=${status} age=${formatAge(Math.max(0, now - live.startedAt))}` +
    (spans.length > 0 ? ` spans=${spans.join(" < ")}` : "")
}

export { formatAge }
