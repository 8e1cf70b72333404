import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"

export interface Captured {
  readonly level: string
  readonly message: string
  readonly annotations: Record<string, unknown>
  readonly cause: string
}

/** Runs `self` with a logger that records every line (tests have no logger by default). */
export const captureLogs = <A, E, R>(self: Effect.Effect<A, E, R>, lines: Array<Captured>): Effect.Effect<A, E, R> => {
  const logger = Logger.make(({ annotations, cause, logLevel, message }) => {
    const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
    const ann: Record<string, unknown> = {}
    for (const [k, v] of annotations) ann[k] = v
    lines.push({ level: logLevel.label, message: text, annotations: ann, cause: String(cause) })
  })
  return self.pipe(
    Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
    Logger.withMinimumLogLevel(LogLevel.All)
  )
}
