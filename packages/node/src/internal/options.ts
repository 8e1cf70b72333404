import * as Duration from "effect/Duration"
import * as LogLevel from "effect/LogLevel"
import { decodeDuration } from "@effect-mode/core/internal/duration"
import type * as Worker from "../Worker.js"
import { type Config as ObserverConfig, resolve as resolveObserver } from "./observer/options.js"

/** The options of `Worker.runMain` once checked, with their defaults and the environment applied. */
export interface Resolved {
  readonly shutdownTimeout: Duration.Duration
  readonly forceExitOnSecondSignal: boolean
  readonly dumpSignal: "SIGUSR2" | "SIGUSR1" | null
  readonly blockingTimeout: Duration.Duration | null
  /** Undefined: leave Effect's minimum level (Info) alone. */
  readonly logLevel: LogLevel.LogLevel | undefined
  readonly logFormat: Worker.LogFormat
  /** `host` undefined: Node's default, every interface. */
  readonly health: {
    readonly port: number
    readonly host: string | undefined
    readonly observer: ObserverConfig | undefined
  } | undefined
}

export const defaultShutdownTimeout = Duration.seconds(25)

const levelNames: Record<string, LogLevel.LogLevel> = {
  all: LogLevel.All,
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warning,
  warning: LogLevel.Warning,
  error: LogLevel.Error,
  fatal: LogLevel.Fatal,
  none: LogLevel.None,
  off: LogLevel.None
}

const formats: ReadonlyArray<Worker.LogFormat> = ["pretty", "json", "logfmt"]

const bad = (what: string, value: unknown, expected: string): TypeError =>
  new TypeError(`Invalid ${what}: ${JSON.stringify(String(value))} (expected ${expected})`)

export const decodeLogLevel = (input: unknown, what: string): LogLevel.LogLevel => {
  if (LogLevel.allLevels.includes(input as LogLevel.LogLevel)) return input as LogLevel.LogLevel
  const level = typeof input === "string" ? levelNames[input.trim().toLowerCase()] : undefined
  if (level === undefined) {
    throw bad(what, input, "one of All, Trace, Debug, Info, Warning, Error, Fatal, None; any case, or warn/off")
  }
  return level
}

export const decodeLogFormat = (input: unknown, what: string): Worker.LogFormat => {
  const format = typeof input === "string" ? input.trim().toLowerCase() : input
  if (!formats.includes(format as Worker.LogFormat)) throw bad(what, input, `one of ${formats.join(", ")}`)
  return format as Worker.LogFormat
}

const decodeHealth = (input: Worker.Options["health"]): Resolved["health"] => {
  if (input === undefined) return undefined
  const { host, port } = input
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw bad("health.port", port, "an integer from 0 to 65535; 0 picks a free port")
  }
  if (host !== undefined && (typeof host !== "string" || host.length === 0)) {
    throw bad("health.host", host, "a host name or address such as \"127.0.0.1\"")
  }
  return { port, host, observer: decodeObserver(input.observer) }
}

const decodeObserver = (input: NonNullable<Worker.Options["health"]>["observer"]): ObserverConfig | undefined => {
  if (input === undefined || input === false) return undefined
  if (input !== true && (typeof input !== "object" || input === null)) {
    throw bad("health.observer", input, "a boolean or the observer's options, such as { actions: { token } }")
  }
  return resolveObserver(input === true ? {} : input, "health.observer.")
}

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === "" ? undefined : value

/**
 * Checks the options of `runMain` (and `LOG_LEVEL` / `LOG_FORMAT` when the options leave
 * them out), throwing a `TypeError` that names the bad value.
 */
export const resolve = (options: Worker.Options, env: NodeJS.ProcessEnv): Resolved => {
  const dumpSignal = options.dumpSignal === undefined ? "SIGUSR2" : options.dumpSignal
  if (dumpSignal !== null && dumpSignal !== "SIGUSR2" && dumpSignal !== "SIGUSR1") {
    throw bad("dumpSignal", dumpSignal, "\"SIGUSR2\", \"SIGUSR1\" or null")
  }
  const force = options.forceExitOnSecondSignal ?? true
  if (typeof force !== "boolean") throw bad("forceExitOnSecondSignal", force, "a boolean")
  const envLevel = nonEmpty(env["LOG_LEVEL"])
  const envFormat = nonEmpty(env["LOG_FORMAT"])
  return {
    shutdownTimeout: options.shutdownTimeout === undefined
      ? defaultShutdownTimeout
      : decodeDuration(options.shutdownTimeout, "shutdownTimeout of Worker.runMain"),
    forceExitOnSecondSignal: force,
    dumpSignal,
    blockingTimeout: options.blockingTimeout === undefined || options.blockingTimeout === null
      ? null
      : positive(decodeDuration(options.blockingTimeout, "blockingTimeout of Worker.runMain"), "blockingTimeout"),
    logLevel: options.logLevel !== undefined
      ? decodeLogLevel(options.logLevel, "logLevel of Worker.runMain")
      : envLevel !== undefined
      ? decodeLogLevel(envLevel, "LOG_LEVEL environment variable")
      : undefined,
    logFormat: options.logFormat !== undefined
      ? decodeLogFormat(options.logFormat, "logFormat of Worker.runMain")
      : envFormat !== undefined
      ? decodeLogFormat(envFormat, "LOG_FORMAT environment variable")
      : "pretty",
    health: decodeHealth(options.health)
  }
}

const positive = (duration: Duration.Duration, what: string): Duration.Duration => {
  if (Duration.toMillis(duration) <= 0) throw bad(what, Duration.format(duration), "a duration above zero")
  return duration
}
