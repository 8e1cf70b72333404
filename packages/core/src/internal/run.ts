/**
 * Run: what one start of a service owns until the matching stop (its task and future
 * fibers, the scope of its contexts and finalizers, its runtime children), and the lines
 * that describe its live fibers.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import type { ServiceImpl } from "./service.js"

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
 * with `addRuntimeDependency`. One plain set of fibers per run, interrupted all at once,
 * costs less than a scope finalizer per fiber.
 */
export class Run {
  readonly fibers = new Map<Fiber.RuntimeFiber<unknown, unknown>, TaskInfo>()
  // The sets below are made on first use: most runs have no runtime child, many no timer.
  private children: Set<ServiceImpl> | undefined = undefined
  private timers: Set<ScheduledTask> | undefined = undefined
  scope: Scope.CloseableScope | undefined = undefined
  closed = false
  nextFutureId = 1

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
  get scheduled(): ReadonlySet<ScheduledTask> {
    return this.timers ?? none
  }
  addScheduled(task: ScheduledTask): void {
    ;(this.timers ??= new Set()).add(task)
  }
  /** The timers and crontabs, forgotten by the run. */
  takeScheduled(): Array<ScheduledTask> {
    const timers = this.timers === undefined ? [] : Array.from(this.timers)
    this.timers = undefined
    return timers
  }

  add(fiber: Fiber.RuntimeFiber<any, any>, name: string, startedAt: number): void {
    this.fibers.set(fiber, { name, startedAt })
    fiber.addObserver(() => {
      this.fibers.delete(fiber)
    })
  }

  /** Interrupts every fiber of the run first, then awaits them all. */
  get interruptAll(): Effect.Effect<void> {
    return Effect.suspend(() => Fiber.interruptAll(Array.from(this.fibers.keys())))
  }

  /** One line per live fiber: name, status, age and span chain (suspended fibers have no stack). */
  describe(now: number): Effect.Effect<Array<readonly [string, string]>> {
    return Effect.map(
      Effect.forEach(Array.from(this.fibers), ([fiber, info]) =>
        Effect.map(fiber.status, (status) => [`${info.name} #${fiber.id().id}`, describeFiber(fiber, status._tag, info, now)] as const)),
      (lines) => {
        for (const task of this.scheduled) {
          if (task.pending) {
            lines.push([`${task.name} #${task.fiberId}`, `status=Scheduled age=${formatAge(Math.max(0, now - task.startedAt))}`])
          }
        }
        return lines
      }
    )
  }
}

const none: ReadonlySet<never> = new Set<never>()

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

const describeFiber = (fiber: Fiber.RuntimeFiber<unknown, unknown>, status: string, info: TaskInfo, now: number): string => {
  const spans = spanChain(fiber)
  return `status=${status} age=${formatAge(Math.max(0, now - info.startedAt))}` +
    (spans.length > 0 ? ` spans=${spans.join(" < ")}` : "")
}

export { formatAge }
