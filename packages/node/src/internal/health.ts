/**
 * The health and debug endpoints on `node:http`. The request callback only queues the
 * request; a dispatcher fiber forks one fiber per request into a `FiberSet` of the
 * worker's scope, so requests are answered concurrently. The cheap ones (`/livez`, the
 * index, errors) are answered at once. The others are admitted up to `maxInFlight` at a
 * time (more get 503 at once): `/readyz` and `/healthz` share one evaluation of the tree
 * and its checks (and one rendering of it); the `/debug/*` pages run at most
 * `heavyConcurrency` at a time. That work runs on a timer scheduler, so that it yields to
 * the event loop and `/livez` is answered even while a large tree is being read.
 * Every request gets an answer: 400 for a path that cannot be parsed, 500 for a failure.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import * as FiberSet from "effect/FiberSet"
import * as Queue from "effect/Queue"
import * as Scheduler from "effect/Scheduler"
import type * as Scope from "effect/Scope"
import { type HealthCheck, ServiceGraph } from "@effect-mode/core"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import type { Duplex } from "node:stream"
import type { Handler as Observer } from "./observer/handler.js"
import type { ResolvedHealth } from "./options.js"
import type { Roots } from "./roots.js"

/** Requests other than the cheap ones admitted at once (served or waiting); `/debug/*` pages served at once. */
export const maxInFlight = 256
export const heavyConcurrency = 4

/** One request and its response. */
export interface Exchange {
  readonly req: http.IncomingMessage
  readonly res: http.ServerResponse
}

/** A complete answer; `write` sends it. */
export interface Reply {
  readonly status: number
  /** The content type, e.g. "text/html; charset=utf-8". */
  readonly type: string
  readonly body: string
  readonly headers?: Record<string, string>
}

export const text = (status: number, body: string): Reply => ({ status, type: "text/plain; charset=utf-8", body: `${body}\n` })
export const json = (status: number, body: string): Reply => ({ status, type: "application/json", body: `${body}\n` })

/** What a route reads. */
export interface HealthContext {
  readonly roots: Roots
  readonly config: ResolvedHealth
  /** True once the worker's stop has begun. */
  readonly stopping: () => boolean
  /** The tree's readiness and checks, one evaluation shared by concurrent requests. */
  readonly status: Effect.Effect<Status>
  /** Whether the observer is served under `/observer` (the index lists it). */
  readonly observer: boolean
}

/** One evaluation of the tree: snapshots, readiness reasons, check results. */
export interface Status {
  readonly services: ReadonlyArray<ServiceGraph.Snapshot>
  readonly reasons: ReadonlyArray<string>
  readonly checks: ReadonlyArray<HealthCheck.Result>
}

/**
 * One entry of the route table. A key ending in `/*` serves every path under it; `path`
 * is then the request's path. A route that answers by itself (a stream, a file) returns
 * `undefined` once it wrote to `ex.res`.
 */
export interface Route {
  readonly describe: string
  /**
   * What answering costs: "cheap" (answered at once), "shared" (admitted up to
   * `maxInFlight`; the work is shared, e.g. through `ctx.status`), "heavy" (admitted, and
   * at most `heavyConcurrency` at a time).
   */
  readonly cost: "cheap" | "shared" | "heavy"
  readonly reply: (ctx: HealthContext, path: string, ex: Exchange) => Effect.Effect<Reply | undefined>
}

const reasonsNow = (ctx: HealthContext, status: Status): Array<string> =>
  ctx.stopping() ? [...status.reasons, "worker stopping"] : [...status.reasons]

const readyz = (ctx: HealthContext, status: Status): Reply => {
  const reasons = reasonsNow(ctx, status)
  return reasons.length === 0 ? text(200, "ready") : text(503, `not ready: ${reasons.join(", ")}`)
}

/** The `/healthz` body of one evaluation, rendered once for all the requests that share it. */
const rendered = new WeakMap<Status, { readonly stopping: boolean; readonly reply: Reply }>()

const healthz = (ctx: HealthContext, status: Status): Reply => {
  const stopping = ctx.stopping()
  const cached = rendered.get(status)
  if (cached !== undefined && cached.stopping === stopping) return cached.reply
  const reasons = reasonsNow(ctx, status)
  const body = JSON.stringify({
    status: reasons.length === 0 ? "ready" : "not ready",
    reasons,
    readiness: ctx.config.readinessName,
    pid: process.pid,
    checks: status.checks,
    services: status.services
  })
  const reply = json(reasons.length === 0 ? 200 : 503, body)
  rendered.set(status, { stopping, reply })
  return reply
}

/** The routes, by path (or `prefix/*`): one line each. */
const routes: Record<string, Route> = {
  "/livez": { describe: "200 while the process answers", cost: "cheap", reply: () => Effect.succeed(text(200, "ok")) },
  "/readyz": {
    describe: "200 when every service is running, no check fails and no stop has begun, else 503",
    cost: "shared",
    reply: (ctx) => Effect.map(ctx.status, (status) => readyz(ctx, status))
  },
  "/healthz": {
    describe: "/readyz with the reasons, the check results and the service tree (JSON)",
    cost: "shared",
    reply: (ctx) => Effect.map(ctx.status, (status) => healthz(ctx, status))
  },
  "/debug/snapshot": {
    describe: "ServiceGraph.snapshot of every root (JSON)",
    cost: "heavy",
    reply: (ctx) => Effect.map(ctx.roots.snapshots, (s) => json(200, JSON.stringify(s)))
  },
  "/debug/dump": {
    describe: "the task dump (as on the dump signal)",
    cost: "heavy",
    reply: (ctx) => Effect.map(ctx.roots.dump, (d) => text(200, d))
  },
  "/debug/mermaid": {
    describe: "ServiceGraph.toMermaid",
    cost: "heavy",
    reply: (ctx) => Effect.map(Effect.forEach(ctx.roots.all, ServiceGraph.toMermaid), (s) => text(200, s.join("\n")))
  },
  "/debug/dot": {
    describe: "ServiceGraph.toDot",
    cost: "heavy",
    reply: (ctx) => Effect.map(Effect.forEach(ctx.roots.all, ServiceGraph.toDot), (s) => text(200, s.join("\n")))
  }
}

const index = (ctx: HealthContext): string => {
  const lines = Object.entries(routes).map(([path, r]) => `${path.padEnd(16)} ${r.describe}`)
  if (ctx.observer) lines.push(`${"/observer".padEnd(16)} the observer's page (its state, events and actions under it)`)
  return lines.join("\n")
}

/** The route of a path: exact, else the longest `prefix/*` that holds it. */
const routeOf = (path: string): Route | undefined => {
  if (path === "/" || path === "/debug") return indexRoute
  const exact = routes[path]
  if (exact !== undefined) return exact
  let best: string | undefined
  for (const key of Object.keys(routes)) {
    if (!key.endsWith("/*")) continue
    const prefix = key.slice(0, -2)
    if ((path === prefix || path.startsWith(`${prefix}/`)) && (best === undefined || key.length > best.length)) best = key
  }
  return best === undefined ? undefined : routes[best]
}

const indexRoute: Route = { describe: "this list", cost: "cheap", reply: (ctx) => Effect.succeed(text(200, index(ctx))) }

/** The path of a request, or undefined when it cannot be parsed (`//`, garbage). */
/** A host as a URL writes it: an IPv6 address in brackets (`http://[::1]:8080`). */
export const urlHost = (host: string): string => host.includes(":") && !host.startsWith("[") ? `[${host}]` : host

export const pathOf = (url: string | undefined): string | undefined => {
  try {
    const raw = url ?? "/"
    // A request target is a path: "//livez" is not the host "livez" with the path "/".
    const path = new URL(raw.startsWith("/") ? `http://worker${raw}` : raw, "http://worker").pathname
    if (/^\/\/+$/.test(path)) return undefined
    return path.replace(/\/+$/, "") || "/"
  } catch {
    return undefined
  }
}

/**
 * One evaluation at a time: callers that arrive while one is running wait for it and get
 * its result instead of starting their own.
 */
export const singleFlight = <A>(effect: Effect.Effect<A>): Effect.Effect<A> => {
  let current: Deferred.Deferred<A> | undefined
  return Effect.uninterruptibleMask((restore) =>
    Effect.suspend(() => {
      if (current !== undefined) return restore(Deferred.await(current))
      const flight = Deferred.unsafeMake<A>(FiberId.none)
      current = flight
      return Effect.flatMap(Effect.exit(restore(effect)), (exit) => {
        current = undefined
        Deferred.unsafeDone(flight, exit)
        return exit
      })
    })
  )
}

/** The readiness and checks of every tree, read through `ServiceGraph` and `HealthCheck`. */
const evaluate = (roots: Roots, config: ResolvedHealth): Effect.Effect<Status> =>
  Effect.map(Effect.all([roots.snapshots, roots.checks], { concurrency: 2 }), ([services, checks]): Status => {
    const reasons = services.length === 0 ? ["no service yet"] : [...config.readiness(services)]
    for (const c of checks) {
      if (c.critical && c.status !== "ok") reasons.push(`check ${c.path} ${c.name} ${c.status}: ${c.error ?? ""}`.trim())
    }
    return { services, reasons, checks }
  })

const write = (ex: Exchange, reply: Reply): Effect.Effect<void> =>
  Effect.sync(() => {
    if (ex.res.headersSent || ex.res.destroyed) return
    ex.res.writeHead(reply.status, { "content-type": reply.type, "cache-control": "no-store", ...reply.headers })
    ex.res.end(ex.req.method === "HEAD" ? undefined : reply.body)
  })

/**
 * Admits the requests that cost something: at most `maxInFlight` at once (served or
 * waiting; more get 503 at once), the heavy ones at most `heavyConcurrency` at a time. Their
 * work runs on a timer scheduler: each yield of its fibers is a turn of the event loop, so
 * cheap requests keep being read and answered meanwhile.
 */
class Admission {
  inFlight = 0
  constructor(readonly semaphore: Effect.Semaphore) {}
  run(cost: "shared" | "heavy", reply: Effect.Effect<Reply | undefined>): Effect.Effect<Reply | undefined> {
    return Effect.suspend(() => {
      if (this.inFlight >= maxInFlight) {
        return Effect.succeed({ ...text(503, "busy: too many requests in flight; retry"), headers: { "retry-after": "1" } })
      }
      this.inFlight++
      const bounded = cost === "heavy" ? this.semaphore.withPermits(1)(reply) : reply
      return Effect.ensuring(
        Effect.withScheduler(bounded, yielding),
        Effect.sync(() => {
          this.inFlight--
        })
      )
    })
  }
}

/** A scheduler each of whose yields is a turn of the event loop (the health and observer work runs on it). */
export const yielding = Scheduler.timer(0)

const answer = (ctx: HealthContext, admission: Admission, ex: Exchange, observer?: Observer): Effect.Effect<void> => {
  const { req } = ex
  // The observer's page, stream and actions (POST) answer for themselves, admitted as the
  // shared work is (its reads of the state share its rounds).
  if (observer?.owns(req.url)) {
    return Effect.flatMap(
      admission.run("shared", Effect.as(observer.handle(req, ex.res), undefined)),
      (busy) => busy === undefined ? Effect.void : write(ex, busy)
    )
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    return write(ex, { ...text(405, "method not allowed: GET or HEAD"), headers: { allow: "GET, HEAD" } })
  }
  const path = pathOf(req.url)
  if (path === undefined) return write(ex, text(400, `bad request: cannot parse the path ${JSON.stringify(req.url)}`))
  const route = routeOf(path)
  if (route === undefined) return write(ex, text(404, `not found: ${path}\n${index(ctx)}`))
  const reply = route.cost === "cheap" ? route.reply(ctx, path, ex) : admission.run(route.cost, route.reply(ctx, path, ex))
  return Effect.flatMap(reply, (r) => r === undefined ? Effect.void : write(ex, r)).pipe(
    Effect.catchAllCause((cause) =>
      Effect.zipRight(
        Effect.logWarning(`[Worker] Health endpoint ${path} failed`, cause),
        write(ex, text(500, "internal error"))
      )
    )
  )
}

/**
 * Answers `CONNECT` (which Node hands to a `connect` listener instead of the request
 * callback, and drops when there is none) with 405 and closes the connection.
 */
export const refuseConnect = (server: http.Server, allow: string): void => {
  server.on("connect", (_req: http.IncomingMessage, socket: Duplex) => {
    socket.on("error", () => {})
    const body = `method not allowed: CONNECT (allowed: ${allow})\n`
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\nallow: ${allow}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
    )
  })
}

/**
 * Serves the endpoints until the scope closes (which closes the server and every open
 * connection, and interrupts the requests in flight). Succeeds with the bound port
 * (useful with port 0).
 */
export const serve = (
  roots: Roots,
  config: ResolvedHealth,
  stopping: () => boolean,
  observer?: Observer
): Effect.Effect<number, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const queue = yield* Queue.unbounded<Exchange>()
    const requests = yield* FiberSet.make<void>()
    const admission = new Admission(yield* Effect.makeSemaphore(heavyConcurrency))
    const ctx: HealthContext = { roots, config, stopping, status: singleFlight(evaluate(roots, config)), observer: observer !== undefined }
    const server = http.createServer((req, res) => {
      res.on("error", () => {})
      queue.unsafeOffer({ req, res })
    })
    refuseConnect(server, "GET, HEAD")
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
    yield* Effect.forkScoped(
      Effect.forever(Effect.flatMap(Queue.take(queue), (ex) => FiberSet.run(requests, answer(ctx, admission, ex, observer))))
    )
    return port
  })

