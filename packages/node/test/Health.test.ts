/**
 * The health endpoints of a real worker process: every request gets an answer, requests
 * are served concurrently (liveness never queues), readiness follows every service and
 * the health checks, and crashes are logged once.
 */
import { afterEach, describe, expect, it } from "vitest"
import * as net from "node:net"
import { type Child, killAll, runFixture } from "./support/child.js"

afterEach(killAll)

const T = 20_000

const get = async (port: number, path: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  return { status: res.status, body: await res.text() }
}

/** Sends raw bytes and resolves with what comes back before the server closes or answers. */
const raw = (port: number, request: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(request))
    let data = ""
    socket.setEncoding("utf8")
    socket.on("data", (chunk: string) => {
      data += chunk
      if (/\r\n\r\n/.test(data)) {
        socket.destroy()
        resolve(data)
      }
    })
    socket.on("error", reject)
    socket.on("close", () => resolve(data))
  })

const start = async (env: Record<string, string> = {}): Promise<{ child: Child; port: number }> => {
  const child = runFixture("health", env)
  const line = await child.waitFor(/Health endpoints on http:\/\/127\.0\.0\.1:\d+/)
  await child.waitFor(/^MARK READY/)
  return { child, port: Number(/127\.0\.0\.1:(\d+)/.exec(line.text)![1]) }
}

const stop = async (child: Child) => {
  child.signal("SIGTERM")
  expect((await child.exited).code).toBe(0)
}

describe("health endpoints", () => {
  it("answer a request they cannot parse with 400, and keep serving", async () => {
    const { child, port } = await start()
    expect(await raw(port, "GET // HTTP/1.1\r\nHost: x\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /)
    // "//livez" is a path, not the host "livez": neither /livez nor the index
    expect(await raw(port, "GET //livez HTTP/1.1\r\nHost: x\r\n\r\n")).toMatch(/^HTTP\/1\.1 404 /)
    expect(await raw(port, "GET //x/readyz HTTP/1.1\r\nHost: x\r\n\r\n")).toMatch(/^HTTP\/1\.1 404 /)
    expect(await raw(port, "GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /)
    expect(await raw(port, "NOT AN HTTP REQUEST\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /)
    expect(await get(port, "/livez")).toEqual({ status: 200, body: "ok\n" })
    expect(await get(port, "/readyz")).toEqual({ status: 200, body: "ready\n" })
    expect((await get(port, "/healthz")).status).toBe(200)
    await stop(child)
  }, T)

  it("answer /livez while heavy requests wait, and refuse heavy ones past the bound", async () => {
    // The ping never answers (its timeout is a minute): every /healthz waits on it.
    const { child, port } = await start({ CHECK: "hang" })
    const heavy = Array.from({ length: 300 }, () =>
      fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => "closed" as const))
    // 256 are admitted (they all wait for the one evaluation in flight): the other 44 are refused at once.
    const refused = await waitForCount(heavy, 503, 44)
    expect(refused).toBe(44)
    expect(await get(port, "/livez")).toEqual({ status: 200, body: "ok\n" })
    expect((await get(port, "/nope")).status).toBe(404)
    await stop(child)
    // The ones still waiting are cut off by the stop (their connections closed), not left hanging.
    expect(new Set(await Promise.all(heavy))).toEqual(new Set([503, "closed"]))
  }, T)

  it("answer /livez before a burst of /healthz on a large tree is through (no head-of-line blocking)", async () => {
    const { child, port } = await start({ WIDE: "8000" })
    let answered = 0
    const heavy = Array.from({ length: 30 }, () =>
      fetch(`http://127.0.0.1:${port}/healthz`).then((r) => {
        answered++
        return r.arrayBuffer()
      }))
    expect(await get(port, "/livez")).toEqual({ status: 200, body: "ok\n" })
    expect(answered).toBeLessThan(30)
    await Promise.all(heavy)
    await stop(child)
  }, T)

  it("answer /livez while a burst of observer reads walks a large tree", async () => {
    const child = runFixture("observer-big", { OBSERVER_TOKEN: "test-token-123" })
    const line = await child.waitFor(/Health endpoints on http:\/\/127\.0\.0\.1:\d+/)
    await child.waitFor(/^MARK READY/)
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(line.text)![1])
    let answered = 0
    const reads = Array.from({ length: 30 }, () =>
      fetch(`http://127.0.0.1:${port}/observer/state`).then((r) => {
        answered++
        return r.arrayBuffer()
      }))
    expect(await get(port, "/livez")).toEqual({ status: 200, body: "ok\n" })
    expect(answered).toBeLessThan(30)
    await Promise.all(reads)
    // The index lists the observer when it is on.
    expect((await get(port, "/")).body).toMatch(/^\/observer +the observer's page/m)
    await stop(child)
  }, T)

  it("answer CONNECT with 405 instead of dropping the connection", async () => {
    const { child, port } = await start()
    const answer = await raw(port, "CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n")
    expect(answer).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/)
    expect(answer).toMatch(/allow: GET, HEAD\r\n/)
    expect((await get(port, "/livez")).status).toBe(200)
    await stop(child)
  }, T)

  it("serve /healthz as compact JSON", async () => {
    const { child, port } = await start({ WIDE: "300" })
    const health = await get(port, "/healthz")
    expect(health.status).toBe(200)
    expect(health.body.trimEnd()).not.toContain("\n")
    const body = JSON.parse(health.body)
    expect(body.services[0].children.find((c: { label: string }) => c.label === "Wide").children.length).toBe(300)
    await stop(child)
  }, T)

  it("readiness follows every service: a supervised child waiting out its backoff is not ready", async () => {
    const { child, port } = await start()
    child.signal("SIGUSR1")
    await child.waitFor(/Restarting App\/Sup\/Flaky in 1h/)
    expect(await get(port, "/readyz")).toEqual({ status: 503, body: "not ready: App/Sup/Flaky (crashed)\n" })
    const health = JSON.parse((await get(port, "/healthz")).body)
    expect(health).toMatchObject({ status: "not ready", reasons: ["App/Sup/Flaky (crashed)"], readiness: "all" })
    expect((await get(port, "/livez")).status).toBe(200)
    await stop(child)
  }, T)

  it("readiness: \"roots\" follows the roots only", async () => {
    const { child, port } = await start({ READINESS: "roots" })
    child.signal("SIGUSR1")
    await child.waitFor(/Restarting App\/Sup\/Flaky in 1h/)
    expect(await get(port, "/readyz")).toEqual({ status: 200, body: "ready\n" })
    await stop(child)
  }, T)

  it("shows the health checks in /healthz", async () => {
    const ok = await start({ CHECK: "ok" })
    const healthy = JSON.parse((await get(ok.port, "/healthz")).body)
    expect(healthy.checks).toMatchObject([{ name: "ping", path: "App/Db", status: "ok", critical: true, error: null }])
    expect(healthy.status).toBe("ready")
    await stop(ok.child)
  }, T)

  it("a failing critical check makes /readyz 503, with its error", async () => {
    const failing = await start({ CHECK: "fail" })
    expect(await get(failing.port, "/readyz")).toEqual({
      status: 503,
      body: "not ready: check App/Db ping failed: Error: db down: connection refused\n"
    })
    const health = JSON.parse((await get(failing.port, "/healthz")).body)
    expect(health.checks).toMatchObject([{ name: "ping", status: "failed", error: "Error: db down: connection refused" }])
    await stop(failing.child)
  }, T)

  it("a supervised crash is logged once, in one line, without stack frames", async () => {
    const info = await start()
    info.child.signal("SIGUSR1")
    await info.child.waitFor(/Restarting App\/Sup\/Flaky/)
    await stop(info.child)
    const out = info.child.output()
    expect(out.split("flaky: upstream returned 503").length - 1).toBe(1)
    expect(out).toMatch(/ERROR \(#\d+\): \[\^--Flaky\]: Crashed: Error: flaky: upstream returned 503\n/)
    expect(out).not.toMatch(/^\s+at /m)
  }, T)

  it("the whole cause of a supervised crash is logged at debug", async () => {
    const debug = await start({ LOG_LEVEL: "debug" })
    debug.child.signal("SIGUSR1")
    await debug.child.waitFor(/Restarting App\/Sup\/Flaky/)
    await stop(debug.child)
    expect(debug.child.output()).toMatch(/DEBUG \(#\d+\): \[\^--Flaky\]: Crashed \(the whole cause\)\n {2}Error: flaky: upstream returned 503\n\s+at /)
  }, T)
})

/** Resolves with `count` once that many of `responses` settled with `status`. */
const waitForCount = (responses: ReadonlyArray<Promise<unknown>>, status: unknown, count: number): Promise<number> =>
  new Promise((resolve) => {
    let seen = 0
    for (const r of responses) {
      void r.then((s) => {
        if (s === status && ++seen === count) resolve(seen)
      })
    }
  })
