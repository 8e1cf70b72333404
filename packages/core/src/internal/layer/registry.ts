/**
 * The graph of services built from layers: which service a typed API value belongs to,
 * which services each one was built on (its layer dependencies), and the registry a
 * `Service.launch` opens so that every service its layer builds joins one tree under a
 * root. Built only on the public `Service` handle API.
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import type * as Scope from "effect/Scope"
import type * as Service from "../../Service.js"
import type * as ServiceError from "../../ServiceError.js"


/** What a `Service.launch` collects while its layer is built. */
export interface Registry {
  /** The service every joined service hangs under (in the order they join = start order). */
  readonly root: Service.Service
  readonly members: Set<Service.Service>
}

/**
 * The registry of the launch whose layer is being built, if any. It is visible to the code
 * that builds layers, never to the code of a running service (its start runs with it unset),
 * so a service made inside a task does not join the launch's root.
 */
export const currentRegistry: FiberRef.FiberRef<Registry | undefined> = globalValue(
  Symbol.for("@effect-mode/core/layer/currentRegistry"),
  () => FiberRef.unsafeMake<Registry | undefined>(undefined)
)

/** The typed API value (a `Service.Tag` instance) → the lifecycle handle behind it. */
const handles: WeakMap<object, Service.Service> = globalValue(
  Symbol.for("@effect-mode/core/layer/handles"),
  () => new WeakMap<object, Service.Service>()
)

/** A service → the services of the context its layer was built with (direct ones only). */
const dependencies: WeakMap<Service.Service, ReadonlyArray<Service.Service>> = globalValue(
  Symbol.for("@effect-mode/core/layer/dependencies"),
  () => new WeakMap<Service.Service, ReadonlyArray<Service.Service>>()
)

/**
 * The brand every service handle carries (the core's `TypeId`): a value of the context is
 * a handle when it has it. Read by symbol so that this module needs nothing of the core's
 * internals.
 */
const ServiceTypeId = Symbol.for("@effect-mode/core/Service")

const isService = (u: unknown): u is Service.Service => typeof u === "object" && u !== null && ServiceTypeId in u

/** The brand of a `Service.proxy` handle, whose value holds the service once made. */
const ProxyTypeId = Symbol.for("@effect-mode/core/Service/Proxy")

/** The service behind a handle: a proxy's, once made (the graph knows services, not proxies). */
const behind = (u: Service.Service): Service.Service =>
  ((u as unknown as Record<symbol, { readonly made?: Service.Service } | undefined>)[ProxyTypeId])?.made ?? u

const isProxy = (u: unknown): u is Service.Service => typeof u === "object" && u !== null && ProxyTypeId in u

/** @internal */
export const registerApi = (api: object, handle: Service.Service): void => {
  handles.set(api, handle)
}

/** The lifecycle handle of a typed API value, a handle itself, or undefined. */
export const handleOf = (value: unknown): Service.Service | undefined => {
  if (isService(value)) return value
  if (isProxy(value)) return behind(value)
  if (typeof value === "object" && value !== null) return handles.get(value)
  return undefined
}

/** The layer dependencies recorded for `service` (empty for a service not built from a layer). */
export const dependenciesOf = (service: Service.Service): ReadonlyArray<Service.Service> =>
  dependencies.get(service) ?? []

/** True when `target` is reachable from `from` over the recorded dependency edges. */
const reaches = (from: Service.Service, target: Service.Service, seen: Set<Service.Service>): boolean => {
  for (const next of dependenciesOf(from)) {
    if (next === target) return true
    if (seen.has(next)) continue
    seen.add(next)
    if (reaches(next, target, seen)) return true
  }
  return false
}

/**
 * The services found in a layer's build context, minus those reachable through another of
 * them (a context built with `Layer.provideMerge` also holds the dependencies' own
 * dependencies): what is left are the direct edges.
 */
const directDependencies = (self: Service.Service, context: Context.Context<never>): Array<Service.Service> => {
  const found: Array<Service.Service> = []
  for (const value of context.unsafeMap.values()) {
    const handle = handleOf(value)
    if (handle !== undefined && handle !== self && !found.includes(handle)) found.push(handle)
  }
  return found.filter((d) => !found.some((other) => other !== d && reaches(other, d, new Set())))
}

/**
 * Whether the launch is ending: its root crashed (a service crashed while the layer was
 * being built) or is being stopped. A root of one's own that stopped before this launch
 * (`shutdown`) is started again once the layer is built: that launch is not ending.
 */
const ending = (registry: Registry): Effect.Effect<boolean> =>
  Effect.map(Effect.zip(registry.root.crashed, registry.root.state), ([crashed, state]) => crashed || state === "stopping")

/** Whether the launch whose layer is being built, if any, is ending (`ending`). */
export const launchEnding: Effect.Effect<boolean> = Effect.flatMap(
  FiberRef.get(currentRegistry),
  (registry) => registry === undefined ? Effect.succeed(false) : ending(registry)
)

/**
 * A service whose start failed leaves the launch's tree: a layer that retries it
 * (`Layer.retry`) or falls back (`Layer.catchAll`) released that attempt, which is not a
 * service of the program any more (it would read `crashed` for ever).
 */
const leave = (given: Service.Service): Effect.Effect<void> =>
  Effect.flatMap(FiberRef.get(currentRegistry), (registry) => {
    const handle = behind(given)
    if (registry === undefined || !registry.members.has(handle)) return Effect.void
    registry.members.delete(handle)
    return Effect.asVoid(registry.root.removeDependency(handle))
  })

/**
 * A service was built by a layer with `context`: record its layer dependencies, and when a
 * launch is building, hang it under the launch's root (unless it already is in a tree).
 */
export const join = (given: Service.Service, context: Context.Context<never>): Effect.Effect<void> =>
  // A proxy's service is made first (reading its state makes it): the graph records that service.
  Effect.flatMap(isProxy(given) ? Effect.zipRight(given.state, FiberRef.get(currentRegistry)) : FiberRef.get(currentRegistry), (registry) =>
    Effect.suspend(() => {
      const handle = behind(given)
      if (!dependencies.has(handle)) dependencies.set(handle, directDependencies(handle, context))
      if (registry === undefined || registry.members.has(handle)) return Effect.void
      // The launch is ending (a service crashed while the layer was being built): building
      // more would start services under a stopping root; the build gives way instead.
      return Effect.flatMap(ending(registry), (ends) => ends ? Effect.interrupt : Effect.flatMap(handle.beacon.parent, (parent) => {
        if (parent._tag === "Some") return Effect.void
        registry.members.add(handle)
        return Effect.asVoid(registry.root.addDependency(handle))
      }))
    }))

/**
 * Starts a service built by a layer (or by `Service.scoped`) and stops it when the scope
 * closes: it joins the layer graph first (and the launch's tree, if any), then starts with
 * no launch registry visible to its own code. A service that was started already (the start
 * fails with `AlreadyStarted`) is someone else's: the scope does not stop it.
 */
export const startScoped = <S extends Service.Service>(
  service: S
): Effect.Effect<S, ServiceError.ServiceError, Scope.Scope> =>
  Effect.flatMap(Effect.context<never>(), (context) => {
    let ours = true
    return join(service, context).pipe(
      Effect.zipRight(Effect.addFinalizer(() => ours ? service.stop : Effect.void)),
      Effect.zipRight(Effect.tapError(outsideRegistry(service.start), (error) => {
        if (error._tag !== "AlreadyStarted") return leave(service)
        ours = false
        return Effect.void
      })),
      Effect.as(service)
    )
  })

/** Runs a service's own code (its start) with no launch registry visible. */
export const outsideRegistry = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.locally(self, currentRegistry, undefined)

/** The layer-built services (or handles) among the values of `context`. */
const servicesIn = (context: Context.Context<never>): Array<Service.Service> => {
  const found: Array<Service.Service> = []
  for (const value of context.unsafeMap.values()) {
    const handle = handleOf(value)
    if (handle !== undefined) found.push(handle)
  }
  return found
}

/**
 * The options of a service made in `context`, with a check at each start: a service of the
 * context that has already stopped was released before this one started (typically
 * `Effect.provide(Database.Default)` on the effect that makes the root: the layer is
 * released when that effect ends). It is logged, once per start, naming both.
 */
export const checkingContext = <O extends Service.Options<any, any>>(
  label: string,
  options: O,
  context: Context.Context<never>
): O => {
  if (context.unsafeMap.size === 0) return options
  const used = servicesIn(context)
  if (used.length === 0) return options
  const onStart = options.onStart
  const check = Effect.forEach(used, (dep) =>
    Effect.flatMap(Effect.zip(dep.state, dep.started), ([state, started]) =>
      !started && state !== "init"
        ? Effect.logWarning(
          `Service ${label} uses ${dep.label}, which stopped before ${label} started: the layer that built ` +
            `${dep.label} was released (an Effect.provide on the effect that makes ${label} releases it when that ` +
            `effect ends). Provide it with Service.launch or Worker.runMain(layer), or around the whole program.`
        )
        : Effect.void), { discard: true })
  return {
    ...options,
    onStart: (self: Service.Service) => onStart === undefined ? check : Effect.zipRight(check, onStart(self))
  }
}
