/**
 * A live view of a service tree in the browser, like Erlang's `observer`: every service
 * with its state, uptime, restart count, Diag flags and their last transitions, its tasks
 * with status and age, its timers' statistics, a supervisor's strategy, and a feed of lifecycle events (start, stop, crash, restart,
 * escalation), updated over server-sent events without reloading. Optional actions
 * (stop, restart or crash a service; the task dump) only with a token.
 *
 * The Worker serves it on its health server (`Worker.runMain(app, { health: { port,
 * observer: true } })`); `Observer.layer` serves it on a port of its own for programs that
 * do not run the Worker. The page ships in the package: no CDN, no network at run time.
 * See `docs/guide/observer.md`.
 *
 * @since 0.2.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as http from "node:http"
import { Service } from "@effect-mode/core"
import * as internalHandler from "./internal/observer/handler.js"
import * as internalOptions from "./internal/observer/options.js"
import * as internalServer from "./internal/observer/server.js"

/**
 * What the observer does besides showing the tree. Checked when given: a bad value
 * throws a `TypeError` naming it.
 *
 * @example
 * ```ts
 * import type { Observer } from "@effect-mode/node"
 *
 * const options: Observer.Options = {
 *   actions: { token: process.env["OBSERVER_TOKEN"] ?? "change-me-please" },
 *   interval: "1 second"
 * }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /**
   * Turns the actions on (stop, restart, crash a service; the task dump), each of which
   * then needs this token: the `x-observer-token` header, `authorization: Bearer <token>`
   * or the `token` query parameter. Off by default (every action is answered 403).
   */
  readonly actions?: { readonly token: string }
  /** How often the tree is read (by `Clock`). Default "500 millis". */
  readonly interval?: Duration.DurationInput
  /** Pages connected at once at most; one more is answered 503. Default 8. */
  readonly maxClients?: number
  /** Events kept for a page that connects. Default 200. */
  readonly feedSize?: number
  /**
   * Answer clients that are not on the loopback interface. Default false: only loopback
   * clients (which `kubectl port-forward` is) get an answer other than 403.
   * `Observer.layer` with a `host` other than a loopback address turns it on.
   */
  readonly allowRemote?: boolean
}

/**
 * The options of `Observer.layer` and `Observer.serve`: the port and host of the
 * observer's own server, and the observer's options.
 *
 * @example
 * ```ts
 * import type { Observer } from "@effect-mode/node"
 *
 * const options: Observer.ServerOptions = { port: 9091 } // http://127.0.0.1:9091/observer
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface ServerOptions extends Options {
  /** 0 picks a free port. */
  readonly port: number
  /** Default "127.0.0.1". */
  readonly host?: string
}

/**
 * The services whose trees are shown: one, or several.
 *
 * @example
 * ```ts
 * import { Service } from "@effect-mode/core"
 * import type { Observer } from "@effect-mode/node"
 *
 * const roots = (a: Service.Service, b: Service.Service): Observer.Roots => [a, b]
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Roots = Service.Service | ReadonlyArray<Service.Service>

/**
 * The observer as a request handler, for a `node:http` server of your own: `owns` tells
 * whether a request is the observer's (its target is `/observer` or under it), `handle`
 * answers it (never fails, never waits on a service).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Observer } from "@effect-mode/node"
 * import type * as http from "node:http"
 *
 * const route = (observer: Observer.Handler, req: http.IncomingMessage, res: http.ServerResponse) =>
 *   observer.owns(req.url) ? observer.handle(req, res) : Effect.sync(() => res.writeHead(404).end())
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Handler {
  readonly owns: (url: string | undefined) => boolean
  readonly handle: (req: http.IncomingMessage, res: http.ServerResponse) => Effect.Effect<void>
}

/**
 * The observer's own server could not listen (the port is taken, the address is not
 * available).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Observer } from "@effect-mode/node"
 *
 * const report = (e: Observer.ObserverError) => Effect.logError(e.message)
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export type ObserverError = internalServer.ObserverError
export const ObserverError: typeof internalServer.ObserverError = internalServer.ObserverError

const toList = (roots: Roots): ReadonlyArray<Service.Service> => Service.isService(roots) ? [roots] : roots

/**
 * Makes the observer's request handler. `roots` is read at every round (every
 * `interval`), so an effect can name services that come and go. Its state, the fibers
 * that read the tree and those of the actions are owned by the scope.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 * import { Observer } from "@effect-mode/node"
 *
 * const program = Effect.gen(function* () {
 *   const app = yield* Service.make("App")
 *   const observer = yield* Observer.handler(app)
 *   observer.owns("/observer/events") // true
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const handler = (
  roots: Roots | Effect.Effect<Roots>,
  options: Options = {}
): Effect.Effect<Handler, never, Scope.Scope> => {
  const config = internalOptions.resolve(options)
  const read = Effect.isEffect(roots) ? Effect.map(roots, toList) : Effect.succeed(toList(roots))
  return internalHandler.makeHandler(read, config)
}

const serveWith = <E, R>(roots: Roots | Effect.Effect<Roots, E, R>, config: internalOptions.ServerConfig) =>
  Effect.flatMap(
    Effect.isEffect(roots) ? roots : Effect.succeed(roots),
    (found) => internalServer.serve(Effect.succeed(toList(found)), config)
  )

/**
 * Serves the observer of `roots` on a server of its own until the scope closes; succeeds
 * with the bound port (useful with `port: 0`). An effect given as `roots` (a `Context.Tag`
 * of a service, say) is run once, when the server starts. Binds 127.0.0.1 unless `host`
 * says otherwise.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 * import { Observer } from "@effect-mode/node"
 *
 * const program = Effect.scoped(Effect.gen(function* () {
 *   const app = yield* Service.make("App")
 *   yield* app.start
 *   const port = yield* Observer.serve(app, { port: 0 })
 *   yield* Effect.log(`open http://127.0.0.1:${port}/observer`)
 *   yield* app.waitUntilStopped
 * }))
 * ```
 *
 * @since 0.2.0
 * @category running
 */
export const serve = <E = never, R = never>(
  roots: Roots | Effect.Effect<Roots, E, R>,
  options: ServerOptions
): Effect.Effect<number, ObserverError | E, R | Scope.Scope> =>
  serveWith(roots, internalOptions.resolveServer(options)) as Effect.Effect<number, ObserverError | E, R | Scope.Scope>

/**
 * The observer on a server of its own, as a layer: for programs that do not run the
 * Worker (whose health server has it already, with `health: { observer: true }`). The
 * server closes when the layer is released. Options are checked here: a bad one throws a
 * `TypeError` naming it.
 *
 * @example
 * ```ts
 * import { Context, Effect, Layer } from "effect"
 * import { Service } from "@effect-mode/core"
 * import { Observer } from "@effect-mode/node"
 *
 * class App extends Context.Tag("App")<App, Service.Service>() {}
 *
 * const AppLive = Layer.scoped(
 *   App,
 *   Effect.acquireRelease(Effect.tap(Service.make("App"), (app) => app.start), (app) => app.stop)
 * )
 * // http://127.0.0.1:9091/observer while the layer is alive
 * const Live = Observer.layer(App, { port: 9091 }).pipe(Layer.provideMerge(AppLive))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = <E = never, R = never>(
  roots: Roots | Effect.Effect<Roots, E, R>,
  options: ServerOptions
): Layer.Layer<never, ObserverError | E, R> => {
  const config = internalOptions.resolveServer(options)
  return Layer.scopedDiscard(serveWith(roots, config)) as Layer.Layer<never, ObserverError | E, R>
}
