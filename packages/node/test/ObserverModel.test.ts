/**
 * The observer's server side without a server: the events found between two readings of
 * a service, the views and their difference, the access rules (loopback, token), and the
 * bound on connected pages and on each page's unsent output.
 */
import { describe, expect, it } from "@effect/vitest"
import { type ServiceGraph, Service, Supervisor } from "@effect-mode/core"
import { Effect, TestClock } from "effect"
import { EventEmitter } from "node:events"
import type * as http from "node:http"
import { checkAction, checkClient, tokenOf } from "../src/internal/observer/access.js"
import { Clients } from "../src/internal/observer/clients.js"
import { eventsOf, Feed, settle, type Vitals } from "../src/internal/observer/feed.js"
import { type Config, resolve } from "../src/internal/observer/options.js"
import { owns } from "../src/internal/observer/routes.js"
import { make as makeState } from "../src/internal/observer/state.js"
import { urlHost } from "../src/internal/health.js"
import { diff, flatten } from "../src/internal/observer/view.js"

const vitals = (over: Partial<Vitals> = {}): Vitals => ({
  id: 5,
  path: "App/Sup/Flaky",
  state: "running",
  restartCount: 0,
  crash: null,
  ...over
})
const kinds = (prev: Vitals | undefined, next: Vitals) => eventsOf(prev, next).map((e) => `${e.kind}: ${e.text}`)

describe("eventsOf", () => {
  it("reports nothing on a first reading or when nothing changed", () => {
    expect(kinds(undefined, vitals())).toEqual([])
    expect(kinds(vitals(), vitals())).toEqual([])
  })

  it("a crash where it began, then the restart and the start", () => {
    const crashed = vitals({ state: "crashed", crash: { origin: "App/Sup/Flaky", reason: "Error: boom" } })
    expect(kinds(vitals(), crashed)).toEqual(["crash: crashed: Error: boom"])
    // The same crash read again (the stop under way) is not a second one.
    expect(kinds(crashed, { ...crashed, crash: { origin: "App/Sup/Flaky", reason: "Error: boom (2)" } })).toEqual([])
    const restarted = vitals({ state: "shutdown", restartCount: 1 })
    expect(kinds(crashed, restarted)).toEqual(["restart: restart #1"])
    expect(kinds(restarted, vitals({ restartCount: 1 }))).toEqual(["start: running"])
  })

  it("a restart's stop read late (the count already up) is told before the restart", () => {
    // The readings of stateChanges, taken after the whole restart ran: every one sees count 1.
    let previous: Vitals = vitals()
    const told: Array<string> = []
    for (const state of ["stopping", "shutdown", "starting", "running"] as const) {
      const next = settle(previous, vitals({ state, restartCount: 1 }))
      told.push(...kinds(previous, next))
      previous = next
    }
    expect(told).toEqual(["stop: stopped", "restart: restart #1", "start: running"])
    // From crashed, the shutdown is the restart's own: it keeps its count.
    const crashed = vitals({ state: "crashed", crash: { origin: "App/Sup/Flaky", reason: "Error: boom" } })
    expect(settle(crashed, vitals({ state: "shutdown", restartCount: 1 })).restartCount).toBe(1)
  })

  it("a crash and its repair between two readings still shows as a restart", () => {
    expect(kinds(vitals(), vitals({ restartCount: 2 }))).toEqual(["restart: restart #2"])
  })

  it("a crash that began below is an escalation on the ancestor, and nothing on the services beside or under", () => {
    const crash = { origin: "App/Sup", reason: "SupervisorGaveUp" }
    expect(kinds(vitals({ path: "App" }), vitals({ path: "App", state: "crashed", crash })))
      .toEqual(["escalation: crash of App/Sup escalated: SupervisorGaveUp"])
    expect(kinds(vitals({ path: "App/Db" }), vitals({ path: "App/Db", state: "crashed", crash }))).toEqual([])
    expect(kinds(vitals({ path: "App/Sup/Flaky" }), vitals({ state: "crashed", crash }))).toEqual([])
  })

  it("a stop, but not the first start's init nor a restart's shutdown", () => {
    expect(kinds(vitals({ state: "stopping" }), vitals({ state: "shutdown" }))).toEqual(["stop: stopped"])
    expect(kinds(vitals({ state: "init" }), vitals({ state: "shutdown" }))).toEqual([])
    expect(kinds(vitals({ state: "init" }), vitals({ state: "running" }))).toEqual(["start: running"])
  })

  it("the feed keeps the last events, numbered", () => {
    const feed = new Feed(2)
    for (const text of ["a", "b", "c"]) feed.add({ id: 1, path: "A", kind: "start", text }, 10)
    expect(feed.recent.map((e) => [e.seq, e.text])).toEqual([[2, "b"], [3, "c"]])
  })
})

const snap = (over: Partial<ServiceGraph.Snapshot> = {}): ServiceGraph.Snapshot => ({
  id: 1,
  label: "App",
  shortlabel: "App",
  path: "App",
  depth: 1,
  state: "running",
  phase: "running",
  flags: [],
  lastTransitions: {},
  restartCount: 0,
  uptimeMillis: 1_000,
  crash: null,
  tasks: [{ name: "poll", fiberId: 9, status: "Suspended", ageMillis: 1_000 }],
  dependsOn: [],
  children: [],
  ...over
})

describe("views", () => {
  it("flatten: parents first, with the parent and position; ages become instants", () => {
    const db = snap({ id: 2, label: "Db", path: "App/Db", depth: 2, tasks: [] })
    const cache = snap({ id: 3, label: "Cache", path: "App/Cache", depth: 2, uptimeMillis: null, state: "init", phase: "init" })
    const views = flatten([snap({ children: [db, cache] })], new Map(), 10_000)
    expect(views.map((v) => [v.path, v.parent, v.index])).toEqual([["App", null, 0], ["App/Db", 1, 0], ["App/Cache", 1, 1]])
    expect(views[0]!.startedAt).toBe(9_000)
    expect(views[0]!.tasks[0]!.startedAt).toBe(9_000)
    expect(views[2]!.startedAt).toBeNull()
    expect(views.map((v) => v.strategy)).toEqual([null, null, null])
    expect(flatten([snap()], new Map(), 0, new Map([[1, "oneForAll"]]))[0]!.strategy).toBe("oneForAll")
  })

  it("diff: a running service whose age grew has not changed; a change and a removal are sent", () => {
    const first = diff(new Map(), flatten([snap()], new Map(), 10_000))
    expect(first.changed.map((v) => v.id)).toEqual([1])
    // 2 ms later the snapshot's clock read differs a little: nothing changed.
    const later = diff(first.views, flatten([snap({ uptimeMillis: 3_002, tasks: [{ ...snap().tasks[0]!, ageMillis: 3_001 }] })], first.views, 12_000))
    expect(later.changed).toEqual([])
    const flagged = diff(later.views, flatten([snap({ flags: ["BUSY"] })], later.views, 12_000))
    expect(flagged.changed.map((v) => v.flags)).toEqual([["BUSY"]])
    // A restart is a new run: its instant moves even within the jitter.
    const restarted = diff(flagged.views, flatten([snap({ restartCount: 1, uptimeMillis: 500 })], flagged.views, 12_000))
    expect(restarted.changed.map((v) => v.startedAt)).toEqual([11_500])
    expect(diff(restarted.views, []).removed).toEqual([1])
  })
})

const config = (over: Partial<Config> = {}): Config => ({ ...resolve({}), ...over })
const url = (s: string) => new URL(s, "http://observer")

describe("access", () => {
  it("actions are off by default: refused whatever the token", () => {
    expect(checkAction(config(), "anything")).toMatch(/actions are off/)
  })

  it("turned on, they need the right token", () => {
    const on = config({ actions: { token: "s3cret-token" } })
    expect(checkAction(on, undefined)).toMatch(/needs the observer token/)
    expect(checkAction(on, "s3cret-tokeN")).toBe("wrong observer token")
    expect(checkAction(on, "s3cret")).toBe("wrong observer token")
    expect(checkAction(on, "s3cret-token")).toBeUndefined()
  })

  it("the token comes from the header, a bearer authorization, or the query", () => {
    expect(tokenOf({ "x-observer-token": "a" }, url("/observer/actions/dump?token=b"))).toBe("a")
    expect(tokenOf({ authorization: "Bearer c" }, url("/observer/actions/dump"))).toBe("c")
    expect(tokenOf({ authorization: "Basic Zm9v" }, url("/x?token=d"))).toBe("d")
    expect(tokenOf({}, url("/observer/actions/dump"))).toBeUndefined()
  })

  it("only loopback clients unless allowRemote", () => {
    for (const address of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) expect(checkClient(config(), address)).toBeUndefined()
    expect(checkClient(config(), "10.1.2.3")).toMatch(/loopback clients only \(got 10\.1\.2\.3\)/)
    expect(checkClient(config({ allowRemote: true }), "10.1.2.3")).toBeUndefined()
  })

  it("the observer's paths are /observer and under, nothing else", () => {
    expect([owns("/observer"), owns("/observer/events?x=1"), owns("/observer/"), owns("/observers"), owns("/livez")])
      .toEqual([true, true, true, false, false])
  })

  it("bad options throw a TypeError naming the option and the value", () => {
    expect(() => resolve({ actions: { token: "short" } }, "health.observer.")).toThrow(
      /Invalid health\.observer\.actions\.token: "short"/
    )
    expect(() => resolve({ maxClients: 0 })).toThrow(/Invalid maxClients: "0"/)
    expect(() => resolve({ interval: "soon" as never })).toThrow(/Invalid interval: "soon"/)
  })
})

/** A stand-in for a `ServerResponse`: counts what is written, reports a chosen backlog. */
class FakeResponse extends EventEmitter {
  writableLength = 0
  written: Array<string> = []
  status = 0
  ended = false
  destroyed = false
  writeHead(status: number) {
    this.status = status
    return this
  }
  write(chunk: string) {
    this.written.push(chunk)
    return true
  }
  end() {
    this.ended = true
  }
  destroy() {
    this.destroyed = true
  }
}
const fake = () => new FakeResponse() as FakeResponse & http.ServerResponse

describe("Clients", () => {
  it("at most max pages; a closed page frees its place", () => {
    const clients = new Clients({ max: 2, maxBuffered: 1024 })
    const [a, b, c] = [fake(), fake(), fake()]
    expect([clients.add(a, "init"), clients.add(b, "init"), clients.add(c, "init")]).toEqual([true, true, false])
    expect(c.status).toBe(0)
    expect(a.status).toBe(200)
    a.emit("close")
    expect(clients.add(c, "init")).toBe(true)
    clients.broadcast("patch")
    expect([a.written.length, b.written.length, c.written.length]).toEqual([1, 2, 2])
  })

  it("a page that does not read is disconnected instead of buffering more", () => {
    const clients = new Clients({ max: 4, maxBuffered: 1024 })
    const [slow, fine] = [fake(), fake()]
    clients.add(slow, "init")
    clients.add(fine, "init")
    slow.writableLength = 4096
    clients.broadcast("patch")
    expect(slow.destroyed).toBe(true)
    expect(clients.size).toBe(1)
    expect(fine.written).toEqual(["retry: 2000\n\ninit", "patch"])
    clients.closeAll()
    expect(fine.ended).toBe(true)
  })
})

describe("the feed with no page connected", () => {
  it.scoped("a tree that appears after the first round has its start, crash and restart in the feed, though rounds are skipped", () =>
    Effect.gen(function*() {
      let roots: ReadonlyArray<Service.Service> = []
      const state = yield* makeState(Effect.sync(() => roots), config({ intervalMillis: 500 }))
      let runs = 0
      const flaky = yield* Service.make("Flaky", {
        tasks: [Service.task((self) =>
          Effect.suspend(() => ++runs === 1 ? Effect.zipRight(self.sleep("300 millis"), Effect.fail("boom")) : Effect.never)
        )]
      })
      const sup = yield* Supervisor.oneForOne("Sup", [flaky])
      const app = yield* Service.make("App")
      yield* app.addDependency(sup)
      roots = [app]
      yield* TestClock.adjust("500 millis") // one tick: the services are followed, no full round
      yield* app.start
      yield* TestClock.adjust("1 second")
      expect(yield* flaky.restartCount).toBe(1)
      const events = state.feed.recent.filter((e) => e.path === "App/Sup/Flaky").map((e) => e.kind)
      expect(events).toEqual(["start", "crash", "restart", "start"])
      yield* app.stop
    }))
})

describe("urlHost", () => {
  it("writes an IPv6 address in brackets, as a URL needs it", () => {
    expect([urlHost("::1"), urlHost("[::1]"), urlHost("127.0.0.1"), urlHost("localhost")]).toEqual(["[::1]", "[::1]", "127.0.0.1", "localhost"])
  })
})
