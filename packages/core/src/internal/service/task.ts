/**
 * The one task constructor behind `Service.task`, `Service.timer` and `Service.crontab`: the
 * same validation for all three (the function, `name`, `onError`, failing when declared), and
 * an explicit name: a task runs under its declared name, else `task-N` (its position among the
 * service's tasks), which the fork hands to the task instead of the task reading it back from
 * a log annotation.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import type * as Service from "../../Service.js"
import type { Run } from "../run.js"
import type { ServiceImpl } from "./impl.js"
import { checkOptions, show } from "../options.js"
import type { TaskRefs } from "./taskRefs.js"

/**
 * A task that is told the name it runs under.
 *
 * @internal
 */
export interface NamedTask<E, R> extends Service.Task<E, R> {
  readonly runAs: (self: Service.Service, name: string) => Effect.Effect<void, E, R>
  /**
   * A task that waits on the timer scheduler between its calls (a timer, a crontab) can be
   * started with no fiber of its own: registered from `fiber`, the fiber starting the service
   * (uninterruptible), its ticks running with the refs `refs` makes (what its fiber would have
   * inherited).
   */
  readonly scheduleOn?: ScheduleOn
}

/** @internal */
export type ScheduleOn = (
  self: ServiceImpl,
  run: Run,
  name: string,
  onError: "crash" | "log",
  refs: TaskRefs,
  fiber: Fiber.RuntimeFiber<unknown, unknown>
) => Effect.Effect<void>

/** The declared name: `options.name`, else the function's own name. */
export const declaredName = (name: unknown, fn: { readonly name: string }): string | undefined => {
  if (name !== undefined && (typeof name !== "string" || name.length === 0)) {
    throw new TypeError(`Invalid task name: ${JSON.stringify(String(name))} is not a non-empty string`)
  }
  return name ?? (fn.name === "" ? undefined : fn.name)
}

/** @internal */
export const decodeOnError = (onError: unknown, what: string): "crash" | "log" => {
  if (onError === undefined) return "crash"
  if (onError === "crash" || onError === "log") return onError
  throw new TypeError(`Invalid onError of ${what}: ${JSON.stringify(onError)} (expected "crash" or "log")`)
}

/** @internal */
export const checkFunction = (fn: unknown, what: string): void => {
  if (typeof fn !== "function") {
    throw new TypeError(`Invalid function of ${what}: ${show(fn)} is not a function`)
  }
}

/** The name a task declared without one runs under. */
export const defaultName = (index: number): string => `task-${index + 1}`

/**
 * Makes a task. `what` names it in error messages (`"Service.timer"`); `fallback` is the name
 * it runs under when its `run` is called outside a service's fork.
 *
 * @internal
 */
export const make = <E, R>(
  what: string,
  fallback: string,
  fn: (self: Service.Service) => Effect.Effect<void, E, R>,
  options: Service.TaskOptions,
  body: (self: Service.Service, name: string, onError: "crash" | "log") => Effect.Effect<void, E, R>,
  scheduleOn?: ScheduleOn
): NamedTask<E, R> => {
  checkFunction(fn, what)
  const declared = declaredName(options.name, fn)
  const onError = decodeOnError(options.onError, declared === undefined ? what : `${what} ${declared}`)
  return {
    _tag: "Task",
    name: declared,
    onError,
    run: (self) => body(self, declared ?? fallback, onError),
    runAs: (self, name) => body(self, name, onError),
    ...(scheduleOn === undefined ? {} : { scheduleOn })
  }
}

/** Runs `task` under `name` (told to it when it can be told). */
export const runAs = <E, R>(task: Service.Task<E, R>, self: Service.Service, name: string): Effect.Effect<void, E, R> =>
  "runAs" in task && typeof (task as NamedTask<E, R>).runAs === "function"
    ? (task as NamedTask<E, R>).runAs(self, name)
    : task.run(self)

/** `Service.task`. */
export const task = <E, R>(
  fn: (self: Service.Service) => Effect.Effect<void, E, R>,
  options?: Service.TaskOptions
): Service.Task<E, R> =>
  make("Service.task", "task", fn, checkOptions(options, "Service.task", ["name", "onError"]), (self) => fn(self))
