/**
 * The observer on a server of its own (`Observer.layer`, for programs that do not run
 * the Worker): each request is answered on a fiber of the scope; a request outside
 * `/observer` is redirected to it (`/`) or answered 404. Closing the scope closes the
 * server and every connection.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import { once } from "node:events"
import type { AddressInfo } from "node:net"
import type { Service } from "@effect-mode/core"
import { refuseConnect, urlHost } from "../health.js"
import { type Handler, makeHandler } from "./handler.js"
import type { ServerConfig } from "./options.js"

/** The observer's server could not listen (port taken, address not available...). */
export class ObserverError extends Data.TaggedError("ObserverError")<{
  readonly message: string
  readonly cause: unknown
}> {}

const outside = (req: http.IncomingMessage, res: http.ServerResponse): void => {
  if ((req.url ?? "/").split("?")[0] === "/") {
    res.writeHead(302, { location: "/observer" }).end()
  } else {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found: the observer is at /observer\n")
  }
}

const listen = (server: http.Server, config: ServerConfig): Effect.Effect<number, ObserverError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => {
        const listening = once(server, "listening")
        server.listen(config.port, config.host)
        return listening
      },
      catch: (error) =>
        new ObserverError({ message: `cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`, cause: error })
    }).pipe(Effect.map(() => (server.address() as AddressInfo).port)),
    () => Effect.sync(() => server.close().closeAllConnections())
  )

/** Serves the observer of `roots`; succeeds with the bound port (useful with port 0). */
export const serve = (
  roots: Effect.Effect<ReadonlyArray<Service.Service>>,
  config: ServerConfig
): Effect.Effect<number, ObserverError, Scope.Scope> =>
  Effect.gen(function*() {
    const handler: Handler = yield* makeHandler(roots, config)
    const answer = yield* FiberSet.runtime(yield* FiberSet.make())<never>()
    const server = http.createServer((req, res) => {
      if (handler.owns(req.url)) answer(handler.handle(req, res))
      else outside(req, res)
    })
    refuseConnect(server, "GET, HEAD, POST")
    const port = yield* listen(server, config)
    yield* Effect.log(`[Observer] http://${urlHost(config.host)}:${port}/observer`)
    return port
  })
