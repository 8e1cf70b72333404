/**
 * `Service.proxy`: mode's `ServiceProxy`. A handle whose service is made on first use and
 * whose every member is the service's: its lifecycle, its state, its waits, its tree. Faust
 * creates its App at import time with one, so that nothing runs until the App is used. The
 * proxy has its own id and label; its `beacon` is its service's once made.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Stream from "effect/Stream"
import type * as Beacon from "../../Beacon.js"
import type * as Diag from "../../Diag.js"
import type * as Service from "../../Service.js"
import { checkLabel } from "./validate.js"
import { asImpl, isService, ProxyTypeId } from "./handle.js"
import { newId, type ServiceImpl } from "./impl.js"

/** What a proxy makes its service with, and the service once made. */
class Target {
  made: ServiceImpl | undefined = undefined
  /**
   * The make in flight: the callers that come meanwhile wait for the same one (told
   * `undefined` when the caller making it was interrupted: they ask again).
   */
  private making: Deferred.Deferred<ServiceImpl | undefined> | undefined = undefined
  constructor(private readonly label: string, private readonly make: Effect.Effect<Service.Service>) {}

  /** The service, made by the first caller (a make that dies is asked again by the next use). */
  get service(): Effect.Effect<ServiceImpl> {
    return Effect.suspend(() => {
      if (this.made !== undefined) return Effect.succeed(this.made)
      if (this.making !== undefined) {
        return Effect.flatMap(Deferred.await(this.making), (made) => made === undefined ? this.service : Effect.succeed(made))
      }
      const making = this.making = Deferred.unsafeMake<ServiceImpl | undefined>(FiberId.none)
      const made = Effect.flatMap(this.make, (service): Effect.Effect<ServiceImpl> => {
        if (isProxyService(service)) return service[ProxyTypeId].service
        if (!isService(service)) {
          return Effect.die(new TypeError(`Service.proxy ${this.label}: its make gave ${String(service)}, not an effect-mode service`))
        }
        return Effect.succeed(service)
      })
      // The waiters are told however the make ends; when its caller was interrupted, the
      // interruption is that caller's own: the waiters ask again.
      return Effect.onExit(made, (exit) =>
        Effect.sync(() => {
          if (exit._tag === "Success") this.made = exit.value
          this.making = undefined
          Deferred.unsafeDone(making, exit._tag === "Failure" && Cause.isInterruptedOnly(exit.cause) ? Exit.void as Exit.Exit<undefined> : exit)
        }))
    })
  }
}

/** A proxy: every member reads or runs its service's (made first when it is not yet). */
class ProxyImpl implements Service.Service {
  // Set by the constructor: a computed key in the class body would read ProxyTypeId while
  // impl.ts (which imports this module) may not have defined it yet.
  declare readonly [ProxyTypeId]: Target
  readonly id = newId()
  readonly shortlabel: string
  constructor(readonly label: string, target: Target) {
    ;(this as { [ProxyTypeId]: Target })[ProxyTypeId] = target
    this.shortlabel = label
  }
  private get target(): Effect.Effect<ServiceImpl> {
    return this[ProxyTypeId].service
  }
  private get<A, E, R>(f: (s: ServiceImpl) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.flatMap(this.target, f)
  }

  get diag(): Diag.Diag {
    const made = this[ProxyTypeId].made
    if (made !== undefined) return made.diag
    return {
      flags: this.get((s) => s.diag.flags),
      lastTransition: this.get((s) => s.diag.lastTransition),
      setFlag: (flag) => this.get((s) => s.diag.setFlag(flag)),
      unsetFlag: (flag) => this.get((s) => s.diag.unsetFlag(flag))
    }
  }
  get beacon(): Beacon.Node {
    const made = this[ProxyTypeId].made
    if (made !== undefined) return made.beacon
    return {
      service: this,
      parent: this.get((s) => s.beacon.parent),
      children: this.get((s) => s.beacon.children),
      depth: this.get((s) => s.beacon.depth),
      path: this.get((s) => s.beacon.path)
    }
  }

  get state() {
    return this.get((s) => s.state)
  }
  get stateChanges() {
    return Stream.unwrap(Effect.map(this.target, (s) => s.stateChanges))
  }
  get started() {
    return this.get((s) => s.started)
  }
  get crashed() {
    return this.get((s) => s.crashed)
  }
  get shouldStop() {
    return this.get((s) => s.shouldStop)
  }
  get restartCount() {
    return this.get((s) => s.restartCount)
  }
  get crashReason() {
    return this.get((s) => s.crashReason)
  }
  get stopFailure() {
    return this.get((s) => s.stopFailure)
  }
  get start() {
    return this.get((s) => s.start)
  }
  get maybeStart() {
    return this.get((s) => s.maybeStart)
  }
  get stop() {
    return this.get((s) => s.stop)
  }
  get restart() {
    return this.get((s) => s.restart)
  }
  get setShutdown() {
    return this.get((s) => s.setShutdown)
  }
  get waitUntilStopped() {
    return this.get((s) => s.waitUntilStopped)
  }
  get tracebacks() {
    return this.get((s) => s.tracebacks)
  }
  get humanTracebacks() {
    return this.get((s) => s.humanTracebacks)
  }
  readonly crash = (reason: unknown) => this.get((s) => s.crash(reason))
  readonly sleep: Service.Service["sleep"] = (duration) => this.get((s) => s.sleep(duration))
  readonly wait: Service.Service["wait"] = (effect, options) => this.get((s) => s.wait(effect, options))
  readonly waitFirst: Service.Service["waitFirst"] = (effects, options) => this.get((s) => s.waitFirst(effects, options))
  readonly waitMany: Service.Service["waitMany"] = (effects, options) => this.get((s) => s.waitMany(effects, options))
  readonly waitForStopped: Service.Service["waitForStopped"] = (options) => this.get((s) => s.waitForStopped(options))
  readonly itertimer: Service.Service["itertimer"] = (interval, options) =>
    Stream.unwrap(Effect.map(this.target, (s) => s.itertimer(interval, options)))
  readonly addDependency: Service.Service["addDependency"] = (child) => this.get((s) => s.addDependency(child))
  readonly addRuntimeDependency: Service.Service["addRuntimeDependency"] = (child) =>
    this.get((s) => s.addRuntimeDependency(child))
  readonly removeDependency: Service.Service["removeDependency"] = (child) => this.get((s) => s.removeDependency(child))
  readonly addFuture: Service.Service["addFuture"] = (effect) => this.get((s) => s.addFuture(effect))
  readonly addContext: Service.Service["addContext"] = (resource) => this.get((s) => s.addContext(resource))
  readonly addFinalizer: Service.Service["addFinalizer"] = (finalizer) => this.get((s) => s.addFinalizer(finalizer))

  toString(): string {
    const made = this[ProxyTypeId].made
    return `<${this.label}: ${made === undefined ? "not made yet" : made.toString()}>`
  }
  toJSON(): unknown {
    return { _id: "Service.proxy", id: this.id, label: this.label, service: this[ProxyTypeId].made?.toJSON() }
  }
}

/** @internal */
export const isProxyService = (u: unknown): u is ProxyImpl => typeof u === "object" && u !== null && ProxyTypeId in u

/**
 * A service handle of either kind: a service, or a proxy (`Service.isService`).
 *
 * @internal
 */
export const isHandle = (u: unknown): u is Service.Service => isService(u) || isProxyService(u)

/**
 * `Service.proxy(label, make)`: the proxy is made now, with the current context (what `make`
 * requires); `make` runs at the proxy's first use.
 *
 * @internal
 */
export const proxy = <R>(label: string, make: () => Effect.Effect<Service.Service, never, R>): Effect.Effect<Service.Service, never, R> => {
  checkLabel(label, "Service.proxy")
  if (typeof make !== "function") {
    throw new TypeError(`Invalid make of Service.proxy ${label}: ${JSON.stringify(String(make))} is not a function`)
  }
  return Effect.map(Effect.context<R>(), (context) =>
    new ProxyImpl(label, new Target(label, Effect.provide(Effect.suspend(make), context as Context.Context<R>))))
}

/**
 * The service behind a handle: the handle itself, or a proxy's service (made now if it is
 * not yet). Every entry point that takes a handle and keeps it (a tree, a supervisor, a
 * graph) goes through it, so a proxy is made on its first use there too.
 *
 * @internal
 */
export const resolve = (service: Service.Service): Effect.Effect<ServiceImpl> =>
  isProxyService(service) ? service[ProxyTypeId].service : Effect.sync(() => asImpl(service))

/**
 * Makes the services of the proxies among `services` (a service, a child spec, a list of
 * them), then runs `effect`, which may then read them with `asImpl`. No step when there is
 * no proxy.
 *
 * @internal
 */
export const withMade = <A, E, R>(services: unknown, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const proxies: Array<ProxyImpl> = []
  collectProxies(services, proxies)
  if (proxies.length === 0) return effect
  return Effect.zipRight(Effect.forEach(proxies, (p) => p[ProxyTypeId].service, { discard: true }), effect)
}

const collectProxies = (u: unknown, out: Array<ProxyImpl>): void => {
  if (isProxyService(u)) {
    if (u[ProxyTypeId].made === undefined) out.push(u)
  } else if (Array.isArray(u)) {
    for (const item of u) collectProxies(item, out)
  } else if (typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "ChildSpec") {
    collectProxies((u as { service: unknown }).service, out)
  }
}
