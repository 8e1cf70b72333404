import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import * as HashMap from "effect/HashMap"
import * as HashSet from "effect/HashSet"
import * as Logger from "effect/Logger"
import type * as LogLevel from "effect/LogLevel"
import type * as Worker from "../Worker.js"

const formatted = (format: Worker.LogFormat): Logger.Logger<unknown, void> => {
  switch (format) {
    case "json":
      return Logger.withConsoleLog(Logger.jsonLogger)
    case "logfmt":
      return Logger.withConsoleLog(Logger.logfmtLogger)
    case "pretty":
      return Logger.mapInputOptions(Logger.prettyLogger(), withModePrefix)
  }
}

/**
 * The pretty format says who logged the way mode does, `[^--Consumer]: message` (one dash
 * per level below the root), instead of two annotation lines under every message. The
 * structured formats keep the `service` and `servicePath` annotations as they are.
 */
const withModePrefix = (options: Logger.Logger.Options<unknown>): Logger.Logger.Options<unknown> => {
  const label = HashMap.get(options.annotations, "service")
  const path = HashMap.get(options.annotations, "servicePath")
  if (label._tag === "None" || path._tag === "None") return options
  const annotations = HashMap.remove(HashMap.remove(options.annotations, "service"), "servicePath")
  const parts = Array.isArray(options.message) ? options.message : [options.message]
  const first = parts[0]
  if (typeof first === "string" && first.startsWith("[^")) return { ...options, annotations }
  const depth = String(path.value).split("/").length
  const prefix = `[^${"-".repeat(depth - 1)}${String(label.value)}]:`
  const message = typeof first === "string" ? [`${prefix} ${first}`, ...parts.slice(1)] : [prefix, ...parts]
  return { ...options, annotations, message: message.length === 1 ? message[0] : message }
}

/**
 * The Worker's console logger, in `format`. It steps aside (writes nothing) in any fiber
 * whose loggers include one it does not know: a user who installs a logger of their own
 * (`Logger.json`, `Logger.replace(Logger.defaultLogger, mine)`, ...) in the root layer
 * gets exactly their logging, not ours as well. Effect's tracer logger does not count.
 */
export const consoleLogger = (format: Worker.LogFormat): Logger.Logger<unknown, void> => {
  const inner = formatted(format)
  const self: Logger.Logger<unknown, void> = Logger.make((options) => {
    const loggers = FiberRefs.getOrDefault(options.context, FiberRef.currentLoggers)
    for (const logger of loggers) {
      if (logger !== self && logger !== Logger.tracerLogger) return
    }
    inner.log(options)
  })
  return self
}

/**
 * Runs `self` with the Worker's logging: Effect's default logger (only that one) replaced
 * by the console logger in `format`, and the minimum level set when one was asked for.
 */
export const withLogging = (format: Worker.LogFormat, level: LogLevel.LogLevel | undefined) =>
<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const logger = consoleLogger(format)
  const logged = Effect.locallyWith(self, FiberRef.currentLoggers, (loggers) =>
    HashSet.has(loggers, Logger.defaultLogger)
      ? HashSet.add(HashSet.remove(loggers, Logger.defaultLogger), logger)
      : loggers)
  return level === undefined ? logged : Effect.locally(logged, FiberRef.currentMinimumLogLevel, level)
}
