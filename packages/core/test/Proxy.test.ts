/**
 * `Service.proxy`: mode's `ServiceProxy` (tests/functional/test_proxy.py): every member is
 * delegated to the proxied service, which is made on first use, once.
 */
import { describe, expect } from "@effect/vitest"
import { Cause, Context, Effect, Fiber, Layer, Option, Stream, TestClock } from "effect"
import { Service, ServiceGraph, Supervisor } from "@effect-mode/core"
import { it } from "./support/it.js"

describe("Service.proxy", () => {
  it.effect("the service is made on first use, once, and every lifecycle member is the service's", () =>
    Effect.gen(function*() {
      let made = 0
      const events: Array<string> = []
      const proxy = yield* Service.proxy("AppProxy", () =>
        Effect.sync(() => made++).pipe(Effect.zipRight(Service.make("App", {
          onStart: () => Effect.sync(() => events.push("start")),
          onStop: () => Effect.sync(() => events.push("stop")),
          onRestart: () => Effect.sync(() => events.push("restart"))
        }))))
      expect(made).toBe(0)
      expect(proxy.label).toBe("AppProxy")
      expect(proxy.shortlabel).toBe("AppProxy")
      expect(Service.isService(proxy)).toBe(true)
      expect(yield* proxy.state).toBe("init")
      expect(made).toBe(1)
      expect(yield* proxy.maybeStart).toBe(true)
      expect(yield* proxy.maybeStart).toBe(false)
      expect(yield* proxy.started).toBe(true)
      expect(yield* proxy.state).toBe("running")
      yield* proxy.restart
      expect(yield* proxy.restartCount).toBe(1)
      expect(yield* proxy.shouldStop).toBe(false)
      yield* proxy.stop
      expect(yield* proxy.state).toBe("shutdown")
      expect(yield* proxy.shouldStop).toBe(true)
      expect(events).toEqual(["start", "stop", "restart", "start", "stop"])
      expect(made).toBe(1)
    }))

  it.effect("crash, crashReason, setShutdown, waits, sleep, diag and stateChanges go to the service", () =>
    Effect.gen(function*() {
      const proxy = yield* Service.proxy("P", () => Service.make("S", { waitForShutdown: true, shutdownTimeout: "1 minute" }))
      yield* proxy.start
      const states = yield* Effect.fork(
        Stream.runCollect(Stream.takeUntil(proxy.stateChanges, (state) => state === "shutdown"))
      )
      yield* TestClock.adjust("1 second")
      yield* proxy.diag.setFlag("BUSY")
      expect([...(yield* proxy.diag.flags)]).toEqual(["BUSY"])
      yield* proxy.diag.unsetFlag("BUSY")
      expect((yield* proxy.wait(Effect.succeed(3)))._tag).toBe("Completed")
      const stopping = yield* Effect.fork(proxy.stop)
      yield* TestClock.adjust("1 second")
      expect(yield* proxy.state).toBe("stopping")
      yield* proxy.setShutdown
      yield* stopping
      expect(yield* proxy.waitForStopped()).toBe(true)
      yield* proxy.waitUntilStopped
      const changes = yield* states
      expect(Array.from(changes).slice(-2)).toEqual(["stopping", "shutdown"])

      const crashing = yield* Service.proxy("C", () => Service.make("Crashing"))
      yield* crashing.start
      const sleeper = yield* Effect.fork(crashing.sleep("1 hour"))
      yield* TestClock.adjust("1 second")
      yield* crashing.crash(new Error("boom"))
      yield* sleeper
      expect(yield* crashing.crashed).toBe(true)
      const reason = yield* crashing.crashReason
      expect(Option.isSome(reason) && Cause.pretty(reason.value)).toMatch(/boom/)
      yield* crashing.stop
    }))

  it.effect("as a child, a root or a supervised service, the proxy's service is made and used; its beacon is the service's", () =>
    Effect.gen(function*() {
      const parent = yield* Service.make("Parent")
      const childProxy = yield* Service.proxy("ChildProxy", () => Service.make("Child"))
      yield* parent.addDependency(childProxy)
      yield* parent.start
      expect(yield* childProxy.state).toBe("running")
      expect(yield* childProxy.beacon.path).toBe("Parent/Child")
      expect(childProxy.beacon.service.label).toBe("Child")
      const walked = yield* ServiceGraph.walk(parent)
      expect(walked.map((s) => s.label)).toEqual(["Parent", "Child"])
      yield* parent.removeDependency(childProxy)
      expect(yield* childProxy.state).toBe("shutdown")
      expect(yield* childProxy.beacon.depth).toBe(1)
      yield* parent.stop

      // given to a supervisor and to ServiceGraph before anything made it
      let made = 0
      const flaky = yield* Service.proxy("FlakyProxy", () =>
        Effect.sync(() => made++).pipe(Effect.zipRight(Service.make("Flaky"))))
      const sup = yield* Supervisor.oneForOne("Sup", [flaky])
      expect(made).toBe(1)
      yield* sup.start
      yield* flaky.crash("boom")
      yield* TestClock.adjust("1 second")
      expect(yield* flaky.state).toBe("running")
      expect(yield* flaky.restartCount).toBe(1)
      expect(yield* ServiceGraph.toMermaid(sup)).toContain("Flaky")
      yield* sup.stop

      const rootProxy = yield* Service.proxy("RootProxy", () => Service.make("Root"))
      expect((yield* ServiceGraph.snapshot(rootProxy)).label).toBe("Root")
    }))

  it.effect("make runs with the context the proxy was made in; ids are unique; bad input throws when declared", () =>
    Effect.gen(function*() {
      class Config extends Context.Tag("Config")<Config, { readonly label: string }>() {}
      const proxy = yield* Service.proxy("Configured", () => Effect.flatMap(Config, (c) => Service.make(c.label))).pipe(
        Effect.provideService(Config, { label: "FromConfig" })
      )
      expect((yield* ServiceGraph.snapshot(proxy)).label).toBe("FromConfig")
      const other = yield* Service.proxy("Configured", () => Service.make("X"))
      expect(other.id).not.toBe(proxy.id)
      expect(yield* Effect.map(ServiceGraph.root(proxy), (s) => s.label)).toBe("FromConfig")
      // two first uses at once make one service; a make that dies is asked again by the next use
      let makes = 0
      const slow = yield* Service.proxy("Slow", () =>
        Effect.zipRight(Effect.zipRight(Effect.sync(() => makes++), Effect.sleep("1 second")), Service.make("Made")))
      const both = yield* Effect.fork(Effect.all([slow.state, slow.state], { concurrency: "unbounded" }))
      yield* TestClock.adjust("1 second")
      expect(yield* both).toEqual(["init", "init"])
      expect(makes).toBe(1)
      let tries = 0
      const flaky = yield* Service.proxy("Flaky", () =>
        Effect.suspend(() => ++tries === 1 ? Effect.die("not yet") : Service.make("Second")))
      expect((yield* Effect.exit(flaky.state))._tag).toBe("Failure")
      expect(yield* flaky.state).toBe("init")
      expect(tries).toBe(2)
      expect(() => Service.proxy("a/b", () => Service.make("X"))).toThrow(/Invalid label of Service\.proxy: "a\/b"/)
      expect(() => Service.proxy("P", 3 as never)).toThrow(/Invalid make of Service\.proxy P: "3" is not a function/)
    }))
  it.effect("a proxy in mode's dependencies hook, a maker interrupted while others wait, a proxy behind a layer's edges", () =>
    Effect.gen(function*() {
      const p1 = yield* Service.proxy("P1", () => Service.make("C1"))
      const parent = yield* Service.make("Parent", { dependencies: () => Effect.succeed([p1]) })
      yield* parent.start
      expect(yield* p1.state).toBe("running")
      expect(yield* p1.beacon.path).toBe("Parent/C1")
      yield* parent.stop

      // the first caller is interrupted while it makes the service: a caller waiting on the
      // same make is not, and gets the service (made again)
      let makes = 0
      const slow = yield* Service.proxy("Slow", () =>
        Effect.zipRight(Effect.zipRight(Effect.sync(() => makes++), Effect.sleep("1 second")), Service.make("S")))
      const a = yield* Effect.fork(slow.state)
      yield* TestClock.adjust("1 millis")
      const b = yield* Effect.fork(slow.state)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.interrupt(a)
      yield* TestClock.adjust("2 seconds")
      expect(yield* Fiber.join(b)).toBe("init")
      expect(makes).toBe(2)

      // a layer's dependency edge to (or from) a proxied service is the service's
      class A extends Context.Tag("A")<A, Service.Service>() {}
      class B extends Context.Tag("B")<B, Service.Service>() {}
      const ALive = Service.layer(A, Service.proxy("PA", () => Service.make("SA")))
      const BLive = Service.layer(B, Effect.flatMap(A, () => Service.proxy("PB", () => Service.make("SB")))).pipe(Layer.provide(ALive))
      const dependsOn = yield* Effect.provide(
        Effect.gen(function*() {
          const snap = yield* ServiceGraph.snapshot(yield* B)
          return snap.dependsOn
        }),
        BLive
      )
      expect(dependsOn.length).toBe(1)
    }))
})

describe("a proxy listed by mode's dependencies hook", () => {
  it.effect("its make is cut by a stop of the starting service, as the hook is (the stop hung until the make ended)", () =>
    Effect.gen(function*() {
      let makes = 0
      const px = yield* Service.proxy("Px", () => Effect.zipRight(Effect.sync(() => void makes++), Effect.zipRight(Effect.sleep("1 hour"), Service.make("Child"))))
      const p = yield* Service.make("P", { dependencies: () => Effect.succeed([px]) })
      const starting = yield* Effect.fork(p.start)
      yield* Effect.repeatN(Effect.yieldNow(), 50)
      expect(makes).toBe(1)
      const stopping = yield* Effect.fork(p.stop)
      yield* Effect.repeatN(Effect.yieldNow(), 50)
      expect(stopping.unsafePoll()?._tag).toBe("Success")
      expect((yield* Fiber.await(starting))._tag).toBe("Success")
      expect(yield* p.state).toBe("shutdown")
      // a later start asks the hook again and makes the proxy's service
      const again = yield* Effect.fork(p.start)
      yield* TestClock.adjust("1 hour")
      yield* Fiber.join(again)
      expect(yield* p.state).toBe("running")
      expect((yield* px.beacon.path)).toBe("P/Child")
      yield* p.stop
    }))
})
