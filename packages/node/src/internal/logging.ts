import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
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
      return Logger.prettyLogger()
  }
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
