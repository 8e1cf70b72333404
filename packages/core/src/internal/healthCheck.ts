/**
 * User health checks: the registry that attaches checks to service handles (a WeakMap, so
 * the core's service internals stay untouched) and the runner that runs them with their
 * timeouts, read from `Clock`.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as HealthCheck from "../HealthCheck.js"
import type * as Service from "../Service.js"
import { decodeDuration } from "./duration.js"
import { shortCause } from "./causeText.js"
import { collect } from "./graph.js"
import { asImpl, withMade } from "./service.js"
import { checkOptions } from "./options.js"

/** @internal */
export const defaultTimeout: Duration.Duration = Duration.seconds(5)

const TypeId: unique symbol = Symbol.for("@effect-mode/core/HealthCheck")

interface CheckImpl extends HealthCheck.HealthCheck {
  readonly [TypeId]: typeof TypeId
}

/** @internal */
export const isHealthCheck = (u: unknown): u is HealthCheck.HealthCheck =>
  typeof u === "object" && u !== null && TypeId in u

/** @internal */
export const make = (
  name: string,
  check: HealthCheck.Check,
  options: HealthCheck.Options = {}
): HealthCheck.HealthCheck => {
  if (typeof name !== "string" || name.trim() === "") {
    throw new TypeError(`Invalid name of HealthCheck.make: ${JSON.stringify(String(name))} (expected a non-empty string)`)
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Invalid options of HealthCheck.make("${name}"): ${JSON.stringify(String(options))} (expected an object)`)
  }
  checkOptions(options, `HealthCheck.make("${name}")`, ["timeout", "critical"])
  if (!Effect.isEffect(check) && typeof check !== "function") {
    throw new TypeError(`Invalid check of HealthCheck.make("${name}"): expected an Effect or a function of the service`)
  }
  const critical = options.critical ?? true
  if (typeof critical !== "boolean") {
    throw new TypeError(`Invalid critical of HealthCheck.make("${name}"): ${JSON.stringify(String(critical))} (expected a boolean)`)
  }
  const timeout = options.timeout === undefined
    ? defaultTimeout
    : decodeDuration(options.timeout, `timeout of HealthCheck.make("${name}")`)
  if (Duration.toMillis(timeout) <= 0) {
    throw new TypeError(`Invalid timeout of HealthCheck.make("${name}"): ${JSON.stringify(Duration.format(timeout))} (expected a duration above zero)`)
  }
  const impl: CheckImpl = { [TypeId]: TypeId, name, check, timeout, critical }
  return impl
}

/** The checks of each service handle, by name (a later registration of a name replaces it). */
const registry = new WeakMap<Service.Service, Map<string, HealthCheck.HealthCheck>>()

const asList = (checks: HealthCheck.HealthCheck | Iterable<HealthCheck.HealthCheck>): Array<HealthCheck.HealthCheck> => {
  const iterable = typeof checks === "object" && checks !== null && Symbol.iterator in checks
  if (!isHealthCheck(checks) && !iterable) {
    throw new TypeError(`Invalid health check: ${String(checks)} (expected a value of HealthCheck.make, or a list of them)`)
  }
  const list = isHealthCheck(checks) ? [checks] : Array.from(checks as Iterable<HealthCheck.HealthCheck>)
  for (const c of list) {
    if (!isHealthCheck(c)) throw new TypeError(`Invalid health check: ${String(c)} (expected a value of HealthCheck.make)`)
  }
  return list
}

/** @internal */
export const register = (
  service: Service.Service,
  checks: HealthCheck.HealthCheck | Iterable<HealthCheck.HealthCheck>
): Effect.Effect<void> =>
  withMade(service, Effect.sync(() => {
    const list = asList(checks)
    const key = asImpl(service)
    let byName = registry.get(key)
    if (byName === undefined) registry.set(key, byName = new Map())
    for (const c of list) byName.set(c.name, c)
  }))

/** @internal */
export const unregister = (service: Service.Service, name: string): Effect.Effect<void> =>
  withMade(service, Effect.sync(() => {
    registry.get(asImpl(service))?.delete(name)
  }))

/** @internal */
export const checksOf = (service: Service.Service): Effect.Effect<ReadonlyArray<HealthCheck.HealthCheck>> =>
  withMade(service, Effect.sync(() => Array.from(registry.get(asImpl(service))?.values() ?? [])))

/** @internal */
export const withChecks = <S extends Service.Service, E, R>(
  self: Effect.Effect<S, E, R>,
  checks: HealthCheck.HealthCheck | Iterable<HealthCheck.HealthCheck>
): Effect.Effect<S, E, R> => {
  const list = asList(checks)
  return Effect.tap(self, (service) => register(service, list))
}

/**
 * Runs one check of `service` with its timeout. The check runs disconnected, so that one
 * stuck in uninterruptible code still times out; its failure or defect becomes a result.
 */
const runOne = (
  service: Service.Service,
  path: string,
  check: HealthCheck.HealthCheck
): Effect.Effect<HealthCheck.Result> =>
  Effect.flatMap(Clock.currentTimeMillis, (began) => {
    const effect = Effect.suspend(() => {
      if (Effect.isEffect(check.check)) return check.check
      const made: unknown = check.check(service)
      // A function returning a promise (or anything but an Effect) fails, saying what it returned.
      return Effect.isEffect(made) ? made as Effect.Effect<unknown, unknown> : Effect.dieMessage(
        `Health check ${check.name} returned ${made instanceof Promise ? "a Promise" : typeof made}, not an Effect ` +
          `(wrap a promise in Effect.promise or Effect.tryPromise)`
      )
    })
    return Effect.disconnect(Effect.asVoid(effect)).pipe(
      Effect.timeoutTo({
        duration: check.timeout,
        onSuccess: Exit.succeed,
        onTimeout: () => undefined
      }),
      Effect.catchAllCause((cause) => Effect.succeed(Exit.failCause(cause))),
      Effect.flatMap((exit) =>
        Effect.map(Clock.currentTimeMillis, (ended): HealthCheck.Result => ({
          name: check.name,
          path,
          critical: check.critical,
          status: exit === undefined ? "timedOut" : Exit.isSuccess(exit) ? "ok" : "failed",
          millis: Math.max(0, ended - began),
          error: exit === undefined
            ? `did not answer within ${Duration.format(check.timeout)}`
            : Exit.isSuccess(exit)
            ? null
            : shortCause(exit.cause as Cause.Cause<unknown>)
        }))
      )
    )
  })

/** @internal */
export const run = (service: Service.Service): Effect.Effect<ReadonlyArray<HealthCheck.Result>> =>
  withMade(service, Effect.suspend(() => {
    const impl = asImpl(service)
    // Checks run only while their service runs (as runTree's, and the Worker's readiness).
    if (impl.phase !== "running") return Effect.succeed([])
    const path = impl.pathSync()
    const checks = Array.from(registry.get(impl)?.values() ?? [])
    return Effect.forEach(checks, (c) => runOne(service, path, c), { concurrency: "unbounded" })
  }))

/** @internal */
export const runTree = (root: Service.Service): Effect.Effect<ReadonlyArray<HealthCheck.Result>> =>
  withMade(root, Effect.suspend(() => {
    const running = collect(asImpl(root)).filter((s) => s.phase === "running" && registry.has(s))
    return Effect.map(Effect.forEach(running, run, { concurrency: "unbounded" }), (all) => all.flat())
  }))
