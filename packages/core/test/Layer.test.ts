import { describe, expect } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, Layer, Option, Schedule, Stream, TestClock } from "effect"
import { Service, ServiceError, ServiceGraph, Supervisor } from "@effect-mode/core"
import { it } from "./support/it.js"
import { type Captured, captureLogs } from "./support/logs.js"

/** Runs `launch` on a fiber of its own and waits until `ready` is done. */
const launched = <E>(launch: Effect.Effect<never, E>, ready: Deferred.Deferred<void>) =>
  Effect.flatMap(Effect.fork(launch), (fiber) => Effect.as(Deferred.await(ready), fiber))

/** Waits until `service` is running (its `onStarted` runs just before). */
const untilRunning = (service: Service.Service) =>
  Stream.runDrain(Stream.takeUntil(service.stateChanges, (state) => state === "running"))

describe("Service.Tag and Service.launch", () => {
  it.effect("a diamond of four services starts in dependency order, builds the shared one once, stops in reverse", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const ready = yield* Deferred.make<void>()
      const handles: Record<string, Service.Service> = {}
      const resource = (name: string) =>
        Effect.gen(function*() {
          handles[name] = yield* Service.Current
          yield* Effect.acquireRelease(
            Effect.sync(() => log.push(`open ${name}`)),
            () => Effect.sync(() => log.push(`close ${name}`))
          )
          return { name }
        })
      class D extends Service.Tag<D>()("D", { scoped: resource("D") }) {}
      class B extends Service.Tag<B>()("B", { dependencies: [D.Default], scoped: resource("B") }) {}
      class C extends Service.Tag<C>()("C", { dependencies: [D.Default], scoped: resource("C") }) {}
      class A extends Service.Tag<A>()("A", {
        dependencies: [B.Default, C.Default],
        scoped: resource("A"),
        onStarted: () => Deferred.succeed(ready, undefined)
      }) {}

      const fiber = yield* launched(Service.launch(A.Default), ready)
      yield* untilRunning(handles["A"]!)
      expect(log[0]).toBe("open D")
      expect(log.slice(1, 3).sort()).toEqual(["open B", "open C"])
      expect(log.slice(3)).toEqual(["open A"])

      // one tree: a root with the four services under it, in start order, and the layer edges
      const root = yield* ServiceGraph.root(handles["A"]!)
      const snap = yield* ServiceGraph.snapshot(root)
      expect(snap.label).toBe("App")
      expect(snap.children.map((c) => c.label)).toEqual(log.map((l) => l.slice(5)))
      expect(snap.children.every((c) => c.state === "running")).toBe(true)
      const byLabel = Object.fromEntries(snap.children.map((c) => [c.label, c]))
      expect(byLabel["A"]!.dependsOn.map((id) => snap.children.find((c) => c.id === id)!.label).sort()).toEqual(["B", "C"])
      expect(byLabel["B"]!.dependsOn).toEqual([byLabel["D"]!.id])
      expect(byLabel["D"]!.dependsOn).toEqual([])
      expect(Service.dependenciesOf(handles["C"]!)).toEqual([handles["D"]])
      // the renderings draw the layer edges too, dashed, beside the tree's
      const id = (name: string) => `s${handles[name]!.id}`
      const dot = yield* ServiceGraph.toDot(root)
      for (const [from, to] of [["A", "B"], ["A", "C"], ["B", "D"], ["C", "D"]]) {
        expect(dot).toContain(`  ${id(from!)} -> ${id(to!)} [style=dashed label="uses"];`)
        expect(yield* ServiceGraph.toMermaid(root)).toContain(`  ${id(from!)} -. uses .-> ${id(to!)}`)
      }
      expect(dot).toContain(`  s${root.id} -> ${id("D")};`)
      expect(dot.match(/style=dashed/g)).toHaveLength(4)

      log.length = 0
      yield* Fiber.interrupt(fiber)
      expect(log[0]).toBe("close A")
      expect(log.slice(1, 3).sort()).toEqual(["close B", "close C"])
      expect(log.slice(3)).toEqual(["close D"])
      for (const name of ["A", "B", "C", "D"]) expect(yield* handles[name]!.state).toBe("shutdown")
      expect(yield* root.state).toBe("shutdown")
    }))

  it.effect("the API of a service is used by another service's task (yield* Database in a task)", () =>
    Effect.gen(function*() {
      const queries: Array<string> = []
      const ready = yield* Deferred.make<void>()
      class Database extends Service.Tag<Database>()("Database", {
        scoped: Effect.succeed({
          query: (sql: string) => Effect.sync(() => queries.push(sql))
        })
      }) {}
      class Consumer extends Service.Tag<Consumer>()("Consumer", {
        dependencies: [Database.Default],
        scoped: Effect.succeed({ lag: Effect.succeed(7) }),
        onStarted: () => Deferred.succeed(ready, undefined),
        tasks: [
          Service.timer("1 second", () =>
            Effect.gen(function*() {
              const db = yield* Database
              yield* db.query("commit")
            }), { name: "commit" })
        ]
      }) {}
      class Reporter extends Service.Tag<Reporter>()("Reporter", {
        dependencies: [Consumer.Default],
        scoped: Effect.map(Consumer, (consumer) => ({ report: consumer.lag }))
      }) {}

      const fiber = yield* launched(Service.launch(Reporter.Default), ready)
      yield* TestClock.adjust("3 seconds")
      expect(queries).toEqual(["commit", "commit", "commit"])
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("a crash in a layer service ends launch with Crashed, releasing everything once in reverse", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const released = (name: string) => Effect.sync(() => log.push(`release ${name}`))
      class Pool extends Service.Tag<Pool>()("Pool", {}) {}
      const Plain = Layer.scopedDiscard(Effect.acquireRelease(Effect.void, () => released("plain")))
      class Database extends Service.Tag<Database>()("Database", {
        dependencies: [Pool.Default],
        scoped: Effect.as(Effect.acquireRelease(Effect.void, () => released("Database")), {}),
        onShutdown: () => released("Database onShutdown")
      }) {}
      class Consumer extends Service.Tag<Consumer>()("Consumer", {
        dependencies: [Database.Default],
        scoped: Effect.as(Effect.acquireRelease(Effect.void, () => released("Consumer")), {}),
        tasks: [Service.task((self) => Effect.zipRight(self.sleep("1 second"), Effect.fail("poll failed")), { name: "poll" })]
      }) {}

      const fiber = yield* Effect.fork(Service.launch(Layer.merge(Consumer.Default, Plain), { label: "Orders" }))
      yield* TestClock.adjust("1 second")
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit)).toBe(true)
      const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      expect(error).toBeInstanceOf(ServiceError.Crashed)
      const crashed = error as ServiceError.Crashed
      expect(crashed.path).toBe("Orders/Consumer")
      expect(crashed.label).toBe("Consumer")
      expect(Cause.squash(crashed.cause)).toBe("poll failed")
      // in the reverse order of the layer graph; Plain, merged beside Consumer, is released once too
      expect(log.filter((l) => l !== "release plain")).toEqual(["release Consumer", "release Database", "release Database onShutdown"])
      expect(log.filter((l) => l === "release plain")).toEqual(["release plain"])
    }))

  it.effect("Service.Current inside scoped is the handle of the service being built", () =>
    Effect.gen(function*() {
      let seen: Service.Service | undefined
      class Cache extends Service.Tag<Cache>()("Cache", {
        scoped: Effect.gen(function*() {
          const self = yield* Service.Current
          seen = self
          yield* self.diag.setFlag("WARM")
          expect(yield* self.state).toBe("starting")
          return { size: Effect.succeed(0) }
        })
      }) {}
      const program = Effect.gen(function*() {
        const handle = yield* Cache.handle
        expect(handle).toBe(seen)
        expect(handle.label).toBe("Cache")
        expect(yield* handle.state).toBe("running")
        expect(yield* handle.diag.flags).toEqual(new Set(["WARM"]))
        expect(yield* (yield* Cache).size).toBe(0)
        return handle
      })
      // standalone: no launch, the layer starts and stops the service
      const handle = yield* Effect.provide(program, Cache.Default)
      expect(yield* handle.state).toBe("shutdown")
    }))

  it.effect("Service.Current in a Tag's declared tasks, timers (with and without execFirst) and crontabs is the service's handle", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const record = (what: string) =>
        Effect.flatMap(Service.Current, (self) => Effect.sync(() => seen.push(`${what} ${self.label}`)))
      class Jobs extends Service.Tag<Jobs>()("Jobs", {
        tasks: [
          Service.task(() => record("task"), { name: "once" }),
          Service.timer("1 second", () => record("timer"), { name: "tick" }),
          Service.timer("1 second", () => record("first"), { name: "first", execFirst: true }),
          Service.crontab("* * * * *", () => record("cron"), { name: "minutely" })
        ]
      }) {}
      const program = Effect.gen(function*() {
        const handle = yield* Jobs.handle
        yield* TestClock.adjust("60 seconds")
        expect(yield* handle.state).toBe("running")
        return handle
      })
      const handle = yield* Effect.provide(program, Jobs.Default)
      expect(yield* handle.crashed).toBe(false)
      for (const what of ["task", "timer", "first", "cron"]) expect(seen).toContain(`${what} Jobs`)
    }))

  it.effect("a layer service that crashes as soon as it starts ends launch with Crashed (its path and cause), not the root's StartFailed", () =>
    Effect.gen(function*() {
      class Db extends Service.Tag<Db>()("Db", { tasks: [Service.task(() => Effect.fail("disk gone" as const))] }) {}
      const exit = yield* Effect.exit(Service.launch(Db.Default, { label: "Orders" }))
      const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      expect(error).toBeInstanceOf(ServiceError.Crashed)
      expect((error as ServiceError.Crashed).path).toBe("Orders/Db")
      expect(Cause.squash((error as ServiceError.Crashed).cause)).toBe("disk gone")
    }))

  it.effect("a service wrapped in the user's own layers (Effect.Service, Service.scoped, Layer.project) joins the launch's tree", () =>
    Effect.gen(function*() {
      const ready = yield* Deferred.make<void>()
      let legacy: Service.Service | undefined
      class Inner extends Service.Tag<Inner>()("Inner", { scoped: Effect.succeed({ n: 1 }) }) {}
      class Wrapper extends Effect.Service<Wrapper>()("Wrapper", {
        scoped: Effect.gen(function*() {
          const inner = yield* Inner
          yield* Service.scoped(Service.make("Legacy", {
            onFirstStart: (self) => Effect.sync(() => {
              legacy = self
            }),
            onStarted: () => Deferred.succeed(ready, undefined),
            tasks: [Service.task((self) => Effect.zipRight(self.sleep("1 second"), Effect.dieMessage("legacy broke")))]
          }))
          return { n: inner.n }
        }),
        dependencies: [Inner.Default]
      }) {}
      // re-exported under another shape: the launch still finds both services
      const App = Layer.project(Wrapper.Default, Wrapper, Wrapper, (w) => w)

      const fiber = yield* launched(Service.launch(App), ready)
      yield* untilRunning(legacy!)
      const root = yield* ServiceGraph.root(legacy!)
      const snap = yield* ServiceGraph.snapshot(root)
      expect(snap.children.map((c) => c.path)).toEqual(["App/Inner", "App/Legacy"])
      expect(snap.children[1]!.dependsOn).toEqual([snap.children[0]!.id])

      yield* TestClock.adjust("1 second")
      const exit = yield* Fiber.await(fiber)
      const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      expect(error).toBeInstanceOf(ServiceError.Crashed)
      expect((error as ServiceError.Crashed).path).toBe("App/Legacy")
      expect(yield* legacy!.state).toBe("crashed")
      expect(yield* legacy!.started).toBe(false)
    }))

  it.effect("a key in Effect's \"@app/Name\" style names its services after its last part; bad keys and options fail when declared", () =>
    Effect.gen(function*() {
      class Database extends Service.Tag<Database>()("@app/Database", { scoped: Effect.succeed({ ping: Effect.void }) }) {}
      expect(Database.key).toBe("@app/Database")
      const handle = yield* Effect.provide(Effect.flatMap(Database, (db) => Effect.as(db.ping, undefined)).pipe(
        Effect.zipRight(Database.handle)
      ), Database.Default)
      expect(handle.label).toBe("Database")
      expect(yield* handle.state).toBe("shutdown")
      expect(() => Service.Tag<unknown>()("@app/", {})).toThrow(/Invalid key of Service\.Tag: "@app\/"/)
      expect(() => Service.Tag<unknown>()("", {})).toThrow(/Invalid key of Service\.Tag: ""/)
      expect(() => Service.Tag<unknown>()("Slow", { stopTimeout: "soon" as never })).toThrow(/stopTimeout of service Slow: "soon"/)
      expect(() => Service.Tag<unknown>()("Busy", { supervise: { callTimeout: -1 } })).toThrow(
        /supervise\.callTimeout of service Busy: "-1"/
      )
      expect(() => Service.Tag<unknown>()("Many", { supervise: { maxRestarts: -1 } })).toThrow(
        /Invalid supervise\.maxRestarts of service Many: "-1"/
      )
      expect(() => Service.Tag<unknown>()("Soon", { supervise: { within: "soon" as never } })).toThrow(/supervise\.within.*"soon"/)
      expect(() => Service.Tag<unknown>()("Odd", { supervise: { restart: "sometimes" as never } })).toThrow(/"sometimes"/)
      expect(() => Service.Tag<unknown>()("Five", { supervise: { backoff: 5 as never } })).toThrow(/Invalid supervise\.backoff of service Five/)
      expect(() => Service.Tag<unknown>()("All", { supervise: { strategy: "oneForAll" as never } })).toThrow(
        /Invalid supervise\.strategy of service All: "oneForAll"/
      )
      expect(() => Service.Tag<unknown>()("Grp", { supervise: { group: { _tag: "nope" } as never } })).toThrow(
        /Invalid supervise\.group of service Grp/
      )
    }))

  it.effect("a failed start ends launch with StartFailed and releases what was built", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      class Database extends Service.Tag<Database>()("Database", {
        scoped: Effect.as(Effect.acquireRelease(Effect.void, () => Effect.sync(() => log.push("release Database"))), {})
      }) {}
      class Consumer extends Service.Tag<Consumer>()("Consumer", {
        dependencies: [Database.Default],
        scoped: Effect.fail("refused" as const)
      }) {}
      const exit = yield* Effect.exit(Service.launch(Consumer.Default))
      const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      expect(error).toBeInstanceOf(ServiceError.StartFailed)
      expect((error as ServiceError.StartFailed).label).toBe("Consumer")
      expect(log).toEqual(["release Database"])
    }))

  it.effect("Service.addTask forks a task from scoped into the run: it uses scoped's state, stops with the service, crashes it on failure", () =>
    Effect.gen(function*() {
      const seen: Array<number> = []
      const ready = yield* Deferred.make<void>()
      class Counter extends Service.Tag<Counter>()("Counter", {
        scoped: Effect.gen(function*() {
          let n = 0
          yield* Service.addTask(Service.timer("1 second", () =>
            Effect.sync(() => {
              n++
              seen.push(n)
            }), { name: "count" }))
          yield* Service.addTask(Service.task(() => Effect.fail("ignored"), { name: "noisy", onError: "log" }))
          yield* Service.addTask(Service.task((self) =>
            Effect.zipRight(self.sleep("10 seconds"), Effect.fail("count overflow")), { name: "limit" }))
          return { value: Effect.sync(() => n) }
        }),
        onStarted: () => Deferred.succeed(ready, undefined)
      }) {}
      const fiber = yield* launched(Service.launch(Counter.Default), ready)
      yield* TestClock.adjust("3 seconds")
      expect(seen).toEqual([1, 2, 3])
      yield* TestClock.adjust("7 seconds")
      const exit = yield* Fiber.await(fiber)
      const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      expect((error as ServiceError.Crashed).path).toBe("App/Counter")
      expect(Cause.squash((error as ServiceError.Crashed).cause)).toBe("count overflow")
      const count = seen.length
      yield* TestClock.adjust("5 seconds")
      expect(seen.length).toBe(count)
    }))

  it.effect("a service made inside Effect.provide(layer) and started after the layer was released is warned about", () =>
    Effect.gen(function*() {
      const lines: Array<Captured> = []
      class Database extends Service.Tag<Database>()("Database", { scoped: Effect.succeed({ ping: Effect.void }) }) {}
      const makeRoot = Service.make("App", { tasks: [Service.task(() => Effect.flatMap(Database, (db) => db.ping))] })
      const root = yield* Effect.provide(makeRoot, Database.Default) // Database is stopped again here
      yield* captureLogs(Effect.zipRight(root.start, root.stop), lines)
      const warnings = lines.filter((l) => l.level === "WARN").map((l) => l.message)
      expect(warnings).toEqual([expect.stringContaining("Service App uses Database, which stopped before App started")])

      // provided around the whole program: no warning
      lines.length = 0
      yield* captureLogs(
        Effect.provide(Effect.flatMap(makeRoot, (r) => Effect.zipRight(r.start, r.stop)), Database.Default),
        lines
      )
      expect(lines.filter((l) => l.level === "WARN")).toEqual([])
    }))

  it.effect("after a restart through its handle, the API in the context reaches the new instance", () =>
    Effect.gen(function*() {
      let instances = 0
      class Counter extends Service.Tag<Counter>()("Counter", {
        scoped: Effect.sync(() => {
          const n = ++instances
          return { instance: Effect.succeed(n), label: `instance ${n}` }
        })
      }) {}
      const program = Effect.gen(function*() {
        const counter = yield* Counter
        expect(yield* counter.instance).toBe(1)
        yield* (yield* Counter.handle).restart
        expect(yield* counter.instance).toBe(2)
        expect(counter.label).toBe("instance 2")
      })
      yield* Effect.provide(program, Counter.Default)
    }))

  it.effect("the root runs once the whole layer is built; a crash while it builds ends launch with Crashed, releasing what was built", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const gate = yield* Deferred.make<void>()
      const handles: Record<string, Service.Service> = {}
      class Fast extends Service.Tag<Fast>()("Fast", {
        scoped: Effect.gen(function*() {
          handles["Fast"] = yield* Service.Current
          yield* Effect.addFinalizer(() => Effect.sync(() => log.push("release Fast")))
          return {}
        }),
        tasks: [Service.task((self) => Effect.zipRight(self.sleep("1 second"), Effect.fail("fast broke")))]
      }) {}
      class Slow extends Service.Tag<Slow>()("Slow", {
        dependencies: [Fast.Default],
        scoped: Effect.gen(function*() {
          handles["Slow"] = yield* Service.Current
          yield* Effect.addFinalizer(() => Effect.sync(() => log.push("release Slow")))
          yield* Deferred.await(gate) // still building
          return {}
        })
      }) {}
      const fiber = yield* Effect.fork(Service.launch(Slow.Default))
      yield* TestClock.adjust("10 millis")
      const root = yield* ServiceGraph.root(handles["Slow"]!)
      expect(yield* root.state).toBe("starting") // not up yet: /readyz says not ready
      expect(yield* handles["Fast"]!.state).toBe("running")
      yield* TestClock.adjust("1 second") // Fast crashes while Slow is still starting
      const exit = yield* Fiber.await(fiber)
      const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      expect(error).toBeInstanceOf(ServiceError.Crashed)
      expect((error as ServiceError.Crashed).path).toBe("App/Fast")
      expect(log).toEqual(["release Slow", "release Fast"])
      expect(yield* handles["Slow"]!.started).toBe(false)
      expect(yield* handles["Fast"]!.started).toBe(false)
    }))

  it.effect("mode-style trees and layer services mix both ways: children added from scoped, layer services under a root of one's own", () =>
    Effect.gen(function*() {
      const ready = yield* Deferred.make<void>()
      let parent: Service.Service | undefined
      class Parent extends Service.Tag<Parent>()("Parent", {
        scoped: Effect.gen(function*() {
          parent = yield* Service.Current
          yield* parent.addDependency(yield* Service.make("Child", { onStarted: () => Deferred.succeed(ready, undefined) }))
          return {}
        })
      }) {}
      const root = yield* Service.make("Legacy")
      yield* root.addDependency(yield* Service.make("Sidecar"))
      const fiber = yield* Effect.fork(Service.launch(Parent.Default, { root }))
      yield* Deferred.await(ready)
      yield* untilRunning(root)
      const snap = yield* ServiceGraph.snapshot(root)
      const paths = (s: ServiceGraph.Snapshot): Array<string> => [s.path, ...s.children.flatMap(paths)]
      expect(paths(snap)).toEqual(["Legacy", "Legacy/Sidecar", "Legacy/Parent", "Legacy/Parent/Child"])
      expect(snap.children.every((c) => c.state === "running")).toBe(true)
      yield* Fiber.interrupt(fiber)
      expect(yield* root.state).toBe("shutdown")
      // The launch's services were released and left the root; the root's own tree stays.
      expect((yield* ServiceGraph.walk(root)).map((s) => s.label)).toEqual(["Legacy", "Sidecar"])
      for (const s of yield* ServiceGraph.walk(root)) expect(yield* s.state).toBe("shutdown")
      expect(yield* parent!.state).toBe("shutdown")
      // Its child, added from scoped, belonged to that run: stopped and taken off with it.
      expect(yield* parent!.beacon.children).toEqual([])
    }))
  it.effect("as in Effect.Service, the API is built with effect, sync or succeed instead of scoped (at every start), and accessors: true reads it through the class", () =>
    Effect.gen(function*() {
      const built: Array<string> = []
      class Db extends Service.Tag<Db>()("Db", {
        effect: Effect.sync(() => {
          built.push("effect")
          return { query: (sql: string) => Effect.succeed(`rows of ${sql}`), size: Effect.succeed(4), version: "v1" }
        }),
        accessors: true
      }) {}
      class Config extends Service.Tag<Config>()("Config", {
        sync: () => {
          built.push("sync")
          return { port: 8080 }
        }
      }) {}
      class Flags extends Service.Tag<Flags>()("Flags", { succeed: { debug: true } }) {}
      const program = Effect.gen(function*() {
        expect(yield* Db.query("select 1")).toBe("rows of select 1")
        expect(yield* Db.size).toBe(4)
        expect(yield* Db.version).toBe("v1")
        expect((yield* Config).port).toBe(8080)
        expect((yield* Flags).debug).toBe(true)
        const handle = yield* Db.handle
        expect(handle.label).toBe("Db")
        yield* handle.restart
        yield* (yield* Config.handle).restart
        expect(yield* Db.query("select 2")).toBe("rows of select 2")
        return handle
      })
      const handle = yield* Effect.provide(program, Layer.mergeAll(Db.Default, Config.Default, Flags.Default))
      expect(built).toEqual(["effect", "sync", "effect", "sync"])
      expect(yield* handle.state).toBe("shutdown")
      expect(() => Service.Tag<unknown>()("Both", { scoped: Effect.succeed({}), effect: Effect.succeed({}) } as never)).toThrow(
        /Invalid options of Service\.Tag "Both": give one of scoped, effect, not 2/
      )
      expect(() => Service.Tag<unknown>()("NotEffect", { effect: {} as never })).toThrow(/Invalid effect of Service\.Tag "NotEffect"/)
      expect(() => Service.Tag<unknown>()("NotFn", { sync: 3 as never })).toThrow(/Invalid sync of Service\.Tag "NotFn": "3" is not a function/)
    }))
  it.effect("what a Tag's hooks and tasks acquire with a Scope is released by the matching stop, not kept for the layer's release", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      let opened = 0
      class Pool extends Service.Tag<Pool>()("Pool", {
        onStart: () =>
          Effect.acquireRelease(Effect.sync(() => log.push(`open ${++opened}`)), () => Effect.sync(() => log.push(`close ${opened}`))),
        onStop: () => Effect.sync(() => log.push("onStop")),
        onShutdown: () => Effect.acquireRelease(Effect.void, () => Effect.sync(() => log.push("shutdown scope closed"))),
        tasks: [Service.task(() => Effect.zipRight(Effect.addFinalizer(() => Effect.sync(() => log.push("task finalizer"))), Effect.never))]
      }) {}
      yield* Effect.provide(Effect.gen(function*() {
        const handle = yield* Pool.handle
        yield* TestClock.adjust("1 millis")
        yield* handle.restart
        yield* TestClock.adjust("1 millis")
      }), Pool.Default)
      expect(log).toEqual([
        "open 1", "onStop", "task finalizer", "close 1", "shutdown scope closed",
        "open 2", "onStop", "task finalizer", "close 2", "shutdown scope closed"
      ])
    }))
  it.effect("a mode-style child made inside a Tag's scoped sees itself as Service.Current, not its parent", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      class Parent extends Service.Tag<Parent>()("Parent", {
        scoped: Effect.gen(function*() {
          const child = yield* Service.make("Child", {
            onStart: () => Effect.map(Service.Current, (s) => void seen.push(`onStart ${s.label}`)),
            tasks: [Service.task(() => Effect.map(Service.Current, (s) => void seen.push(`task ${s.label}`)))]
          })
          yield* (yield* Service.Current).addDependency(child)
          return {}
        }),
        onStarted: (self) => Effect.map(Service.Current, (s) => void seen.push(`parent ${s.label} ${s === self}`))
      }) {}
      yield* Effect.provide(TestClock.adjust("1 millis"), Parent.Default)
      expect(seen).toEqual(["onStart Child", "task Child", "parent Parent true"])
    }))

  it.effect("a start that failed leaves the launch's tree: after Layer.retry, only the attempt that came up is there", () =>
    Effect.gen(function*() {
      let attempts = 0
      let db: Service.Service | undefined
      class Db extends Service.Tag<Db>()("Db", {
        scoped: Effect.gen(function*() {
          db = yield* Service.Current
          return ++attempts < 3 ? yield* Effect.fail("not up yet") : {}
        })
      }) {}
      const launch = yield* Effect.fork(Service.launch(Db.Default.pipe(Layer.retry(Schedule.spaced("1 second")))))
      yield* TestClock.adjust("3 seconds")
      const root = yield* ServiceGraph.snapshot(yield* ServiceGraph.root(db!))
      yield* Fiber.interrupt(launch)
      expect(attempts).toBe(3)
      expect(root.state).toBe("running")
      expect(root.children.map((c) => `${c.label}:${c.state}`)).toEqual(["Db:running"])
    }))

  it.effect("a restart of a Tag service while the layer is still being built is not a stop: the program goes on", () =>
    Effect.gen(function*() {
      let x: Service.Service | undefined
      const started = yield* Deferred.make<void>()
      class X extends Service.Tag<X>()("X", {
        scoped: Effect.map(Service.Current, (self) => {
          x = self
          return {}
        }),
        onStarted: () => Deferred.succeed(started, undefined)
      }) {}
      // under launch
      const launch = yield* Effect.fork(Service.launch(X.Default))
      yield* Deferred.await(started)
      yield* x!.restart
      yield* TestClock.adjust("1 second")
      expect(yield* x!.state).toBe("running")
      expect(launch.unsafePoll()).toBeNull()
      yield* Fiber.interrupt(launch)
      // standalone
      const again = yield* Deferred.make<void>()
      class Y extends Service.Tag<Y>()("Y", {
        scoped: Effect.map(Service.Current, (self) => {
          x = self
          return {}
        }),
        onStarted: () => Deferred.succeed(again, undefined)
      }) {}
      const program = yield* Effect.fork(Effect.provide(Effect.never, Y.Default))
      yield* Deferred.await(again)
      yield* x!.restart
      yield* TestClock.adjust("1 second")
      expect(yield* x!.state).toBe("running")
      expect(program.unsafePoll()).toBeNull()
      yield* Fiber.interrupt(program)
    }))

  it.effect("a launch with a root of one's own that an earlier launch stopped builds and starts again", () =>
    Effect.gen(function*() {
      let builds = 0
      class Db extends Service.Tag<Db>()("Db", {
        scoped: Effect.sync(() => {
          builds++
          return {}
        })
      }) {}
      const root = yield* Service.make("Main")
      const first = yield* Effect.fork(Service.launch(Db.Default, { root }))
      yield* TestClock.adjust("10 millis")
      yield* Fiber.interrupt(first)
      expect(yield* root.state).toBe("shutdown")
      const second = yield* Effect.fork(Service.launch(Db.Default, { root }))
      yield* TestClock.adjust("10 millis")
      expect({ builds, second: second.unsafePoll(), root: yield* root.state }).toEqual({ builds: 2, second: null, root: "running" })
      yield* Fiber.interrupt(second)
    }))

  it.effect("an API method that updates its own object through this works, as with Effect.Service", () =>
    Effect.gen(function*() {
      const api = () => ({
        hits: 0,
        hit() {
          return Effect.sync(() => ++this.hits)
        }
      })
      class Counter extends Service.Tag<Counter>()("Counter", { sync: api }) {}
      const hits = yield* Effect.provide(
        Effect.flatMap(Counter, (c) => Effect.zipRight(c.hit(), Effect.map(c.hit(), (n) => [n, c.hits]))),
        Counter.Default
      )
      expect(hits).toEqual([2, 2])
    }))

  it.effect("children that scoped adds with addDependency belong to the run: a restart gives the same tree, not a growing one", () =>
    Effect.gen(function*() {
      let made = 0
      class Parent extends Service.Tag<Parent>()("Parent", {
        scoped: Effect.gen(function*() {
          const self = yield* Service.Current
          yield* self.addDependency(yield* Service.make(`Child${++made}`))
          return {}
        })
      }) {}
      const [children, stopped] = yield* Effect.provide(Effect.gen(function*() {
        const handle = yield* Parent.handle
        const first = (yield* handle.beacon.children)[0]!.service
        yield* handle.restart
        yield* handle.restart
        const kids = yield* handle.beacon.children
        return [
          yield* Effect.forEach(kids, (k) => Effect.map(k.service.state, (s) => `${k.service.label}:${s}`)),
          yield* first.state
        ] as const
      }), Parent.Default)
      expect(children).toEqual(["Child3:running"])
      expect(stopped).toBe("shutdown")
    }))

  it.effect("supervised: the child of a crashed run is not started again beside the new run's", () =>
    Effect.gen(function*() {
      let made = 0
      let parent: Service.Service | undefined
      const ready = yield* Deferred.make<void>()
      class Parent extends Service.Tag<Parent>()("Parent", {
        scoped: Effect.gen(function*() {
          parent = yield* Service.Current
          const n = ++made
          yield* parent.addDependency(yield* Service.make(`Child${n}`, {
            tasks: n === 1 ? [Service.task((s) => Effect.zipRight(s.sleep("1 second"), Effect.fail("child broke")))] : []
          }))
          return {}
        }),
        supervise: {},
        onStarted: () => Deferred.succeed(ready, undefined)
      }) {}
      const launch = yield* Effect.fork(Service.launch(Parent.Default))
      yield* Deferred.await(ready)
      yield* TestClock.adjust("1 second")
      yield* TestClock.adjust("10 millis")
      const kids = yield* parent!.beacon.children
      const seen = yield* Effect.forEach(kids, (k) => Effect.map(k.service.state, (s) => `${k.service.label}:${s}`))
      yield* Fiber.interrupt(launch)
      expect(seen).toEqual(["Child2:running"])
    }))

  it.effect("under launch, a handle supervisor can take a Tag service's handle (the root, waiting for its layer, holds none)", () =>
    Effect.gen(function*() {
      const ready = yield* Deferred.make<void>()
      let x: Service.Service | undefined
      class X extends Service.Tag<X>()("X", { tasks: [Service.task(() => Effect.never)] }) {}
      class Sup extends Service.Tag<Sup>()("Sup", {
        dependencies: [X.Default],
        scoped: Effect.gen(function*() {
          const self = yield* Service.Current
          x = yield* X.handle
          yield* self.addDependency(yield* Supervisor.oneForOne("XSup", [x]))
          return {}
        }),
        onStarted: () => Deferred.succeed(ready, undefined)
      }) {}
      const launch = yield* Effect.fork(Service.launch(Sup.Default))
      yield* Deferred.await(ready)
      expect(yield* x!.beacon.path).toBe("App/Sup/XSup/X")
      expect(yield* x!.state).toBe("running")
      expect(launch.unsafePoll()).toBeNull()
      yield* Fiber.interrupt(launch)
      expect(yield* x!.state).toBe("shutdown")
    }))
})
