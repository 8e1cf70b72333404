/**
 * Checks the options of `Worker.runMain` (and the `LOG_LEVEL` / `LOG_FORMAT` variables)
 * and applies their defaults. Every bad value throws a `TypeError` naming the option and
 * the value, at the call of `runMain`.
 */
import * as Duration from "effect/Duration"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import type { ServiceGraph } from "@effect-mode/core"
import type * as Worker from "../Worker.js"
import { checkKeys, type Config as ObserverConfig, resolve as resolveObserver } from "./observer/options.js"

/** Which services `/readyz` follows, once checked: a function giving the reasons not to be ready. */
export type ReadinessPolicy = (services: ReadonlyArray<ServiceGraph.Snapshot>) => ReadonlyArray<string>

/** The options of `Worker.runMain` once checked, with their defaults and the environment applied. */
export interface Resolved {
  readonly shutdownTimeout: Duration.Duration
  readonly shutdownGrace: Duration.Duration
  readonly forceExitOnSecondSignal: boolean
  readonly dumpSignal: "SIGUSR2" | "SIGUSR1" | null
  readonly blockingTimeout: Duration.Duration | null
  /** Undefined: leave Effect's minimum level (Info) alone. */
  readonly logLevel: LogLevel.LogLevel | undefined
  readonly logFormat: Worker.LogFormat
  readonly health: ResolvedHealth | undefined
}

export interface ResolvedHealth {
  /** `host` undefined: Node's default, every interface. */
  readonly port: number
  readonly host: string | undefined
  readonly readiness: ReadinessPolicy
  readonly readinessName: string
  readonly observer: ObserverConfig | undefined
}

export const defaultShutdownTimeout = Duration.seconds(25)
export const defaultShutdownGrace = Duration.seconds(2)

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

const show = (value: unknown): string => {
  if (value === null) return "null"
  if (Array.isArray(value)) return `[${value.map(show).join(", ")}]`
  if (typeof value === "object") return "an object"
  if (typeof value === "function") return "a function"
  return JSON.stringify(String(value))
}

const bad = (what: string, value: unknown, expected: string): TypeError =>
  new TypeError(`Invalid ${what}: ${show(value)} (expected ${expected})`)

const isNegativeOrNaN = (n: unknown): boolean =>
  (typeof n === "number" && (n < 0 || Number.isNaN(n))) || (typeof n === "bigint" && n < 0n)

/**
 * A user's `DurationInput` through Effect's own decoder, refusing what it would silently
 * clamp to zero (negative numbers, negative tuples and strings such as "-5 seconds").
 */
const decodeDuration = (input: unknown, what: string, options: { readonly aboveZero: boolean }): Duration.Duration => {
  const negative = isNegativeOrNaN(input) ||
    (typeof input === "string" && /^\s*-/.test(input)) ||
    (Array.isArray(input) && input.some(isNegativeOrNaN))
  const decoded = negative ? Option.none() : Duration.decodeUnknown(input)
  const expected = options.aboveZero
    ? "a duration above zero such as \"5 seconds\" or 5000 (millis)"
    : "a duration such as \"5 seconds\" or 5000 (millis)"
  if (Option.isNone(decoded)) throw bad(what, input, expected)
  if (options.aboveZero && Duration.toMillis(decoded.value) <= 0) throw bad(what, input, expected)
  return decoded.value
}

/** `duration`, refused below `millis` (a stall detector at a microsecond would warn at every turn). */
const atLeast = (duration: Duration.Duration, input: unknown, what: string, millis: number): Duration.Duration => {
  if (Duration.toMillis(duration) < millis) throw bad(what, input, `a duration of at least ${millis} millis, such as "200 millis"`)
  return duration
}

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

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** An object literal's kind (a promise, a class instance or a service handle is not options). */
const isPlainObject = (u: unknown): u is Record<string, unknown> => {
  if (!isObject(u)) return false
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

/** The options `Worker.runMain` knows. */
const optionNames: ReadonlyArray<string> = [
  "shutdownTimeout",
  "shutdownGrace",
  "forceExitOnSecondSignal",
  "dumpSignal",
  "blockingTimeout",
  "logLevel",
  "logFormat",
  "health"
]

const healthNames: ReadonlyArray<string> = ["port", "host", "readiness", "observer"]

const unsettled = (s: ServiceGraph.Snapshot): boolean =>
  s.state === "starting" || s.state === "stopping" || s.state === "crashed" || s.state === "init"

/** "all": every service of every tree; "roots": the top services only. */
const policies: Record<"all" | "roots", ReadinessPolicy> = {
  all: (roots) => {
    const out: Array<string> = []
    const walk = (s: ServiceGraph.Snapshot) => {
      if (unsettled(s)) out.push(`${s.path} (${s.state})`)
      for (const c of s.children) walk(c)
    }
    for (const r of roots) walk(r)
    return out
  },
  roots: (roots) => roots.filter((r) => r.state !== "running").map((r) => `${r.path} (${r.state})`)
}

const decodeHealth = (input: unknown): ResolvedHealth | undefined => {
  if (input === undefined) return undefined
  if (!isObject(input)) throw bad("health", input, "an object such as { port: 9090 }, or leave it out")
  checkKeys(input, healthNames, "health")
  const { host, port, readiness } = input
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw bad("health.port", port, "an integer from 0 to 65535; 0 picks a free port")
  }
  if (host !== undefined && (typeof host !== "string" || host.trim().length === 0)) {
    throw bad("health.host", host, "a host name or address such as \"127.0.0.1\"")
  }
  const observer = decodeObserver(input.observer as NonNullable<Worker.Options["health"]>["observer"])
  const policy = readiness ?? "all"
  if (typeof policy === "function") {
    return { port, host, readiness: policy as ReadinessPolicy, readinessName: "custom", observer }
  }
  if (policy !== "all" && policy !== "roots") {
    throw bad("health.readiness", policy, "\"all\", \"roots\" or a function of the snapshots returning the reasons")
  }
  return { port, host, readiness: policies[policy], readinessName: policy, observer }
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
export const resolve = (input: unknown, env: NodeJS.ProcessEnv): Resolved => {
  if (input !== undefined && !isPlainObject(input)) {
    throw bad("options of Worker.runMain", input, "an object such as { shutdownTimeout: \"20 seconds\" }, or none")
  }
  const options: Worker.Options = input ?? {}
  checkKeys(options, optionNames, "Worker.runMain")
  const dumpSignal = options.dumpSignal === undefined ? "SIGUSR2" : options.dumpSignal
  if (dumpSignal !== null && dumpSignal !== "SIGUSR2" && dumpSignal !== "SIGUSR1") {
    throw bad("dumpSignal", dumpSignal, "\"SIGUSR2\", \"SIGUSR1\" or null")
  }
  const force = options.forceExitOnSecondSignal === undefined ? true : options.forceExitOnSecondSignal
  if (typeof force !== "boolean") throw bad("forceExitOnSecondSignal", force, "a boolean")
  const envLevel = nonEmpty(env["LOG_LEVEL"])
  const envFormat = nonEmpty(env["LOG_FORMAT"])
  return {
    shutdownTimeout: options.shutdownTimeout === undefined
      ? defaultShutdownTimeout
      : decodeDuration(options.shutdownTimeout, "shutdownTimeout of Worker.runMain", { aboveZero: true }),
    shutdownGrace: options.shutdownGrace === undefined
      ? defaultShutdownGrace
      : decodeDuration(options.shutdownGrace, "shutdownGrace of Worker.runMain", { aboveZero: false }),
    forceExitOnSecondSignal: force,
    dumpSignal,
    blockingTimeout: options.blockingTimeout === undefined || options.blockingTimeout === null
      ? null
      : atLeast(
        decodeDuration(options.blockingTimeout, "blockingTimeout of Worker.runMain", { aboveZero: true }),
        options.blockingTimeout,
        "blockingTimeout of Worker.runMain",
        10
      ),
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
