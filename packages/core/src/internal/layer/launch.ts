/**
 * `Service.launch`: builds a layer with a registry open, so that every service the layer
 * builds (however the user's layers wrap it) hangs under one root, in start order; runs
 * until interrupted or until the tree crashes; then releases the layer (services stop in
 * the reverse order of the layer graph) and stops the root. Built on the public handle API
 * only: the core's `make` is passed in.
 *
 * @internal
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import type * as Service from "../../Service.js"
import * as ServiceError from "../../ServiceError.js"
import { crashOf } from "../../ServiceGraph.js"
import { checkOptions, show } from "../options.js"
import { isHandle } from "../service.js"
import { checkLabel } from "../service/validate.js"
import { currentRegistry, type Registry } from "./registry.js"

type Make = (label: string, options: Service.Options<never, never>) => Effect.Effect<Service.Service>

/** The options of `Service.launch`. */
export interface LaunchOptions {
  /** The label of the root made by the launch. Default "App". */
  readonly label?: string
  /** A service of your own to hang the layer's services under (started once the layer is built, stopped last). */
  readonly root?: Service.Service
}

/** `Crashed` for the crash recorded on the root, if any. */
const crashedError = (root: Service.Service): Effect.Effect<ServiceError.Crashed | undefined> =>
  Effect.map(crashOf(root), (crash) => {
    if (crash === undefined) return undefined
    const label = crash.origin.slice(crash.origin.lastIndexOf("/") + 1)
    return new ServiceError.Crashed({ label, path: crash.origin, cause: crash.cause })
  })

/** Whether the crash recorded on the root came from a service under it. */
const crashedBelow = (root: Service.Service): Effect.Effect<boolean> =>
  Effect.flatMap(crashOf(root), (crash) =>
    crash === undefined ? Effect.succeed(false) : Effect.map(root.beacon.path, (path) => crash.origin !== path))

/** The roots made by `launchRoot`: their start ends when the launch's layer is built. */
const gates = new WeakMap<Service.Service, Deferred.Deferred<void>>()

/** The layer scope of the launch a `launchRoot` root runs: its `onStop` releases it. */
const layerScopes = new WeakMap<Service.Service, Scope.CloseableScope>()

/**
 * A root for `Service.launch`: its start begins before the layer is built and ends (it is
 * `running`) once the layer is built, so the tree reads "starting" while the program comes
 * up, and a crash meanwhile stops what was built in reverse start order (a root's stop
 * stops its children one by one, in reverse).
 *
 * @internal
 */
export const makeLaunchRoot = (make: Make) => (label: string): Effect.Effect<Service.Service> =>
  Effect.flatMap(Deferred.make<void>(), (gate) =>
    Effect.map(make(label, {
      mundaneLevel: "debug",
      onStarted: () => Deferred.await(gate),
      // The root's stop releases the layer first (its services stop in the reverse order of
      // the layer graph, the layer's other resources are released), so the root reads
      // "stopping" for the whole release, and its children are stopped by then.
      onStop: (self) =>
        Effect.suspend(() => {
          const scope = layerScopes.get(self)
          return scope === undefined ? Effect.void : Scope.close(scope, Exit.void)
        })
    }), (root) => {
      gates.set(root, gate)
      return root
    }))

/** `launch`'s arguments, checked: a defect of its effect names a bad one (as `Service.make`'s label). */
const checkLaunch = (layer: unknown, options: LaunchOptions | undefined): LaunchOptions => {
  if (!Layer.isLayer(layer)) throw new TypeError(`Invalid layer of Service.launch: ${show(layer)} is not a Layer`)
  const checked = checkOptions(options, "Service.launch", ["label", "root"])
  if (checked.root !== undefined && !isHandle(checked.root)) {
    throw new TypeError(`Invalid root of Service.launch: ${show(checked.root)} is not a service`)
  }
  if (checked.label !== undefined) checkLabel(checked.label, "Service.launch")
  return checked
}

/** @internal */
export const makeLaunch = (make: Make) => {
  const launchRoot = makeLaunchRoot(make)
  return <ROut, E, RIn>(
    layer: Layer.Layer<ROut, E, RIn>,
    launchOptions?: LaunchOptions
  ): Effect.Effect<never, E | ServiceError.ServiceError, RIn> =>
    Effect.scoped(Effect.gen(function*() {
      const options = checkLaunch(layer, launchOptions)
      const root = options.root ?? (yield* launchRoot(options.label ?? "App"))
      const gate = gates.get(root)
      const scope = yield* Scope.make()
      const registry: Registry = { root, members: new Set() }
      // Last of all: what the launch hung under the root leaves it (a root of one's own
      // that is launched again gets the new build's services, not the old ones too).
      yield* Effect.addFinalizer(() =>
        Effect.forEach(Array.from(registry.members).reverse(), (member) => root.removeDependency(member), { discard: true })
      )
      // Finalizers run in reverse. A launch root's stop releases the layer (its onStop);
      // with another root, the layer is released first, then the root stops.
      if (gate === undefined) {
        yield* Effect.addFinalizer(() => root.stop)
        yield* Effect.addFinalizer((exit) => Scope.close(scope, exit))
      } else {
        layerScopes.set(root, scope)
        yield* Effect.addFinalizer((exit) => Scope.close(scope, exit))
        yield* Effect.addFinalizer(() => root.stop)
      }
      // A launch root starts now and is running once the layer is built; another root
      // starts once the layer is built.
      const starting = gate === undefined ? undefined : yield* Effect.forkScoped(Effect.either(root.maybeStart))
      const built = yield* Effect.exit(Effect.locally(Layer.buildWithScope(layer, scope), currentRegistry, registry))
      if (Exit.isSuccess(built) && !(yield* root.crashed)) {
        if (gate !== undefined) yield* Deferred.succeed(gate, undefined)
        const started = starting === undefined ? yield* Effect.either(root.maybeStart) : yield* Fiber.join(starting)
        if (started._tag === "Right") {
          // Without a crash, runs until interrupted (or until some code stops the root).
          yield* root.waitUntilStopped
        } else if (!(yield* crashedBelow(root))) {
          // The root's own start failed (a hook of a root of one's own). A service under it
          // that crashed while the root was starting is reported as the crash it is, below.
          return yield* Effect.fail(started.left)
        }
      }
      const crashed = yield* crashedError(root)
      if (crashed !== undefined) {
        // A crash stops the tree in the background, in reverse start order: wait for that
        // stop (each stop joins the one in flight) before the layer's other resources are
        // released.
        yield* root.stop
        yield* Effect.forEach(Array.from(registry.members).reverse(), (member) => member.stop, { discard: true })
        return yield* Effect.fail(crashed)
      }
      if (Exit.isFailure(built)) return yield* Effect.failCause(built.cause)
      return yield* Effect.interrupt
    }))
}
