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
  readonly runtimeChildren = new Set<ServiceImpl>()
  /** Timers and crontabs registered with the timer scheduler, cancelled by the run's teardown. */
  readonly scheduled = new Set<ScheduledTask>()
  scope: Scope.CloseableScope | undefined = undefined
  closed = false
  nextFutureId = 1

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
