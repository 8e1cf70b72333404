/**
 * `Service.launch`: builds a layer with a registry open, so that every service the layer
 * builds (however the user's layers wrap it) hangs under one root, in start order; runs
 * until interrupted or until the tree crashes; then releases the layer (services stop in
 * the reverse order of the layer graph) and stops the root. Built on the public handle API
 * only: the core's `make` is passed in.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import type * as Service from "../../Service.js"
import * as ServiceError from "../../ServiceError.js"
import { crashOf } from "../../ServiceGraph.js"
import { currentRegistry, type Registry } from "./registry.js"

type Make = (label: string, options: Service.Options<never, never>) => Effect.Effect<Service.Service>

/** The options of `Service.launch`. */
export interface LaunchOptions {
  /** The label of the root made by the launch. Default "App". */
  readonly label?: string
  /** A service of your own to hang the layer's services under (started first, stopped last). */
  readonly root?: Service.Service
}

/** `Crashed` for the crash recorded on the root, if any. */
const crashedError = (root: Service.Service): Effect.Effect<ServiceError.Crashed | undefined> =>
  Effect.map(crashOf(root), (crash) => {
    if (crash === undefined) return undefined
    const label = crash.origin.slice(crash.origin.lastIndexOf("/") + 1)
    return new ServiceError.Crashed({ label, path: crash.origin, cause: crash.cause })
  })

/** @internal */
export const makeLaunch = (make: Make) =>
<ROut, E, RIn>(
  layer: Layer.Layer<ROut, E, RIn>,
  options: LaunchOptions = {}
): Effect.Effect<never, E | ServiceError.ServiceError, RIn> =>
  Effect.scoped(Effect.gen(function*() {
    const root = options.root ?? (yield* make(options.label ?? "App", { mundaneLevel: "debug" }))
    // Finalizers run in reverse: the layer is released first, then the root stops.
    yield* Effect.addFinalizer(() => root.stop)
    yield* root.maybeStart
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer((exit) => Scope.close(scope, exit))
    const registry: Registry = { root, members: new Set() }
    const built = yield* Effect.exit(Effect.locally(Layer.buildWithScope(layer, scope), currentRegistry, registry))
    // Without a crash, runs until interrupted (or until some code stops the root).
    if (Exit.isSuccess(built)) yield* root.waitUntilStopped
    const crashed = yield* crashedError(root)
    if (crashed !== undefined) {
      // A crash stops the tree in the background, in reverse start order: wait for that
      // stop before the layer's other resources are released.
      yield* root.stop
      return yield* Effect.fail(crashed)
    }
    if (Exit.isFailure(built)) return yield* Effect.failCause(built.cause)
    return yield* Effect.interrupt
  }))
