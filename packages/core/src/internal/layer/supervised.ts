/**
 * Supervised `Service.Tag` services: the service runs under a one-for-one supervisor of its
 * own (restart type, intensity, backoff and escalation are the `Supervisor`'s), and the API
 * value in the context is a stable front that always reaches the current instance: a call
 * made while the service restarts waits until it runs again (up to `callTimeout`), a call in
 * flight when it stops or crashes fails with `ServiceUnavailable`, never reaching a stale
 * instance whose scope is closed.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Service from "../../Service.js"
import * as ServiceError from "../../ServiceError.js"
import * as Supervisor from "../../Supervisor.js"
import { decodeDuration } from "../duration.js"
import { checkOptions, show } from "../options.js"
import { checkLabel } from "../service/validate.js"
import { decodeOptions, policyNames } from "../supervisorPolicy.js"
import { asImpl, spreadCrash } from "../service.js"
import { currentRegistry, dependenciesOf, outsideRegistry, type Registry } from "./registry.js"

/** What `supervise` accepts (typed in Service.ts). */
export interface SuperviseOptions extends Omit<Supervisor.Options, "replacement"> {
  readonly callTimeout?: Duration.DurationInput
  readonly strategy?: "oneForOne" | "restForOne"
  readonly group?: Group
}

const defaultCallTimeout = Duration.seconds(5)

/**
 * The policy options (`maxRestarts`, `within`, ...) decoded as a supervisor's constructor
 * decodes them, each error renamed for where they were given: `Invalid <prefix><option> of <what>:`.
 */
const decodePolicy = (label: string, options: Omit<Supervisor.Options, "replacement">, prefix: string, what: string): void => {
  try {
    decodeOptions(label, options)
  } catch (e) {
    if (!(e instanceof TypeError)) throw e
    throw new TypeError(e.message.replace(/^Invalid (\w+) of supervisor [^:]*:/, `Invalid ${prefix}$1 of ${what}:`))
  }
}

/**
 * `Service.supervisorGroup`: its label, strategy and policy options checked when it is made.
 *
 * @internal
 */
export const supervisorGroup = (label: string, options: unknown = {}): Service.SupervisorGroup => {
  checkLabel(label, "Service.supervisorGroup")
  const what = `Service.supervisorGroup(${show(label)})`
  const checked = checkOptions(options as Record<string, unknown>, what, [...policyNames, "strategy"])
  const { strategy, ...rest } = checked as SupervisorGroupOptions
  if (strategy !== undefined && strategy !== "oneForOne" && strategy !== "oneForAll" && strategy !== "restForOne") {
    throw new TypeError(`Invalid strategy of ${what}: ${show(strategy)} (expected "oneForOne", "oneForAll" or "restForOne")`)
  }
  decodePolicy(label, rest, "", what)
  return { _tag: "SupervisorGroup", label, strategy: strategy ?? "oneForOne", options: rest }
}

type SupervisorGroupOptions = Parameters<typeof Service.supervisorGroup>[1] & {}

/**
 * Checks a Tag's `supervise` options when the Tag is declared: the supervisor's own options
 * (as a supervisor's constructor decodes them), `strategy`, `group` and `callTimeout`, each error
 * naming `supervise.<option>` and the service.
 *
 * @internal
 */
export const checkSupervise = (label: string, options: unknown): void => {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Invalid supervise of service ${label}: ${JSON.stringify(String(options))} (expected an object)`)
  }
  checkOptions(options, `supervise of service ${label}`, [...policyNames, "restart", "callTimeout", "strategy", "group"])
  const { callTimeout, group, strategy, ...rest } = options as SuperviseOptions
  if (strategy !== undefined && strategy !== "oneForOne" && strategy !== "restForOne") {
    throw new TypeError(
      `Invalid supervise.strategy of service ${label}: ${JSON.stringify(String(strategy))} (expected "oneForOne" or "restForOne"; for one-for-all, supervise a group: Service.supervisorGroup)`
    )
  }
  if (group !== undefined && (group as { _tag?: unknown })._tag !== "SupervisorGroup") {
    throw new TypeError(`Invalid supervise.group of service ${label}: ${JSON.stringify(String(group))} (expected a Service.supervisorGroup)`)
  }
  if (callTimeout !== undefined) decodeDuration(callTimeout, `supervise.callTimeout of service ${label}`)
  decodePolicy(label, rest, "supervise.", `service ${label}`)
}

/** The supervisor the service runs under (its parent in the tree). */
export const superviseHandle = (
  key: string,
  handle: Service.Service,
  options: SuperviseOptions
): Effect.Effect<Supervisor.Supervisor> => {
  const { callTimeout: _, group: ___, restart, strategy: __, ...rest } = options
  const child = restart === undefined ? handle : Supervisor.child(handle, { restart })
  return Supervisor.oneForOne(`${key}Supervisor`, [child], rest)
}

/** Whether `handle` still runs, marked crashed by a crash that began outside its subtree. */
const markedByOthers = (handle: Service.Service): boolean => {
  const impl = asImpl(handle)
  const origin = impl.crashOrigin
  if (impl.phase !== "running" || origin === undefined) return false
  const path = impl.pathSync()
  return origin !== path && !origin.startsWith(`${path}/`)
}

/**
 * The API front of a supervised service: each Effect member and each method (which must
 * return an Effect) runs on the instance current when the call is served; other members
 * are read from the current instance.
 */
export const front = (
  key: string,
  handle: Service.Service,
  current: () => Record<PropertyKey, unknown>,
  options: SuperviseOptions
): { readonly values: Record<PropertyKey, unknown>; readonly getters: Array<PropertyKey> } => {
  const timeout = options.callTimeout === undefined
    ? defaultCallTimeout
    : decodeDuration(options.callTimeout, `supervise.callTimeout of service ${key}`)
  const millis = Duration.toMillis(timeout)
  const unavailable = (reason: string) => new ServiceError.ServiceUnavailable({ label: key, reason })
  const running: Effect.Effect<void, ServiceError.ServiceUnavailable> = Effect.flatMap(handle.state, (state) =>
    state === "running" ? Effect.void : Stream.runDrain(Stream.takeUntil(handle.stateChanges, (s) => s === "running")).pipe(
      Effect.timeoutFail({ duration: timeout, onTimeout: () => unavailable(`not running within ${millis} ms`) })
    ))
  const call = <A, E, R>(use: (api: Record<PropertyKey, unknown>) => Effect.Effect<A, E, R>) =>
    Effect.suspend(() =>
      // Marked crashed by a crash that began elsewhere in the tree, and not stopped yet: its
      // dependents' stops (which run first) may still use it, as an unsupervised one's.
      markedByOthers(handle)
        ? use(current())
        : Effect.zipRight(
          running,
          Effect.flatMap(Effect.suspend(() => handle.wait(use(current()))), (result) =>
            result._tag === "Completed"
              ? Effect.succeed(result.result)
              : Effect.fail(unavailable("it stopped while the call was in flight")))
        )
    )
  const first = current()
  const values: Record<PropertyKey, unknown> = {}
  const getters: Array<PropertyKey> = []
  for (const name of Reflect.ownKeys(first)) {
    const value = first[name]
    if (Effect.isEffect(value)) {
      values[name] = call((api) => api[name] as Effect.Effect<unknown, unknown, unknown>)
    } else if (typeof value === "function") {
      values[name] = (...args: Array<unknown>) =>
        call((api) => (api[name] as (...a: Array<unknown>) => Effect.Effect<unknown, unknown, unknown>)(...args))
    } else {
      getters.push(name)
    }
  }
  return { values, getters }
}

/**
 * The members of the launch that depend on `service`, directly or not, in start order (a
 * supervised member is its supervisor, whose edges are those of the service under it).
 */
const dependentsOf = (service: Service.Service, registry: Registry): Array<Service.Service> => {
  const dependsOn = (member: Service.Service): boolean => {
    const seen = new Set<Service.Service>()
    const visit = (s: Service.Service): boolean => {
      for (const d of dependenciesOf(s)) {
        if (d === service) return true
        if (!seen.has(d)) {
          seen.add(d)
          if (visit(d)) return true
        }
      }
      return false
    }
    return member !== service && visit(member)
  }
  const out: Array<Service.Service> = []
  for (const member of registry.members) {
    if (dependsOn(member)) {
      out.push(member)
    } else if (Supervisor.isSupervisor(member)) {
      // A group's supervisor has the edges of its first member: a later member that depends
      // on the service is a dependent of its own.
      for (const child of asImpl(member).children) if (dependsOn(child)) out.push(child)
    }
  }
  return out
}

/**
 * Rest-for-one over the layer graph: when the service crashes, every service of the launch
 * that depends on it (directly or not) is stopped, in reverse start order; once it runs
 * again, they are started again in start order (their `scoped` runs again, and their API in
 * the context reaches the new instances). Watches for as long as the layer's scope is open.
 * `gate.beforeRestart` (run by the service's restart before it starts again) waits until
 * those stops are over: the new instance never runs beside the old dependents.
 */
export const restForOne = (
  handle: Service.Service,
  gate: { beforeRestart: Effect.Effect<void> | undefined }
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.flatMap(FiberRef.get(currentRegistry), (registry) => {
    if (registry === undefined) return Effect.void
    let stopped: Array<Service.Service> = []
    // A second stop of a service joins the one in flight, and returns when it is over.
    gate.beforeRestart = Effect.suspend(() => Effect.forEach([...stopped].reverse(), (s) => s.stop, { discard: true }))
    // A dependent under a group's supervisor is taken out of the group while it is stopped
    // (a stop of a supervised service would be restarted by its supervisor at once, beside
    // the old instance of the crashed one), then put back in its place.
    const held = new Map<Service.Service, { readonly supervisor: Supervisor.Supervisor; readonly index: number }>()
    const stopOne = (s: Service.Service): Effect.Effect<void> => {
      const parent = asImpl(s).parent
      if (parent === undefined || !Supervisor.isSupervisor(parent) || registry.members.has(s)) return s.stop
      const supervisor = parent as unknown as Supervisor.Supervisor
      return Effect.flatMap(supervisor.services, (services) => {
        held.set(s, { supervisor, index: Math.max(0, services.indexOf(s)) })
        return supervisor.discard(s)
      })
    }
    const startOne = (s: Service.Service): Effect.Effect<void, ServiceError.ServiceError> => {
      const slot = held.get(s)
      if (slot === undefined) return Effect.asVoid(s.maybeStart)
      held.delete(s)
      return Effect.flatMap(slot.supervisor.services, (services) =>
        slot.supervisor.insert(Math.min(slot.index, services.length), s))
    }
    const onState = (state: Service.State): Effect.Effect<void> => {
      if (state === "crashed" && stopped.length === 0) {
        stopped = dependentsOf(handle, registry)
        return Effect.forEach([...stopped].reverse(), stopOne, { discard: true })
      }
      if (state === "running" && stopped.length > 0) {
        const again = stopped
        stopped = []
        // A dependent whose start fails now is crashed, as any failed start leaves a service:
        // that crash travels (to launch's root: the launch ends with Crashed), as a crash does.
        return Effect.forEach(again, (s) => Effect.catchAll(startOne(s), () => spreadCrash(asImpl(s))), { discard: true })
      }
      return Effect.void
    }
    // The restarts run services' code: with no launch registry visible (see registry.ts).
    return Effect.asVoid(Effect.forkScoped(outsideRegistry(Stream.runForEach(handle.stateChanges, onState))))
  })

/** A group of `Service.Tag` services supervised together (`Service.supervisorGroup`). */
export interface Group {
  readonly _tag: "SupervisorGroup"
  readonly label: string
  readonly strategy: "oneForOne" | "oneForAll" | "restForOne"
  readonly options: Omit<Supervisor.Options, "replacement" | "restart">
}

interface Running {
  readonly supervisor: Supervisor.Supervisor
  members: number
}

/**
 * The supervisor of a group in each launch; outside a launch, in each build (one
 * `Layer.build`, `Layer.launch` or `ManagedRuntime`: its memo map), so that two builds that
 * have nothing to do with each other do not share one supervisor (nor its end).
 */
const runningGroups = new WeakMap<Group, WeakMap<object, Running>>()

/**
 * Puts a service under its group's supervisor: the first member of a launch makes the
 * supervisor (which joins the launch's tree) and starts it with the member under it; later
 * members are added to it (started by it). Releasing a member takes it out of the group and
 * stops it; the last one stops the supervisor.
 */
export const joinGroup = (
  group: Group,
  handle: Service.Service,
  restart: Supervisor.RestartType | undefined,
  startScoped: (service: Service.Service) => Effect.Effect<unknown, ServiceError.ServiceError, Scope.Scope>
): Effect.Effect<void, ServiceError.ServiceError, Scope.Scope> =>
  Effect.flatMap(Effect.zip(FiberRef.get(currentRegistry), Layer.CurrentMemoMap), ([registry, build]) => {
    const byLaunch = runningGroups.get(group) ?? new WeakMap<object, Running>()
    runningGroups.set(group, byLaunch)
    const key: object = registry ?? build
    const child = restart === undefined ? handle : Supervisor.child(handle, { restart })
    const existing = byLaunch.get(key)
    const leave = (running: Running) =>
      Effect.suspend(() => {
        running.members--
        if (running.members > 0) return Effect.zipRight(running.supervisor.discard(handle), handle.stop)
        byLaunch.delete(key)
        return running.supervisor.stop
      })
    if (existing !== undefined) {
      existing.members++
      return Effect.zipRight(Effect.addFinalizer(() => leave(existing)), existing.supervisor.add(child))
    }
    return Effect.flatMap(Supervisor.make(group.strategy, group.label, [child], group.options), (supervisor) => {
      const running: Running = { supervisor, members: 1 }
      byLaunch.set(key, running)
      return Effect.zipRight(Effect.addFinalizer(() => leave(running)), Effect.asVoid(startScoped(supervisor)))
    })
  })
