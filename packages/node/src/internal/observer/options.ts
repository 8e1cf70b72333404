/**
 * The observer's options checked once, when declared: a bad value throws a `TypeError`
 * naming the option and the value; the defaults applied.
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import type * as Observer from "../../Observer.js"

export interface Config {
  /** null: actions are off (every action request is answered 403). */
  readonly actions: { readonly token: string } | null
  readonly intervalMillis: number
  readonly maxClients: number
  readonly maxBuffered: number
  readonly feedSize: number
  /** false: only loopback clients get an answer other than 403. */
  readonly allowRemote: boolean
}

export interface ServerConfig extends Config {
  readonly port: number
  readonly host: string
}

const bad = (what: string, value: unknown, expected: string): TypeError =>
  new TypeError(`Invalid ${what}: ${JSON.stringify(String(value))} (expected ${expected})`)

const count = (what: string, value: number | undefined, fallback: number, min: number): number => {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < min) throw bad(what, value, `an integer of at least ${min}`)
  return value
}

const flag = (what: string, value: boolean | undefined): boolean => {
  if (value !== undefined && typeof value !== "boolean") throw bad(what, value, "a boolean")
  return value ?? false
}

/** Refuses a key of `input` not in `known`, naming it, where it was given and the known ones. */
export const checkKeys = (input: object, known: ReadonlyArray<string>, where: string): void => {
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) {
      throw new TypeError(`Unknown option ${JSON.stringify(key)} of ${where} (known: ${known.join(", ")})`)
    }
  }
}

const optionNames: ReadonlyArray<string> = ["actions", "interval", "maxClients", "feedSize", "allowRemote"]
const serverNames: ReadonlyArray<string> = [...optionNames, "port", "host"]

const actions = (prefix: string, input: Observer.Options["actions"]): Config["actions"] => {
  if (input === undefined) return null
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw bad(`${prefix}actions`, input, "an object such as { token: \"a-long-secret\" }")
  }
  checkKeys(input, ["token"], `${prefix}actions`)
  const token = (input as { token?: unknown }).token
  if (typeof token !== "string" || token.length < 8 || /\s/.test(token)) {
    throw bad(`${prefix}actions.token`, token, "a string of at least 8 characters without spaces")
  }
  return { token }
}

const interval = (prefix: string, input: Duration.DurationInput | undefined): number => {
  if (input === undefined) return 500
  const millis = Option.map(Duration.decodeUnknown(input), Duration.toMillis)
  if (Option.isNone(millis) || !(millis.value >= 10) || !Number.isFinite(millis.value)) {
    throw bad(`${prefix}interval`, input, "a duration of at least 10 millis, such as \"500 millis\"")
  }
  return millis.value
}

/** `prefix` names where the options were given, e.g. `"health.observer."` for the Worker's. */
export const resolve = (options: Observer.Options | undefined, prefix = ""): Config => {
  const checked = objectOf(options, prefix)
  checkKeys(checked, optionNames, prefix === "" ? "Observer.handler" : prefix.replace(/\.$/, ""))
  return resolveChecked(checked, prefix)
}

/** The options object itself: none is `{}`; null, an array or a string is refused, naming them. */
const objectOf = <O extends object>(options: O | undefined, prefix: string): O => {
  if (options === undefined) return {} as O
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw bad(prefix === "" ? "options" : prefix.replace(/\.$/, ""), options, "an object")
  }
  return options
}

const resolveChecked = (options: Observer.Options, prefix: string): Config => ({
  actions: actions(prefix, options.actions),
  intervalMillis: interval(prefix, options.interval),
  maxClients: count(`${prefix}maxClients`, options.maxClients, 8, 1),
  maxBuffered: 4 * 1024 * 1024,
  feedSize: count(`${prefix}feedSize`, options.feedSize, 200, 1),
  allowRemote: flag(`${prefix}allowRemote`, options.allowRemote)
})

/** The options of `Observer.layer`: the server's port and host (default 127.0.0.1) too. */
export const resolveServer = (serverOptions: Observer.ServerOptions): ServerConfig => {
  if (serverOptions === undefined) throw bad("options", serverOptions, "an object with the server's port, such as { port: 9100 }")
  const options = objectOf(serverOptions, "")
  checkKeys(options, serverNames, "Observer.serve or Observer.layer")
  const { host, port, ...observer } = options
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw bad("port", port, "an integer from 0 to 65535; 0 picks a free port")
  }
  if (host !== undefined && (typeof host !== "string" || host.length === 0)) {
    throw bad("host", host, "a host name or address such as \"127.0.0.1\"")
  }
  // Bound to every interface on purpose: answering remote clients is what was asked.
  const remote = host !== undefined && host !== "127.0.0.1" && host !== "::1" && host !== "localhost"
  return { ...resolve({ ...observer, allowRemote: options.allowRemote ?? remote }), port, host: host ?? "127.0.0.1" }
}
