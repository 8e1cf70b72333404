/**
 * `Observer.serve` over real HTTP (a server on a free port of 127.0.0.1), with the tree
 * read by `TestClock`'s rounds: every route answers, the action rules hold end to end, an
 * accepted action shows in the feed, the number of open event streams is bounded, and
 * nothing is left running once the scope is closed (`Testing.leakFree`).
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Queue, TestClock } from "effect"
import { Service, Testing } from "@effect-mode/core"
import { Observer, Worker } from "@effect-mode/node"
import * as http from "node:http"
import * as net from "node:net"

const token = "test-token-123"

interface Answer {
  readonly status: number
  readonly type: string
  readonly body: string
}

const request = (port: number, method: string, path: string, headers: Record<string, string> = {}) =>
  Effect.promise(async (): Promise<Answer> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, redirect: "manual" })
    return { status: res.status, type: res.headers.get("content-type") ?? "", body: await res.text() }
  })

/** Opens an event stream; resolves once its first event arrived, with the response to destroy later. */
const openStream = (port: number) =>
  Effect.async<{ readonly status: number; readonly first: string; readonly close: () => void }>((resume) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/observer/events" }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        text += chunk
        if (res.statusCode !== 200 || text.includes("\n\nevent: init\n")) {
          resume(Effect.succeed({ status: res.statusCode ?? 0, first: text, close: () => req.destroy() }))
        }
      })
      res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, first: text, close: () => req.destroy() })))
    })
  })

/** Sends a CONNECT request; resolves with what comes back before the server closes the socket. */
export const connectRequest = (port: number): Promise<string> =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write("CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n"))
    let data = ""
    socket.setEncoding("utf8")
    socket.on("data", (chunk: string) => (data += chunk))
    socket.on("error", () => resolve(data))
    socket.on("close", () => resolve(data))
  })

/** A port that was free a moment ago (for a server whose port cannot be read back). */
const freePort = Effect.async<number>((resume) => {
  const server = net.createServer().listen(0, "127.0.0.1", () => {
    const { port } = server.address() as net.AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** App with Db under it; Db's starts are counted on a queue. */
const tree = Effect.gen(function*() {
  const starts = yield* Queue.unbounded<number>()
  const db = yield* Service.make("Db", { onStart: (self) => Effect.flatMap(self.restartCount, (n) => Queue.offer(starts, n)) })
  const app = yield* Service.make("App")
  yield* app.addDependency(db)
  yield* app.start
  yield* Queue.take(starts)
  yield* Effect.addFinalizer(() => app.stop)
  return { app, db, starts }
})

const state = (port: number) =>
  Effect.map(request(port, "GET", "/observer/state"), (a) =>
    JSON.parse(a.body) as {
      actions: boolean
      nodes: Array<{ id: number; path: string; state: string; restartCount: number }>
      events: Array<{ kind: string; path: string; text: string }>
    })

describe("Observer.serve", () => {
  it.effect("serves the page, the state and a 404 for the rest; redirects / to the page", () =>
    Testing.leakFree(Effect.scoped(Effect.gen(function*() {
      const { app, db } = yield* tree
      const port = yield* Observer.serve(app, { port: 0 })
      const page = yield* request(port, "GET", "/observer")
      expect(page.status).toBe(200)
      expect(page.type).toBe("text/html; charset=utf-8")
      expect(page.body).toContain("<title>effect-mode observer</title>")
      // Self-contained: no address of another origin in it.
      expect(page.body).not.toMatch(/(src|href)=["']?(https?:)?\/\//)
      const s = yield* state(port)
      expect(s.actions).toBe(false)
      expect(s.nodes.map((n) => [n.path, n.state])).toEqual([["App", "running"], ["App/Db", "running"]])
      expect(page.body).toContain("<title>effect-mode observer</title>")
      // The browser may run the page's own script and style only, and connect to its server only.
      const csp = (yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/observer`))).headers.get("content-security-policy")
      expect(csp).toMatch(/default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-[^']+'; connect-src 'self'/)
      const figures = yield* request(port, "GET", `/observer/service?id=${db.id}`)
      expect(JSON.parse(figures.body)).toEqual({ id: db.id, path: "App/Db", timers: [], supervisor: null })
      expect((yield* request(port, "GET", "/observer/service?id=nope")).status).toBe(400)
      expect((yield* request(port, "GET", "/observer/service?id=")).status).toBe(400)
      expect((yield* request(port, "GET", "/observer/service?id=%20")).status).toBe(400)
      expect((yield* request(port, "GET", "/observer/service?id=424242")).status).toBe(404)
      expect((yield* request(port, "GET", "/")).status).toBe(302)
      const missing = yield* request(port, "GET", "/observer/nope")
      expect(missing.status).toBe(404)
      expect(missing.body).toContain("/observer/events")
      expect((yield* request(port, "GET", "/elsewhere")).status).toBe(404)
      expect((yield* request(port, "GET", "/observer/%2e%2e/livez")).status).toBe(404)
      expect((yield* request(port, "DELETE", "/observer/state")).status).toBe(405)
    }))))

  it.effect("actions are off by default: 403 even with a token", () =>
    Testing.leakFree(Effect.scoped(Effect.gen(function*() {
      const { app, db } = yield* tree
      const port = yield* Observer.serve(app, { port: 0 })
      const refused = yield* request(port, "POST", `/observer/actions/restart?id=${db.id}&token=${token}`)
      expect(refused.status).toBe(403)
      expect(refused.body).toMatch(/actions are off/)
    }))))

  it.effect("with actions on: the token rules, bad requests, and an accepted restart in the feed", () =>
    Testing.leakFree(Effect.scoped(Effect.gen(function*() {
      const { app, db, starts } = yield* tree
      const port = yield* Observer.serve(app, { port: 0, actions: { token } })
      const restart = `/observer/actions/restart?id=${db.id}`
      expect((yield* request(port, "POST", restart)).status).toBe(403)
      expect((yield* request(port, "POST", restart, { "x-observer-token": "wrong-token-1" })).status).toBe(403)
      expect((yield* request(port, "GET", `${restart}&token=${token}`)).status).toBe(405)
      expect((yield* request(port, "POST", `/observer/actions/restart?id=x&token=${token}`)).status).toBe(400)
      expect((yield* request(port, "POST", `/observer/actions/restart?id=999999&token=${token}`)).status).toBe(404)
      expect((yield* request(port, "POST", `/observer/actions/explode?token=${token}`)).status).toBe(404)
      const dump = yield* request(port, "POST", "/observer/actions/dump", { authorization: `Bearer ${token}` })
      expect(dump.status).toBe(200)
      expect(dump.body).toMatch(/^App #\d+ \[running\]/)

      const accepted = yield* request(port, "POST", restart, { "x-observer-token": token })
      expect(accepted.status).toBe(202)
      expect(JSON.parse(accepted.body)).toEqual({ accepted: "restart", id: db.id, path: "App/Db" })
      expect(yield* Queue.take(starts)).toBe(1)
      // The feed has the restart (a stop, the count, the start again), read at the next rounds (by TestClock).
      const seen = yield* Effect.repeat(
        Effect.zipRight(TestClock.adjust("500 millis"), state(port)),
        { until: (s) => s.events.some((e) => e.kind === "start" && e.path === "App/Db"), times: 20 }
      )
      expect(seen.events.filter((e) => e.path === "App/Db").map((e) => e.kind)).toEqual(["stop", "restart", "start"])
      expect(seen.nodes.find((n) => n.path === "App/Db")?.restartCount).toBe(1)
    }))))

  it.effect("at most maxClients event streams; a closed one frees its place", () =>
    Testing.leakFree(Effect.scoped(Effect.gen(function*() {
      const { app } = yield* tree
      const port = yield* Observer.serve(app, { port: 0, maxClients: 1 })
      const first = yield* openStream(port)
      expect(first.status).toBe(200)
      expect(first.first).toMatch(/^retry: 2000\n\nevent: init\ndata: \{"now":\d+,"actions":false,"nodes":\[/)
      const second = yield* openStream(port)
      expect(second.status).toBe(503)
      expect(second.first).toContain("maxClients 1")
      first.close()
      const third = yield* Effect.repeat(openStream(port), { until: (s) => s.status === 200, times: 50 })
      expect(third.status).toBe(200)
      third.close()
    }))))

  it.effect("a port already taken fails with an ObserverError naming it", () =>
    Testing.leakFree(Effect.scoped(Effect.gen(function*() {
      const { app } = yield* tree
      const port = yield* Observer.serve(app, { port: 0 })
      const error = yield* Effect.flip(Observer.serve(app, { port }))
      expect(error._tag).toBe("ObserverError")
      expect(error.message).toContain(`127.0.0.1:${port}`)
    }))))

  it.effect("Observer.layer: the tree of a service given by its Tag, served while the layer is alive", () =>
    Testing.leakFree(Effect.gen(function*() {
      class App extends Context.Tag("App")<App, Service.Service>() {}
      const AppLive = Layer.scoped(App, Effect.acquireRelease(Effect.tap(Service.make("App"), (a) => a.start), (a) => a.stop))
      const port = yield* freePort
      yield* Effect.scoped(Effect.gen(function*() {
        yield* Layer.build(Observer.layer(App, { port }).pipe(Layer.provide(AppLive)))
        expect((yield* state(port)).nodes.map((n) => [n.path, n.state])).toEqual([["App", "running"]])
      }))
      // Released: nothing listens there any more.
      const after = yield* Effect.either(Effect.tryPromise(() => fetch(`http://127.0.0.1:${port}/observer`)))
      expect(after._tag).toBe("Left")
    })))

  it("bad options throw a TypeError naming them, for the layer and for the Worker", () => {
    const app = Service.make("App")
    expect(() => Observer.layer(app, { port: 70_000 })).toThrow(/Invalid port: "70000"/)
    expect(() => Observer.layer(app, { port: 0, actions: { token: "" } })).toThrow(/Invalid actions\.token/)
    expect(() => Worker.runMain(app, { health: { port: 0, observer: { actions: { token: "x" } } } })).toThrow(
      /Invalid health\.observer\.actions\.token: "x"/
    )
    expect(() => Worker.runMain(app, { health: { port: 0, observer: "yes" as never } })).toThrow(/Invalid health\.observer: "yes"/)
    // options that are not an object, or none where the server's port is needed
    expect(() => Observer.handler([], null as never)).toThrow(/^Invalid options: "null" \(expected an object\)/)
    expect(() => Observer.layer(app, undefined as never)).toThrow(/^Invalid options: "undefined" \(expected an object with the server's port/)
    expect(() => Observer.layer(app, null as never)).toThrow(/^Invalid options: "null" \(expected an object\)/)
    // an option it does not know (a typo) is refused, not ignored
    expect(() => Observer.layer(app, { port: 0, hots: "x" } as never)).toThrow(/Unknown option "hots" of Observer\.serve or Observer\.layer/)
    expect(() => Observer.handler([], { maxClient: 3 } as never)).toThrow(/Unknown option "maxClient" of Observer\.handler \(known: actions/)
    expect(() => Observer.layer(app, { port: 0, actions: { token: "12345678", tokn: "x" } } as never)).toThrow(
      /Unknown option "tokn" of actions/
    )
    expect(() => Observer.layer(app, { port: 0, actions: "12345678" } as never)).toThrow(/^Invalid actions: "12345678"/)
    expect(() => Worker.runMain({ health: { port: 9090, readyness: "roots" } as never })).toThrow(/Unknown option "readyness" of health/)
    expect(() => Worker.runMain({ health: { port: 9090, host: " " } })).toThrow(/Invalid health\.host: " "/)
    expect(() => Worker.runMain({ forceExitOnSecondSignal: null as never })).toThrow(/Invalid forceExitOnSecondSignal: null/)
    expect(() => Worker.runMain({ blockingTimeout: "1 nano" })).toThrow(/Invalid blockingTimeout of Worker\.runMain: "1 nano" \(expected a duration of at least 10 millis/)
    expect(() => Worker.runMain({ health: { port: 9090, observer: { action: { token: "12345678" } } } as never })).toThrow(
      /Unknown option "action" of health\.observer/
    )
  })

  it.effect("a service added since the last round is found by its id", () =>
    Testing.leakFree(Effect.scoped(Effect.gen(function*() {
      const { app } = yield* tree
      const port = yield* Observer.serve(app, { port: 0, actions: { token } })
      // Added after the observer's last round (no TestClock move since): not in its view yet.
      const late = yield* app.addRuntimeDependency(yield* Service.make("Late"))
      const figures = yield* request(port, "GET", `/observer/service?id=${late.id}`)
      expect(figures.status).toBe(200)
      expect(JSON.parse(figures.body)).toMatchObject({ id: late.id, path: "App/Late" })
      const stop = yield* request(port, "POST", `/observer/actions/stop?id=${late.id}`, { "x-observer-token": token })
      expect(stop.status).toBe(202)
    }))))

  it.effect("CONNECT is answered 405, not dropped", () =>
    Testing.leakFree(Effect.scoped(Effect.gen(function*() {
      const { app } = yield* tree
      const port = yield* Observer.serve(app, { port: 0 })
      const answer = yield* Effect.promise(() => connectRequest(port))
      expect(answer).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/)
      expect(answer).toMatch(/allow: GET, HEAD, POST/)
      // The server still answers.
      expect((yield* request(port, "GET", "/observer/state")).status).toBe(200)
    }))))
})
