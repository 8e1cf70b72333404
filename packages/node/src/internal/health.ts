import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import { ServiceGraph } from "@effect-mode/core"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import type { Handler as Observer } from "./observer/handler.js"
import type { Roots } from "./roots.js"

interface Exchange {
  readonly req: http.IncomingMessage
  readonly res: http.ServerResponse
}

interface Reply {
  readonly status: number
  readonly type: "text/plain; charset=utf-8" | "application/json"
  readonly body: string
}

const text = (status: number, body: string): Reply => ({ status, type: "text/plain; charset=utf-8", body: `${body}\n` })
const json = (status: number, value: unknown): Reply => ({
  status,
  type: "application/json",
  body: `${JSON.stringify(value, null, 2)}\n`
})

const endpoints = [
  "/livez      200 while the process answers",
  "/readyz     200 when every root service is running and no stop has begun, else 503",
  "/healthz    /readyz with the service tree as JSON",
  "/debug/snapshot  ServiceGraph.snapshot of every root (JSON)",
  "/debug/dump      the task dump (as on the dump signal)",
  "/debug/mermaid   ServiceGraph.toMermaid",
  "/debug/dot       ServiceGraph.toDot"
]

/** Not ready: the roots that are not running (or "stopping" once a stop has begun). */
const notReady = (snapshots: ReadonlyArray<ServiceGraph.Snapshot>, stopping: boolean): Array<string> => {
  if (snapshots.length === 0) return ["no service yet"]
  const out = snapshots.filter((r) => r.state !== "running").map((r) => `${r.path} (${r.state})`)
  if (stopping) out.push("worker stopping")
  return out
}

const route = (roots: Roots, stopping: () => boolean, path: string): Effect.Effect<Reply> => {
  switch (path) {
    case "/livez":
      return Effect.succeed(text(200, "ok"))
    case "/readyz":
      return Effect.map(roots.snapshots, (services) => {
        const reasons = notReady(services, stopping())
        return reasons.length === 0 ? text(200, "ready") : text(503, `not ready: ${reasons.join(", ")}`)
      })
    case "/healthz":
      return Effect.map(roots.snapshots, (services) => {
        const reasons = notReady(services, stopping())
        return json(reasons.length === 0 ? 200 : 503, {
          status: reasons.length === 0 ? "ready" : "not ready",
          reasons,
          pid: process.pid,
          services
        })
      })
    case "/debug/snapshot":
      return Effect.map(roots.snapshots, (s) => json(200, s))
    case "/debug/dump":
      return Effect.map(roots.dump, (d) => text(200, d))
    case "/debug/mermaid":
      return Effect.map(Effect.forEach(roots.all, ServiceGraph.toMermaid), (s) => text(200, s.join("\n")))
    case "/debug/dot":
      return Effect.map(Effect.forEach(roots.all, ServiceGraph.toDot), (s) => text(200, s.join("\n")))
    case "/":
    case "/debug":
      return Effect.succeed(text(200, endpoints.join("\n")))
    default:
      return Effect.succeed(text(404, `not found: ${path}\n${endpoints.join("\n")}`))
  }
}

const answer = (roots: Roots, stopping: () => boolean, { req, res }: Exchange, observer?: Observer): Effect.Effect<void> => {
  if (observer?.owns(req.url)) return observer.handle(req, res)
  if (req.method !== "GET" && req.method !== "HEAD") {
    return Effect.sync(() => res.writeHead(405, { allow: "GET, HEAD" }).end())
  }
  const path = new URL(req.url ?? "/", "http://worker").pathname.replace(/\/+$/, "") || "/"
  return Effect.flatMap(route(roots, stopping, path), (reply) =>
    Effect.sync(() => {
      res.writeHead(reply.status, { "content-type": reply.type, "cache-control": "no-store" })
      res.end(req.method === "HEAD" ? undefined : reply.body)
    })).pipe(
      Effect.catchAllCause((cause) =>
        Effect.zipRight(
          Effect.logWarning(`[Worker] Health endpoint ${path} failed`, cause),
          Effect.sync(() => {
            if (!res.headersSent) res.writeHead(500)
            res.end()
          })
        )
      ),
      Effect.catchAllDefect(() => Effect.void)
    )
}

/**
 * The health and debug endpoints on `node:http`: the request callback only queues the
 * request; a fiber of the worker's scope answers it. Closing the scope closes the server
 * and every open connection. Succeeds with the bound port (useful with port 0).
 */
export const serve = (
  roots: Roots,
  config: { readonly port: number; readonly host: string | undefined },
  stopping: () => boolean,
  observer?: Observer
): Effect.Effect<number, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const queue = yield* Queue.unbounded<Exchange>()
    const server = http.createServer((req, res) => {
      queue.unsafeOffer({ req, res })
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number, Error>((resume) => {
        const onError = (error: Error) => resume(Effect.fail(error))
        server.once("error", onError)
        server.listen(config.port, config.host, () => {
          server.removeListener("error", onError)
          resume(Effect.succeed((server.address() as AddressInfo).port))
        })
      }),
      () =>
        Effect.sync(() => {
          server.closeAllConnections()
          server.close()
        })
    )
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(queue), (ex) => answer(roots, stopping, ex, observer))))
    return port
  })
