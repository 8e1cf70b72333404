/**
 * Checks and decodes what a service is declared with (its label and options), once, when it
 * is declared: bad input fails there with a message that names the option and the value.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import type * as Service from "../../Service.js"
import { decodeDuration, decodePositiveDuration } from "../duration.js"

const defaultShutdownTimeout = Duration.seconds(60)

/** The options of a service, decoded. */
export interface Decoded {
  readonly stopTimeout: Duration.Duration | undefined
  readonly shutdownTimeout: Duration.Duration
}

/**
 * A label is one segment of a path ("App/Consumer"): not empty, without "/".
 *
 * @internal
 */
export const checkLabel = (label: unknown, what: string): string => {
  if (typeof label !== "string" || label.length === 0 || label.includes("/")) {
    throw new TypeError(
      `Invalid label of ${what}: ${JSON.stringify(String(label))} (a label is a non-empty string without "/")`
    )
  }
  return label
}

/** The options of a service declared with neither timeout: one object for all of them. */
const defaults: Decoded = { stopTimeout: undefined, shutdownTimeout: defaultShutdownTimeout }

/** The hook options of a service, in the order of mode's lifecycle. */
export const hookNames = ["onFirstStart", "onStart", "onStarted", "onStop", "onShutdown", "onRestart"] as const

/** Every option of `Service.make`: another key is a slip (`stopTimout`), refused naming it. */
export const optionNames: ReadonlyArray<string> = [
  ...hookNames,
  "tasks",
  "dependencies",
  "waitForShutdown",
  "shutdownTimeout",
  "stopTimeout",
  "mundaneLevel"
]

const invalid = (option: string, label: string, value: unknown, expected: string): TypeError =>
  new TypeError(`Invalid ${option} of service ${label}: ${JSON.stringify(String(value))} (expected ${expected})`)

/**
 * The options besides the durations: each hook a function, `tasks` a list of tasks, the
 * flags of their kind; `dependencies` a function unless `layers` (a `Service.Tag`'s are layers).
 */
const checkKinds = (label: string, options: Record<string, unknown>, layers: boolean): void => {
  for (const name of hookNames) {
    const hook = options[name]
    if (hook !== undefined && typeof hook !== "function") throw invalid(name, label, hook, "a function (self) => Effect")
  }
  const tasks = options["tasks"]
  if (tasks !== undefined) {
    if (!Array.isArray(tasks)) throw invalid("tasks", label, tasks, "an array of Service.task, Service.timer or Service.crontab")
    tasks.forEach((task: unknown, i) => {
      const ok = typeof task === "object" && task !== null && (task as { _tag?: unknown })._tag === "Task" &&
        typeof (task as { run?: unknown }).run === "function"
      if (!ok) throw invalid(`tasks[${i}]`, label, task, "a Service.task, Service.timer or Service.crontab")
    })
  }
  const level = options["mundaneLevel"]
  if (level !== undefined && level !== "info" && level !== "debug") throw invalid("mundaneLevel", label, level, "\"info\" or \"debug\"")
  const wait = options["waitForShutdown"]
  if (wait !== undefined && typeof wait !== "boolean") throw invalid("waitForShutdown", label, wait, "true or false")
  const deps = options["dependencies"]
  if (!layers && deps !== undefined && typeof deps !== "function") {
    throw invalid("dependencies", label, deps, "a function (self) => Effect<Iterable<Service>>")
  }
}

/** @internal */
export const decodeServiceOptions = (
  label: string,
  options: {
    readonly stopTimeout?: Service.Options<any, any>["stopTimeout"] | undefined
    readonly shutdownTimeout?: Service.Options<any, any>["shutdownTimeout"] | undefined
  },
  layers = false
): Decoded => {
  checkLabel(label, "service")
  checkKinds(label, options as Record<string, unknown>, layers)
  if (options.stopTimeout === undefined && options.shutdownTimeout === undefined) return defaults
  return {
    stopTimeout: options.stopTimeout === undefined
      ? undefined
      : decodePositiveDuration(options.stopTimeout, `stopTimeout of service ${label}`),
    shutdownTimeout: options.shutdownTimeout === undefined
      ? defaultShutdownTimeout
      : decodeDuration(options.shutdownTimeout, `shutdownTimeout of service ${label}`)
  }
}
