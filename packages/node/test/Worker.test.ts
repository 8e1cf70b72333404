/**
 * Worker.runMain in real child processes: signals are sent by pid, and every wait is on
 * a line of the child's output (or its exit), never on a fixed sleep. Each test is
 * bounded by its timeout.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Service } from "@effect-mode/core"
import { Worker } from "@effect-mode/node"
import { type Child, killAll, marks, runFixture } from "./support/child.js"

afterEach(killAll)

const T = 20_000

const ready = (child: Child) => child.waitFor(/^MARK READY/)

const get = async (port: number, path: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  return { status: res.status, body: await res.text() }
}

describe("Worker.runMain", () => {
  it("SIGTERM stops the tree gracefully, in mode's order, and exits 0", async () => {
    const child = runFixture("graceful")
    await ready(child)
    child.signal("SIGTERM")
    const exit = await child.exited
    expect(exit).toEqual({ code: 0, signal: null })
    expect(marks(child)).toEqual([
      "READY",
      "onStop App",
      "onStop Consumer",
      "task interrupted Consumer",
      "onStop Db",
      "finalizer Db",
      "onShutdown Db",
      "onShutdown App"
    ])
    expect(child.output()).toContain("[Worker] Signal received: SIGTERM")
    expect(child.output()).toContain("[Worker] Stopped after SIGTERM; exiting with code 0")
  }, T)

  it("SIGUSR2 prints the dump to stderr: services, states, flags, uptimes, tasks", async () => {
    const child = runFixture("graceful")
    await ready(child)
    child.signal("SIGUSR2")
    await child.waitFor(/^=== end of dump ===/)
    const dump = child.lines.filter((l) => l.stream === "stderr").map((l) => l.text).join("\n")
    expect(dump).toMatch(/=== effect-mode dump \(pid \d+, SIGUSR2/)
    expect(dump).toMatch(/^App #\d+ \[running\] uptime=\S+/m)
    expect(dump).toMatch(/^ {2}Db #\d+ \[running\] uptime=\S+/m)
    expect(dump).toMatch(/^ {2}Consumer #\d+ \[running\] uptime=\S+ flags=CONSUMING/m)
    expect(dump).toMatch(/^ {4}- consume #\d+: status=\w+ age=\S+ spans=consumer\.poll$/m)
    // The dump does not stop anything.
    expect(marks(child)).toEqual(["READY"])
    child.signal("SIGTERM")
    expect((await child.exited).code).toBe(0)
  }, T)

  it("a task failure stops the tree and exits 1, printing the cause and the service's path", async () => {
    const child = runFixture("crash")
    const exit = await child.exited
    expect(exit.code).toBe(1)
    const out = child.output()
    expect(out).toContain("[Worker] Service App/Ingest crashed; exiting with code 1")
    // The cause in full once, with the worker's last words.
    expect(out.split("boom: the broker went away").length - 1).toBe(2)
    expect(out.slice(out.indexOf("[Worker] Service App/Ingest crashed"))).toContain("boom: the broker went away")
    expect(marks(child)).toEqual(["onShutdown Ingest", "onShutdown App"])
    // The pretty format names the service mode's way, not with annotation lines.
    expect(out).toMatch(/ERROR \(#\d+\): \[\^-Ingest\]: Crashed: Error: boom: the broker went away\n/)
    expect(out).not.toContain("servicePath:")
  }, T)

  it("a failed start is rolled back and exits 1 with the cause", async () => {
    const child = runFixture("start", { START_MODE: "fail" })
    expect((await child.exited).code).toBe(1)
    const out = child.output()
    expect(out).toContain("[Worker] Service App failed to start (Db failed to start); exiting with code 1")
    expect(out.slice(out.indexOf("[Worker] Service App failed"))).toContain("connection refused: db:5432")
    expect(marks(child)).toEqual(["onShutdown Cache"])
  }, T)

  it("a signal during the start cuts it short, rolls it back and exits 0", async () => {
    const child = runFixture("start", { START_MODE: "slow" })
    await child.waitFor(/^MARK Db connecting/)
    child.signal("SIGTERM")
    expect(await child.exited).toEqual({ code: 0, signal: null })
    expect(marks(child)).toEqual(["Db connecting", "onShutdown Cache"])
  }, T)

  it("a second SIGINT during a hung stop exits at once with 130", async () => {
    const child = runFixture("hung", { HUNG_TIMEOUT: "1 minute" })
    await ready(child)
    child.signal("SIGINT")
    await child.waitFor(/^MARK onStop Stuck \(hangs\)/)
    child.signal("SIGINT")
    expect(await child.exited).toEqual({ code: 130, signal: null })
    expect(child.output()).toContain("[Worker] SIGINT received while stopping (after SIGINT): exiting at once with code 130")
  }, T)

  it("a crash whose stop outlives the deadline is still reported, with its cause, before exiting 124", async () => {
    const child = runFixture("crashHung")
    expect((await child.exited).code).toBe(Worker.ExitCode.shutdownTimeout)
    const out = child.output()
    expect(out).toMatch(/\[Worker\] Service App\/Child crashed\n/)
    expect(out).toMatch(/Error: ingest failed: offset out of range\n\s+at /)
    // Told once, before the deadline's own line.
    expect(out.match(/Service App\/Child crashed/g)?.length).toBe(1)
    expect(out.indexOf("Service App/Child crashed")).toBeLessThan(out.indexOf("Shutdown did not finish within 1s"))
  }, T)

  it("a start stuck in uninterruptible code past the grace is named as not finished", async () => {
    const child = runFixture("crashHung", { CRASH_HUNG: "start" })
    await child.waitFor(/^MARK start hangs/)
    child.signal("SIGTERM")
    expect((await child.exited).code).toBe(Worker.ExitCode.shutdownTimeout)
    const out = child.output()
    expect(out).toMatch(/Not finished within shutdownGrace 500ms: the start of App/)
    expect(out).not.toMatch(/What was left finished/)
  }, T)

  it("the shutdown deadline interrupts a hung stop, names the stuck service and exits 124", async () => {
    const child = runFixture("hung", { HUNG_TIMEOUT: "1 second" })
    await ready(child)
    child.signal("SIGTERM")
    expect((await child.exited).code).toBe(Worker.ExitCode.shutdownTimeout)
    const out = child.output()
    expect(out).toMatch(/Shutdown did not finish within 1s; not stopped in time: App\/Stuck \(stopping\);/)
    // The dump of what was left is printed with it.
    expect(out).toMatch(/^ {2}Stuck #\d+ \[stopping\]/m)
    // The deadline cut the hung onStop; the rest of its stop ran in the grace (the root's
    // resources are released alongside, in the grace too).
    const seen = marks(child)
    expect(seen.filter((m) => m !== "root resources released")).toEqual([
      "READY",
      "onStop Stuck (hangs)",
      "finalizer Stuck",
      "onShutdown Stuck",
      "onStop Fine"
    ])
    expect(seen).toContain("root resources released")
    expect(out).toContain("[Worker] What was left finished within shutdownGrace")
  }, T)

  it("with forceExitOnSecondSignal: false a second signal is only logged; the deadline still ends the stop", async () => {
    const child = runFixture("hung", { HUNG_TIMEOUT: "2 seconds", HUNG_FORCE: "0" })
    await ready(child)
    child.signal("SIGTERM")
    await child.waitFor(/^MARK onStop Stuck \(hangs\)/)
    child.signal("SIGTERM")
    await child.waitFor(/SIGTERM received while stopping; ignored/)
    expect((await child.exited).code).toBe(Worker.ExitCode.shutdownTimeout)
  }, T)

  it("SIGHUP stops a layer gracefully (its services in reverse order) and exits 0", async () => {
    const child = runFixture("layer")
    await ready(child)
    child.signal("SIGHUP")
    expect(await child.exited).toEqual({ code: 0, signal: null })
    expect(marks(child)).toEqual(["READY (db Db)", "onShutdown Cache", "onShutdown Db"])
    expect(child.output()).toContain("Signal received: SIGHUP")
  }, T)

  it("a crash in a layer's service releases the layer and exits 1", async () => {
    const child = runFixture("layer", { LAYER_CRASH: "1" })
    expect((await child.exited).code).toBe(1)
    expect(marks(child)).toEqual(["READY (db Db)", "onShutdown Cache", "onShutdown Db"])
    expect(child.output()).toContain(`message="[Worker] Service Worker/Cache crashed; exiting with code 1" cause="Error: cache corrupted"`)
  }, T)

  it("a logger set up in the root layer is used instead of the worker's, never both", async () => {
    const child = runFixture("layer", { LAYER_JSON: "1" })
    await ready(child)
    child.signal("SIGTERM")
    expect((await child.exited).code).toBe(0)
    const starting = child.lines.filter((l) => l.text.includes("Starting..."))
    expect(starting.map((l) => JSON.parse(l.text).message)).toEqual(["[^-Db]: Starting...", "[^-Cache]: Starting..."])
  }, T)

  it("a blocked event loop is reported with the service and task that held it", async () => {
    const child = runFixture("blocking")
    const warning = await child.waitFor(/Event loop blocked/)
    expect(warning.text).toMatch(/blockingTimeout 200ms\): held by App\/Hog task crunch \(fiber #\d+\) for \d/)
    child.signal("SIGTERM")
    expect((await child.exited).code).toBe(0)
  }, T)

  it("the blocking detector names a task that ended in the slice that blocked", async () => {
    const child = runFixture("blocking", { BLOCKING_THEN_END: "1" })
    const warning = await child.waitFor(/Event loop blocked/)
    expect(warning.text).toMatch(/held by App\/Hog task crunch \(fiber #\d+\) for \d/)
    child.signal("SIGTERM")
    expect((await child.exited).code).toBe(0)
  }, T)

  it("a tree that stops by itself lets the process exit on its own, listeners removed", async () => {
    const child = runFixture("selfstop")
    expect(await child.exited).toEqual({ code: 0, signal: null })
    expect(marks(child)).toEqual(["work done", "onShutdown Batch"])
    expect(child.output()).toContain("EXIT code=0 listeners SIGINT=0 SIGTERM=0 SIGHUP=0 SIGUSR2=0")
  }, T)

  it("serves /livez, /readyz, /healthz and /debug/* while running", async () => {
    const child = runFixture("graceful", { HEALTH: "1" })
    const line = await child.waitFor(/Health endpoints on http:\/\/127\.0\.0\.1:\d+/)
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(line.text)![1])
    await ready(child)
    expect(await get(port, "/livez")).toEqual({ status: 200, body: "ok\n" })
    expect(await get(port, "/readyz")).toEqual({ status: 200, body: "ready\n" })
    const health = await get(port, "/healthz")
    expect(health.status).toBe(200)
    const body = JSON.parse(health.body)
    expect(body.status).toBe("ready")
    expect(body.services[0].label).toBe("App")
    expect(body.services[0].children.map((c: { label: string }) => c.label)).toEqual(["Db", "Consumer"])
    expect(body.services[0].children[1].flags).toEqual(["CONSUMING"])
    expect((await get(port, "/debug/dump")).body).toMatch(/- consume #\d+: status=/)
    expect((await get(port, "/debug/mermaid")).body).toMatch(/^graph TD/)
    expect((await get(port, "/nope")).status).toBe(404)
    child.signal("SIGTERM")
    expect((await child.exited).code).toBe(0)
  }, T)
})

describe("Worker.runMain options", () => {
  const app = Service.make("App")

  it("throws at once, naming the bad value", () => {
    expect(() => Worker.runMain(app, { shutdownTimeout: "soon" as never })).toThrow(/shutdownTimeout.*"soon"/)
    expect(() => Worker.runMain(app, { logFormat: "xml" as never })).toThrow(/logFormat.*"xml"/)
    expect(() => Worker.runMain(app, { logLevel: "loud" as never })).toThrow(/logLevel.*"loud"/)
    expect(() => Worker.runMain(app, { dumpSignal: "SIGKILL" as never })).toThrow(/dumpSignal.*"SIGKILL"/)
    expect(() => Worker.runMain(app, { blockingTimeout: 0 })).toThrow(/blockingTimeout/)
    expect(() => Worker.runMain(app, { health: { port: 70000 } })).toThrow(/health\.port.*"70000"/)
    expect(() => Worker.runMain({ shutdownTimeout: -1 })).toThrow(/shutdownTimeout.*"-1"/)
  })

  it("rejects what used to slip through, naming the option and the value", () => {
    expect(() => Worker.runMain(app, { health: null as never })).toThrow(/^Invalid health: null \(expected an object/)
    expect(() => Worker.runMain(app, 42 as never)).toThrow(/^Invalid options of Worker\.runMain: "42" \(expected an object/)
    expect(() => Worker.runMain(42 as never)).toThrow(/^Invalid options of Worker\.runMain: "42"/)
    expect(() => Worker.runMain(app, { shutdownTimeout: [-1, 0] })).toThrow(/^Invalid shutdownTimeout of Worker\.runMain: \["-1", "0"\] \(expected a duration above zero/)
    expect(() => Worker.runMain(app, { shutdownTimeout: 0 })).toThrow(/^Invalid shutdownTimeout of Worker\.runMain: "0" \(expected a duration above zero/)
    expect(() => Worker.runMain(app, { shutdownTimeout: "0 seconds" })).toThrow(/shutdownTimeout.*"0 seconds"/)
    expect(() => Worker.runMain(app, { shutdownGrace: "-1 second" })).toThrow(/shutdownGrace.*"-1 second"/)
    expect(() => Worker.runMain(app, { health: { port: "80" as never } })).toThrow(/health\.port.*"80"/)
    expect(() => Worker.runMain(app, { health: { port: 0, readiness: "some" as never } })).toThrow(/health\.readiness.*"some"/)
  })

  it("refuses a root that is not one, and options it does not know, at the call", async () => {
    const { Effect } = await import("effect")
    const handle = Effect.runSync(Service.make("App"))
    // A service handle is not a root (it was taken as options: nothing ran, exit 0).
    expect(() => Worker.runMain(handle as never)).toThrow(/^Invalid root of Worker\.runMain: service App is a service handle, not a root/)
    expect(() => Worker.runMain(handle as never, {})).toThrow(/^Invalid root of Worker\.runMain: service App/)
    // Neither is a promise, nor any object that is not an options literal.
    expect(() => Worker.runMain(Promise.resolve(1) as never)).toThrow(/^Invalid options of Worker\.runMain/)
    expect(() => Worker.runMain({ shutdownTimout: "1 second" } as never)).toThrow(
      /^Unknown option "shutdownTimout" of Worker\.runMain \(known: shutdownTimeout, shutdownGrace, /
    )
    expect(() => Worker.runMain(app, { grace: 1 } as never)).toThrow(/^Unknown option "grace" of Worker\.runMain/)
    expect(() => Worker.runMain({})("x" as never)).toThrow(/^Invalid root of Worker\.runMain: "x" is not an Effect that makes the root service, nor a Layer/)
  })

  it("reads LOG_LEVEL and LOG_FORMAT, and names them when bad", () => {
    const saved = { level: process.env["LOG_LEVEL"], format: process.env["LOG_FORMAT"] }
    try {
      process.env["LOG_LEVEL"] = "verbose"
      expect(() => Worker.runMain(app)).toThrow(/LOG_LEVEL environment variable.*"verbose"/)
      process.env["LOG_LEVEL"] = "debug"
      process.env["LOG_FORMAT"] = "yaml"
      expect(() => Worker.runMain(app)).toThrow(/LOG_FORMAT environment variable.*"yaml"/)
    } finally {
      for (const [k, v] of [["LOG_LEVEL", saved.level], ["LOG_FORMAT", saved.format]] as const) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
    }
  })

  it("is dual: runMain(options)(root)", () => {
    // Data-last: the options are checked at once, the root comes later.
    expect(typeof Worker.runMain({ shutdownTimeout: "1 second" })).toBe("function")
    expect(() => Worker.runMain({ shutdownTimeout: "never" as never })).toThrow(/"never"/)
  })
})
