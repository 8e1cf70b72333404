/**
 * The observer's HTTP routes, under `/observer`: the page, its event stream, the state as
 * JSON, and the actions. Every request gets an answer (400, 403, 404, 405, 503 when it
 * cannot be served); nothing here waits on a service: an action is started on a fiber of
 * the observer's scope and answered 202 at once, its effect shows in the event feed.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import type * as http from "node:http"
import type { Service } from "@effect-mode/core"
import { checkAction, checkClient, tokenOf } from "./access.js"
import { page, pageHeaders } from "./page.js"
import type { State } from "./state.js"
import { statsOf } from "./stats.js"

export const prefix = "/observer"

/** The paths the observer answers: `/observer` and everything under it. */
export const owns = (url: string | undefined): boolean => {
  const path = (url ?? "/").split("?")[0]!
  return path === prefix || path.startsWith(`${prefix}/`)
}

const routes = [
  "GET  /observer                  the page",
  "GET  /observer/events           the live state as server-sent events",
  "GET  /observer/state            the state as JSON",
  "GET  /observer/service?id=N     one service's timer statistics and supervisor figures",
  "POST /observer/actions/stop?id=N, /restart?id=N, /crash?id=N, /dump   (token required)"
]

type Reply = {
  readonly status: number
  readonly type: string
  readonly body: string
  readonly allow?: string
  readonly headers?: Readonly<Record<string, string>>
}

const text = (status: number, body: string, allow?: string): Reply => ({
  status,
  type: "text/plain; charset=utf-8",
  body: `${body}\n`,
  ...(allow === undefined ? {} : { allow })
})
const json = (status: number, value: unknown): Reply => ({ status, type: "application/json", body: JSON.stringify(value) })

const send = (req: http.IncomingMessage, res: http.ServerResponse, reply: Reply): void => {
  const headers: Record<string, string> = { ...reply.headers, "content-type": reply.type, "cache-control": "no-store" }
  if (reply.allow !== undefined) headers["allow"] = reply.allow
  res.writeHead(reply.status, headers)
  res.end(req.method === "HEAD" ? undefined : reply.body)
}

type Action = "stop" | "restart" | "crash"

const actionEffect = (action: Action, service: Service.Service): Effect.Effect<unknown, unknown> => {
  switch (action) {
    case "stop":
      return service.stop
    case "restart":
      return service.restart
    case "crash":
      return service.crash(new Error("crashed from the observer"))
  }
}

type Target = Reply | { readonly service: Service.Service; readonly id: number; readonly path: string }

/** The service `?id=N` names, or the reply that says why there is none (400, 404). */
const target = (state: State, url: URL): Effect.Effect<Target> => {
  const raw = url.searchParams.get("id")
  // Ids are positive integers: "" or " " is not 0.
  const id = raw === null || !/^\d+$/.test(raw) ? NaN : Number(raw)
  if (!Number.isInteger(id)) return Effect.succeed(text(400, `bad or missing id: ${JSON.stringify(raw)} (expected ?id=<service id>)`))
  return Effect.flatMap(state.lookup(id), (service): Effect.Effect<Target> => {
    if (service === undefined) return Effect.succeed(text(404, `no service with id ${id}`))
    const known = state.views.get(id)?.view.path
    return Effect.map(known === undefined ? service.beacon.path : Effect.succeed(known), (path) => ({ service, id, path }))
  })
}

const serviceAction = (
  state: State,
  running: FiberSet.FiberSet,
  action: Action,
  url: URL
): Effect.Effect<Reply> =>
  Effect.flatMap(target(state, url), (found) => {
    if ("status" in found) return Effect.succeed(found)
    const { id, path, service } = found
    const run = actionEffect(action, service).pipe(
      Effect.catchAllCause((cause) => Effect.logWarning(`[Observer] ${action} of ${path} failed`, cause)),
      // The observer's requests run on a scheduler that yields to the event loop; what a
      // restart forks (the service's tasks) runs on the program's own.
      Effect.withScheduler(state.scheduler)
    )
    return Effect.zipRight(
      Effect.zipRight(Effect.logWarning(`[Observer] ${action} of ${path} requested`), FiberSet.run(running, run)),
      Effect.succeed(json(202, { accepted: action, id, path }))
    )
  })

const stats = (state: State, url: URL): Effect.Effect<Reply> =>
  Effect.flatMap(
    target(state, url),
    (found) => "status" in found ? Effect.succeed(found) : Effect.map(statsOf(found.service, found.path), (s) => json(200, s))
  )

const dump = (state: State): Effect.Effect<Reply> =>
  Effect.flatMap(state.roots, (roots) =>
    Effect.map(
      Effect.forEach(roots, (r) => r.humanTracebacks),
      (parts) => text(200, parts.length === 0 ? "(no services yet)" : parts.join("\n"))
    ))

const action = (
  state: State,
  running: FiberSet.FiberSet,
  req: http.IncomingMessage,
  url: URL,
  name: string
): Effect.Effect<Reply> => {
  if (name !== "stop" && name !== "restart" && name !== "crash" && name !== "dump") {
    return Effect.succeed(text(404, `no action ${JSON.stringify(name)}: stop, restart, crash or dump`))
  }
  if (req.method !== "POST") return Effect.succeed(text(405, "actions take POST", "POST"))
  const refused = checkAction(state.config, tokenOf(req.headers, url))
  if (refused !== undefined) return Effect.succeed(text(403, refused))
  return name === "dump" ? dump(state) : serviceAction(state, running, name, url)
}

const get = (req: http.IncomingMessage, reply: () => Effect.Effect<Reply>): Effect.Effect<Reply> =>
  req.method === "GET" || req.method === "HEAD" ? reply() : Effect.succeed(text(405, "GET only", "GET, HEAD"))

/**
 * Answers one request under `/observer`. Never fails: a defect is logged and answered
 * 500 (when the headers are not sent yet).
 */
export const handle = (
  state: State,
  running: FiberSet.FiberSet,
  req: http.IncomingMessage,
  res: http.ServerResponse
): Effect.Effect<void> =>
  Effect.suspend(() => {
    req.resume()
    let url: URL
    try {
      url = new URL(req.url ?? "/", "http://observer")
    } catch {
      return Effect.sync(() => send(req, res, text(400, `bad request target: ${JSON.stringify(req.url)}`)))
    }
    const refused = checkClient(state.config, req.socket.remoteAddress)
    if (refused !== undefined) return Effect.sync(() => send(req, res, text(403, refused)))
    if (!owns(url.pathname)) {
      // "/observer/../livez" and the like: not a path of the observer once normalized.
      return Effect.sync(() => send(req, res, text(404, `not found: ${url.pathname}\n${routes.join("\n")}`)))
    }
    const sub = url.pathname.slice(prefix.length).replace(/\/+$/, "")
    if (sub === "/events" && req.method === "GET") {
      return Effect.map(Effect.zipRight(state.round, Clock.currentTimeMillis), (now) => {
        if (!state.clients.add(res, state.initial(now))) {
          send(req, res, text(503, `too many observer pages open (maxClients ${state.config.maxClients})`))
        }
      })
    }
    const reply = sub === ""
      ? get(req, () => Effect.succeed({ status: 200, type: "text/html; charset=utf-8", body: page, headers: pageHeaders }))
      : sub === "/events"
      ? get(req, () => Effect.succeed(text(200, "")))
      : sub === "/service"
      ? get(req, () => stats(state, url))
      : sub === "/state"
      ? get(req, () => Effect.map(Effect.zipRight(state.round, Clock.currentTimeMillis), (now) => json(200, state.current(now))))
      : sub.startsWith("/actions/")
      ? action(state, running, req, url, sub.slice("/actions/".length))
      : Effect.succeed(text(404, `not found: ${url.pathname}\n${routes.join("\n")}`))
    return Effect.map(reply, (r) => send(req, res, r))
  }).pipe(
    Effect.catchAllCause((cause) =>
      Effect.zipRight(
        // The path only: the query may hold the token.
        Effect.logWarning(`[Observer] ${req.method} ${(req.url ?? "/").split("?")[0]} failed`, cause),
        Effect.sync(() => {
          if (!res.headersSent) res.writeHead(500)
          res.end()
        })
      )
    ),
    Effect.catchAllDefect(() => Effect.void)
  )
