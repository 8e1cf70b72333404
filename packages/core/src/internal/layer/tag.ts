/**
 * `Service.Tag`: a service defined the way `Effect.Service` defines one (a class that is a
 * `Context` tag, with `Default` and `DefaultWithoutDependencies` layers), whose layer makes
 * a lifecycle handle, starts it (its `scoped` builds the typed API inside the start, in the
 * run scope) and stops it on release. Built on the public handle API only: the core's
 * `make` is passed in.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Service from "../../Service.js"
import * as ServiceError from "../../ServiceError.js"
import { checkOptions, show } from "../options.js"
import { asImpl } from "../service/handle.js"
import { inOwnScope, inRunScope, markRunScoped, runScopedHooks, taskInRunScope } from "../service/runScope.js"
import { decodeServiceOptions, hookNames, optionNames } from "../service/validate.js"
import { Current } from "./current.js"
import { handleOf, join, launchEnding, registerApi, startScoped } from "./registry.js"
import { checkSupervise, front, joinGroup, restForOne, superviseHandle, type SuperviseOptions } from "./supervised.js"

type Make = (label: string, options: Service.Options<any, any>) => Effect.Effect<Service.Service, never, any>

type Hook = ((self: Service.Service) => Effect.Effect<void, any, any>) | undefined

/** What `Service.Tag` accepts, untyped (the types are in Service.ts). */
interface Maker extends Omit<Service.Options<any, any>, "dependencies"> {
  readonly scoped?: Effect.Effect<unknown, unknown, unknown>
  readonly effect?: Effect.Effect<unknown, unknown, unknown>
  readonly sync?: () => unknown
  readonly succeed?: unknown
  readonly accessors?: boolean
  readonly dependencies?: ReadonlyArray<Layer.Layer.Any>
  readonly supervise?: SuperviseOptions
}


/** The tag's class is a `Context` tag: it carries the prototype of every Effect tag. */
const TagProto: object = Object.getPrototypeOf(Context.GenericTag("@effect-mode/core/Service/Tag"))

const withCurrent = (fn: (self: Service.Service) => Effect.Effect<void, any, any>) => (self: Service.Service) =>
  Effect.provideService(Effect.suspend(() => fn(self)), Current, self)

/** A declared task that sees `Service.Current`, in the run scope (runScope.ts). */
const taskWithCurrent = (task: Service.Task<any, any>): Service.Task<any, any> => taskInRunScope(task, withCurrent)

/**
 * The `make` options of one instance: every hook and task sees `Service.Current`; the start
 * first builds the API with `scoped` in the run scope (released by the matching stop).
 */
interface Cell {
  built: boolean
  api: unknown
  /** What a restart runs before its start (a rest-for-one waits there for its dependents' stops). */
  beforeRestart: Effect.Effect<void> | undefined
}

const optionsFor = (maker: Maker, cell: Cell): Service.Options<any, any> => {
  const options: Record<string, unknown> = { ...maker }
  for (const name of [...builderNames, "dependencies", "supervise", "accessors"]) delete options[name]
  for (const name of hookNames) {
    const hook: Hook = maker[name]
    if (hook !== undefined) options[name] = (runScopedHooks.has(name) ? inRunScope : inOwnScope)(withCurrent(hook))
  }
  const scoped = builderOf(maker)
  const userStart: Hook = options["onStart"] as Hook
  options["onStart"] = (self: Service.Service) => {
    const impl = asImpl(self)
    const before = impl.children.length === 0 ? undefined : new Set(impl.children)
    return Effect.flatMap(self.addContext(Effect.provideService(scoped, Current, self)), (api) => {
      cell.api = api
      cell.built = true
      // Children that scoped added (`addDependency` on `Service.Current`) belong to this
      // run, as `addRuntimeDependency`'s: scoped runs again at the next start and adds its
      // own, so a restart gives the same tree, not a growing one.
      const run = impl.run
      if (run !== undefined) for (const child of impl.children) if (before?.has(child) !== true) run.addRuntimeChild(child)
      return userStart === undefined ? Effect.void : userStart(self)
    })
  }
  if (maker.tasks !== undefined) options["tasks"] = maker.tasks.map(taskWithCurrent)
  if (maker.supervise?.strategy === "restForOne") {
    const userRestart = options["onRestart"] as Hook
    options["onRestart"] = (self: Service.Service) =>
      Effect.zipRight(cell.beforeRestart ?? Effect.void, userRestart === undefined ? Effect.void : userRestart(self))
  }
  return markRunScoped(options) as Service.Options<any, any>
}

/** The options that build the API, as in `Effect.Service`: at most one is given. */
const builderNames = ["scoped", "effect", "sync", "succeed"] as const

/**
 * The effect that builds the API, from whichever of `scoped`, `effect`, `sync` and `succeed`
 * was given (`{}` without any): each runs inside every start, in the run scope.
 */
const builderOf = (maker: Maker): Effect.Effect<unknown, unknown, unknown> => {
  if (maker.scoped !== undefined) return maker.scoped
  if (maker.effect !== undefined) return maker.effect
  const sync = maker.sync
  if (sync !== undefined) return Effect.sync(() => sync())
  return Effect.succeed("succeed" in maker ? maker.succeed : {})
}

/** Checks the builder options when the tag is declared: one at most, each of its kind. */
const checkBuilder = (key: string, maker: Maker): void => {
  const given = builderNames.filter((name) => maker[name] !== undefined)
  if (given.length > 1) {
    throw new TypeError(`Invalid options of Service.Tag ${JSON.stringify(key)}: give one of ${given.join(", ")}, not ${given.length}`)
  }
  for (const name of ["scoped", "effect"] as const) {
    const value = maker[name]
    if (value !== undefined && !Effect.isEffect(value)) {
      throw new TypeError(`Invalid ${name} of Service.Tag ${JSON.stringify(key)}: ${JSON.stringify(String(value))} is not an Effect`)
    }
  }
  if (maker.sync !== undefined && typeof maker.sync !== "function") {
    throw new TypeError(`Invalid sync of Service.Tag ${JSON.stringify(key)}: ${JSON.stringify(String(maker.sync))} is not a function`)
  }
  if (maker.accessors !== undefined && typeof maker.accessors !== "boolean") {
    throw new TypeError(`Invalid accessors of Service.Tag ${JSON.stringify(key)}: ${JSON.stringify(String(maker.accessors))} is not a boolean`)
  }
}

/**
 * `accessors: true`, as `Effect.Service` does it: every member of the API the class does not
 * have itself is read through the tag (`Self.query(sql)` is `Effect.andThen(Self, (api) =>
 * api.query(sql))`, `Self.lag` is `Effect.andThen(Self, (api) => api.lag)`). A member is both
 * a function and an effect until its first use tells which it is.
 */
const withAccessors = (TagClass: any): any => {
  const cache = new Map<PropertyKey, unknown>()
  return new Proxy(TagClass, {
    get(target, prop, receiver) {
      if (prop in target) return Reflect.get(target, prop, receiver)
      const cached = cache.get(prop)
      if (cached !== undefined) return cached
      const fn = (...args: Array<any>) =>
        Effect.andThen(target, (api: any) => {
          if (typeof api[prop] === "function") {
            cache.set(prop, (...args: Array<any>) => Effect.andThen(target, (api: any) => api[prop](...args)))
            return api[prop](...args)
          }
          cache.set(prop, Effect.andThen(target, (api: any) => api[prop]))
          return api[prop]
        })
      const member = Effect.andThen(target, (api: any) => api[prop])
      Object.assign(fn, member)
      const proto = Object.setPrototypeOf({}, Object.getPrototypeOf(member))
      proto.apply = fn.apply
      proto.bind = fn.bind
      proto.call = fn.call
      Object.setPrototypeOf(fn, proto)
      cache.set(prop, fn)
      return fn
    }
  })
}

/** `Effect.Service`'s constructor: a plain API object is copied, a class instance adopted. */
const makeConstructor = (key: string): any => {
  let patchState: "unchecked" | "plain" | "patched" = "unchecked"
  const TagClass: any = function(this: any, service: any) {
    if (patchState === "unchecked") {
      const proto = Object.getPrototypeOf(service)
      if (proto === Object.prototype || proto === null) {
        patchState = "plain"
      } else {
        Object.setPrototypeOf(Object.getPrototypeOf(this), proto)
        patchState = "patched"
      }
    }
    if (patchState === "plain") {
      Object.assign(this, service)
    } else {
      Object.setPrototypeOf(service, Object.getPrototypeOf(this))
      return service
    }
  }
  TagClass.prototype._tag = key
  return TagClass
}

/**
 * The label of the services a tag's layer makes: the key's last part after a "/" (a key in
 * Effect's `"@app/Database"` style gives "Database": a label has no "/", which separates the
 * labels of a path). Checked when the tag is declared.
 */
const labelOf = (key: unknown): string => {
  if (typeof key !== "string" || key.length === 0) {
    throw new TypeError(`Invalid key of Service.Tag: ${JSON.stringify(String(key))} is not a non-empty string`)
  }
  const label = key.slice(key.lastIndexOf("/") + 1)
  if (label.length === 0) {
    throw new TypeError(`Invalid key of Service.Tag: ${JSON.stringify(key)} (its last part after "/" is the service's label and must not be empty)`)
  }
  return label
}

/**
 * A Tag's `dependencies` are layers (`[Db.Default]`); mode's `dependencies` hook, a function
 * of the service, is `Service.make`'s.
 */
const checkDependencies = (key: string, deps: unknown): void => {
  if (deps === undefined) return
  const at = Array.isArray(deps) ? deps.findIndex((d) => !Layer.isLayer(d)) : -1
  if (Array.isArray(deps) && at < 0) return
  const bad = Array.isArray(deps) ? deps[at] : deps
  throw new TypeError(
    `Invalid dependencies of Service.Tag(${show(key)}): ${show(bad)} is not ${Array.isArray(deps) ? "a layer" : "an array of layers"}` +
      ` (expected layers, e.g. [Db.Default]${typeof deps === "function" ? "; the dependencies hook (self) => Effect is Service.make's option" : ""})`
  )
}

/** @internal */
export const makeTag = (make: Make) => () => (key: string, maker: Maker): any => {
  const label = labelOf(key)
  // The options fail here, when the tag is declared, not when its layer is first built.
  if (maker === undefined) throw new TypeError(`Invalid options of Service.Tag(${show(key)}): "undefined" (expected an object)`)
  checkOptions(maker, `Service.Tag(${show(key)})`, [...optionNames, ...builderNames, "supervise", "accessors"])
  decodeServiceOptions(label, maker, true)
  checkDependencies(key, maker.dependencies)
  checkBuilder(key, maker)
  if (maker.supervise !== undefined) checkSupervise(label, maker.supervise)
  const creationError = new Error()
  const TagClass = makeConstructor(key)
  Object.assign(TagClass, TagProto)
  TagClass.key = key
  Object.defineProperty(TagClass, "stack", { get: () => creationError.stack })
  Object.defineProperty(TagClass, "make", {
    get() {
      return (service: unknown) => new this(service)
    }
  })
  Object.defineProperty(TagClass, "use", {
    get() {
      return (body: (_: unknown) => unknown) => Effect.andThen(this, body)
    }
  })
  Object.defineProperty(TagClass, "handle", {
    get() {
      return Effect.flatMap(this as Context.Tag<unknown, unknown>, (api) => {
        const handle = handleOf(api)
        return handle === undefined
          ? Effect.dieMessage(`${key}: this ${key} was not built by its Service.Tag layer and has no lifecycle handle`)
          : Effect.succeed(handle)
      })
    }
  })
  let layerCache: Layer.Layer.Any | undefined
  Object.defineProperty(TagClass, "DefaultWithoutDependencies", {
    get(this: any) {
      const Self = this
      return layerCache ??= Layer.scopedContext(Effect.gen(function*() {
        const cell: Cell = { built: false, api: undefined, beforeRestart: undefined }
        const handle = yield* make(label, optionsFor(maker, cell))
        const supervise = maker.supervise
        if (supervise === undefined) {
          yield* startScoped(handle)
        } else if (supervise.group !== undefined) {
          // The service hangs under its group's supervisor, which joins the tree instead.
          yield* joinGroup(supervise.group, handle, supervise.restart, startScoped)
          yield* join(handle, yield* Effect.context<never>())
        } else {
          // The service hangs under a supervisor of its own, which joins the tree instead.
          const supervisor = yield* superviseHandle(label, handle, supervise)
          yield* join(handle, yield* Effect.context<never>())
          // A failed first start is the service's (its supervisor failed to start because it did).
          yield* Effect.catchTag(startScoped(supervisor), "StartFailed", (error) => {
            const inner = Cause.failureOption(error.cause)
            return Effect.fail(
              inner._tag === "Some" && inner.value instanceof ServiceError.StartFailed && inner.value.label === label
                ? inner.value
                : error
            )
          })
          if (supervise.strategy === "restForOne") yield* restForOne(handle, cell)
        }
        // A stop asked for during the start (the launch is ending) leaves no API to give. A
        // supervised service that crashed at once is its supervisor's to restart: the API is
        // given, and calls wait for the new instance.
        // (A restart of the service asked for meanwhile is not a stop: the API is given.)
        const stopping = (yield* launchEnding) && (supervise === undefined || !(yield* handle.crashed))
        if (!cell.built || stopping) return yield* Effect.interrupt
        let instance: object
        if (supervise === undefined) {
          instance = new Self(cell.api)
          // A plain API object is copied: its members are read from the current instance,
          // so after a restart (scoped ran again) callers reach the new one.
          if (instance !== cell.api) {
            for (const name of Reflect.ownKeys(cell.api as object)) {
              Object.defineProperty(instance, name, {
                get: () => (cell.api as Record<PropertyKey, unknown>)[name],
                // A method that updates its object (`this.hits++`) updates the current one.
                set: (value: unknown) => {
                  ;(cell.api as Record<PropertyKey, unknown>)[name] = value
                },
                enumerable: true
              })
            }
          }
        } else {
          const current = () => cell.api as Record<PropertyKey, unknown>
          const { getters, values } = front(label, handle, current, supervise)
          instance = new Self(values)
          for (const name of getters) {
            Object.defineProperty(instance, name, { get: () => current()[name], enumerable: true })
          }
        }
        registerApi(instance, handle)
        return Context.make(TagClass as Context.Tag<unknown, unknown>, instance)
      }))
    }
  })
  let layerWithDepsCache: Layer.Layer.Any | undefined
  Object.defineProperty(TagClass, "Default", {
    get(this: any) {
      const deps = maker.dependencies
      if (deps === undefined || deps.length === 0) return this.DefaultWithoutDependencies
      return layerWithDepsCache ??= Layer.provide(
        this.DefaultWithoutDependencies,
        deps as [Layer.Layer.Any, ...Array<Layer.Layer.Any>]
      )
    }
  })
  return maker.accessors === true ? withAccessors(TagClass) : TagClass
}

/**
 * Forks a declared task (task, timer, crontab) into the run of the service being built
 * (`Service.Current`): the way `scoped` starts loops that use the state it creates. Owned by
 * the run (interrupted by the stop); a failure crashes the service, or is logged with
 * `onError: "log"`; the task's name is its span, shown in the dump.
 *
 * @internal
 */
export const addTask = <E, R>(task: Service.Task<E, R>): Effect.Effect<void, never, R | Current> =>
  Effect.flatMap(Current, (self) => {
    const name = task.name ?? "task"
    const body = Effect.withSpan(Effect.suspend(() => task.run(self)), name)
    const guarded = task.onError === "log"
      ? Effect.catchAllCause(body, (cause) =>
        Cause.isInterruptedOnly(cause) ? Effect.failCause(cause) : Effect.logError(`Task ${name} failed`, cause))
      : body
    return Effect.asVoid(self.addFuture(Effect.annotateLogs(guarded, "task", name)))
  })
