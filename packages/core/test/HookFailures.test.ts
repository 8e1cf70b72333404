import { describe, expect } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, Option, TestClock } from "effect"
import { Service, ServiceError } from "@effect-mode/core"
import { it } from "./support/it.js"

type Hook = "onFirstStart" | "onStart" | "onStarted" | "onStop" | "onShutdown"

/**
 * P (with a task and a context acquired in onStart) and children A, B, each logging what
 * it acquires and releases; `failing` fails with "boom".
 */
const build = (log: Array<string>, failing: { readonly service: "P" | "B"; readonly hook: Hook }) =>
  Effect.gen(function*() {
    const hooks = (name: string): Service.Options<string, never> => {
      const step = (hook: Hook) => () =>
        failing.service === name && failing.hook === hook
          ? Effect.zipRight(Effect.sync(() => log.push(`${name}.${hook} fails`)), Effect.fail("boom"))
          : Effect.sync(() => log.push(`${name}.${hook}`))
      return {
        onFirstStart: step("onFirstStart"),
        onStart: (self) =>
          Effect.zipRight(
            self.addContext(Effect.acquireRelease(
              Effect.sync(() => log.push(`${name}.acquire`)),
              () => Effect.sync(() => log.push(`${name}.release`))
            )),
            step("onStart")()
          ),
        onStarted: step("onStarted"),
        onStop: step("onStop"),
        onShutdown: step("onShutdown"),
        tasks: [Service.task(() =>
          Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => log.push(`${name}.task interrupted`))))
        )]
      }
    }
    const a = yield* Service.make("A", hooks("A"))
    const b = yield* Service.make("B", hooks("B"))
    const p = yield* Service.make("P", { ...hooks("P"), dependencies: () => Effect.succeed([a, b]) })
    return { p, a, b }
  })

describe("a failure in a start hook rolls back what the start acquired", () => {
  for (const hook of ["onFirstStart", "onStart", "onStarted"] as const) {
    it.effect(`P.${hook} fails: StartFailed, everything released in reverse, state crashed`, () =>
      Effect.gen(function*() {
        const log: Array<string> = []
        const { a, b, p } = yield* build(log, { service: "P", hook })
        const error = yield* Effect.flip(p.start)
        expect(error).toBeInstanceOf(ServiceError.StartFailed)
        if (error._tag !== "StartFailed") throw error
        expect(error.label).toBe("P")
        expect(Cause.failureOption(error.cause)).toEqual(Option.some("boom"))
        expect(yield* p.state).toBe("crashed")
        expect(yield* a.state).not.toBe("running")
        expect(yield* b.state).not.toBe("running")
        // Every acquisition has its release, in reverse order; no stop hook ran.
        const acquired = log.filter((l) => l.endsWith(".acquire")).map((l) => l.split(".")[0])
        const released = log.filter((l) => l.endsWith(".release")).map((l) => l.split(".")[0])
        expect(released).toEqual([...acquired].reverse())
        expect(log.some((l) => l === "P.onStop" || l === "P.onShutdown")).toBe(false)
        if (hook === "onStarted") {
          expect(log.slice(log.indexOf("P.onStarted fails"))).toEqual([
            "P.onStarted fails",
            "B.onStop",
            "B.task interrupted",
            "B.release",
            "B.onShutdown",
            "A.onStop",
            "A.task interrupted",
            "A.release",
            "A.onShutdown",
            "P.task interrupted",
            "P.release"
          ])
        }
        // A failed start can be retried.
        expect(yield* Effect.exit(p.start)).toSatisfy(Exit.isFailure)
      }))
  }

  it.effect("a child's start fails: the parent stops the children started so far and its own task", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const { a, b, p } = yield* build(log, { service: "B", hook: "onStart" })
      const error = yield* Effect.flip(p.start)
      expect(error._tag).toBe("StartFailed")
      expect(log).toEqual([
        "P.onFirstStart",
        "P.acquire",
        "P.onStart",
        "A.onFirstStart",
        "A.acquire",
        "A.onStart",
        "A.onStarted",
        "B.onFirstStart",
        "B.acquire",
        "B.onStart fails",
        "B.release",
        "A.onStop",
        "A.task interrupted",
        "A.release",
        "A.onShutdown",
        "P.task interrupted",
        "P.release"
      ])
      expect(yield* a.state).toBe("shutdown")
      expect(yield* b.state).toBe("crashed")
      expect(yield* p.state).toBe("crashed")
      // the parent fails with its own StartFailed, which says which child failed; both are
      // crashed for the child's reason, as a crash gives every service it reaches
      expect((error as ServiceError.StartFailed).label).toBe("P")
      const inner = Option.getOrUndefined(Cause.failureOption((error as ServiceError.StartFailed).cause))
      expect(inner).toBeInstanceOf(ServiceError.StartFailed)
      expect((inner as ServiceError.StartFailed).label).toBe("B")
      for (const s of [b, p]) expect(Option.map(yield* s.crashReason, Cause.squash)).toEqual(Option.some("boom"))
    }))
})

describe("a failure in a stop hook does not stop the rest", () => {
  for (const hook of ["onStop", "onShutdown"] as const) {
    it.effect(`P.${hook} fails: children, tasks and contexts are still stopped; state shutdown`, () =>
      Effect.gen(function*() {
        const log: Array<string> = []
        const { a, b, p } = yield* build(log, { service: "P", hook })
        yield* p.start
        yield* Effect.yieldNow()
        log.length = 0
        yield* p.stop
        expect(log).toEqual([
          hook === "onStop" ? "P.onStop fails" : "P.onStop",
          "B.onStop",
          "B.task interrupted",
          "B.release",
          "B.onShutdown",
          "A.onStop",
          "A.task interrupted",
          "A.release",
          "A.onShutdown",
          "P.task interrupted",
          "P.release",
          hook === "onShutdown" ? "P.onShutdown fails" : "P.onShutdown"
        ])
        expect(yield* p.state).toBe("shutdown")
        expect(yield* a.state).toBe("shutdown")
        expect(yield* b.state).toBe("shutdown")
        expect(Option.map(yield* p.stopFailure, Cause.failureOption)).toEqual(Option.some(Option.some("boom")))
      }))
  }

  it.effect("a child's failing onStop does not stop its siblings from stopping", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const { a, p } = yield* build(log, { service: "B", hook: "onStop" })
      yield* p.start
      yield* p.stop
      expect(log).toContain("B.onStop fails")
      expect(log).toContain("A.onShutdown")
      expect(yield* a.state).toBe("shutdown")
      expect(yield* p.state).toBe("shutdown")
    }))
})

describe("deadlines and concurrency", () => {
  it.effect("a hung onStop is interrupted at stopTimeout and the rest of the stop runs", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const svc = yield* Service.make("Hung", {
        stopTimeout: "3 seconds",
        onStop: () => Effect.never,
        onShutdown: () => Effect.sync(() => log.push("onShutdown"))
      })
      yield* svc.start
      const stopping = yield* Effect.fork(svc.stop)
      yield* TestClock.adjust("3 seconds")
      yield* Fiber.join(stopping)
      expect(log).toEqual(["onShutdown"])
      expect(yield* svc.state).toBe("shutdown")
      expect(String(Option.getOrThrow(yield* svc.stopFailure))).toContain("onStop did not finish within 3s")
    }))

  it.effect("Service.withStopCut: the steps in flight when the signal comes are cut, the steps after it run", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const cut = yield* Deferred.make<void>()
      const child = yield* Service.make("Child", {
        onStart: (self) => self.addFinalizer(Effect.sync(() => log.push("finalizer Child"))),
        onStop: () => Effect.never,
        // begins after the cut: not cut, it runs to its end
        onShutdown: () => Effect.zipRight(Effect.sleep("1 second"), Effect.sync(() => log.push("onShutdown Child")))
      })
      const parent = yield* Service.make("Parent", {
        dependencies: () => Effect.succeed([child]),
        onShutdown: () => Effect.sync(() => log.push("onShutdown Parent"))
      })
      yield* parent.start
      const stopping = yield* Effect.fork(Service.withStopCut(parent.stop, cut))
      yield* TestClock.adjust("1 hour")
      expect(stopping.unsafePoll()).toBeNull()
      yield* Deferred.succeed(cut, undefined)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(stopping)
      expect(log).toEqual(["finalizer Child", "onShutdown Child", "onShutdown Parent"])
      expect(String(Option.getOrThrow(yield* child.stopFailure))).toContain("onStop did not finish within 1h")
      expect(yield* parent.state).toBe("shutdown")
    }))

  it.effect("even an uninterruptible hung step is cut at stopTimeout", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("Stubborn", {
        stopTimeout: "1 second",
        tasks: [Service.task(() => Effect.uninterruptible(Effect.sleep("1 hour")))]
      })
      yield* svc.start
      yield* Effect.yieldNow()
      const stopping = yield* Effect.fork(svc.stop)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(stopping)
      expect(yield* svc.state).toBe("shutdown")
      // let the abandoned task end, so no fiber outlives the test
      yield* TestClock.adjust("1 hour")
    }))

  it.effect("stop during start: a hanging onStart is cut short, the start is rolled back", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const svc = yield* Service.make("Slow", {
        onStart: (self) =>
          Effect.zipRight(
            self.addFinalizer(Effect.sync(() => log.push("released"))),
            Effect.never
          ),
        onStop: () => Effect.sync(() => log.push("onStop"))
      })
      const starting = yield* Effect.fork(svc.start)
      yield* Effect.yieldNow()
      expect(yield* svc.state).toBe("starting")
      yield* svc.stop
      expect(Exit.isSuccess(yield* Fiber.await(starting))).toBe(true)
      expect(yield* svc.state).toBe("shutdown")
      expect(log).toEqual(["released"])
    }))

  it.effect("stop of a parent during a child's hanging start stops both", () =>
    Effect.gen(function*() {
      const child = yield* Service.make("Child", { onStart: () => Effect.never })
      const parent = yield* Service.make("Parent", { dependencies: () => Effect.succeed([child]) })
      const starting = yield* Effect.fork(parent.start)
      yield* Effect.yieldNow()
      expect(yield* child.state).toBe("starting")
      yield* parent.stop
      yield* Fiber.join(starting)
      expect(yield* parent.state).toBe("shutdown")
      expect(yield* child.state).toBe("shutdown")
    }))

  it.effect("interrupting start from outside rolls it back", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const child = yield* Service.make("Child", {
        onStart: (self) => self.addFinalizer(Effect.sync(() => log.push("child released")))
      })
      const svc = yield* Service.make("S", {
        dependencies: () => Effect.succeed([child]),
        onStarted: () => Effect.never
      })
      const starting = yield* Effect.fork(svc.start)
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(starting)
      expect(log).toEqual(["child released"])
      expect(yield* svc.state).toBe("shutdown")
      expect(yield* child.state).toBe("shutdown")
      // and it can start again
      const again = yield* Service.make("T")
      yield* again.start
      yield* again.stop
    }))

  it.effect("restart during stop waits for the stop, then starts", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S", { onStop: () => Effect.sleep("1 second") })
      yield* svc.start
      const stopping = yield* Effect.fork(svc.stop)
      yield* Effect.yieldNow()
      const restarting = yield* Effect.fork(svc.restart)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(stopping)
      yield* Fiber.join(restarting)
      expect(yield* svc.state).toBe("running")
      expect(yield* svc.restartCount).toBe(1)
      yield* Effect.fork(svc.stop)
      yield* TestClock.adjust("1 second")
      yield* svc.stop
    }))

  it.effect("crash during stop: the stop completes, the crash is recorded", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S", {
        onStop: (self) => Effect.zipRight(self.crash("during stop"), Effect.sleep("1 second"))
      })
      yield* svc.start
      const stopping = yield* Effect.fork(svc.stop)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(stopping)
      expect(yield* svc.state).toBe("crashed")
      expect(yield* svc.started).toBe(false)
    }))

  it.plain("bad durations fail when declared, naming the value", () => {
    expect(() => Service.make("S", { stopTimeout: "forever" as never }).pipe(Effect.runSync)).toThrow(/stopTimeout.*forever/)
    expect(() => Service.make("S", { shutdownTimeout: -5 }).pipe(Effect.runSync)).toThrow(/shutdownTimeout.*-5/)
  })
})

describe("stopping from inside", () => {
  it.effect("a task that stops its own service does not deadlock", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const svc = yield* Service.make("SelfStopper", {
        tasks: [Service.task((self) => Effect.zipRight(Effect.sleep("1 second"), self.stop))],
        onShutdown: () => Effect.sync(() => log.push("onShutdown"))
      })
      yield* svc.start
      yield* TestClock.adjust("1 second")
      yield* svc.waitUntilStopped
      yield* svc.stop
      expect(yield* svc.state).toBe("shutdown")
      expect(log).toEqual(["onShutdown"])
    }))

  it.effect("a child's task that stops the root does not deadlock", () =>
    Effect.gen(function*() {
      const root = yield* Service.make("Root")
      const child = yield* Service.make("Child", {
        tasks: [Service.task(() => Effect.zipRight(Effect.sleep("1 second"), root.stop))]
      })
      yield* root.addDependency(child)
      yield* root.start
      yield* TestClock.adjust("1 second")
      yield* root.waitUntilStopped
      yield* root.stop
      expect(yield* root.state).toBe("shutdown")
      expect(yield* child.state).toBe("shutdown")
    }))

  it.effect("onStart and onStop may call stop on their own service", () =>
    Effect.gen(function*() {
      const early = yield* Service.make("Early", { onStart: (self) => self.stop })
      yield* early.start
      yield* early.stop
      expect(yield* early.state).toBe("shutdown")
      const late = yield* Service.make("Late", { onStop: (self) => self.stop })
      yield* late.start
      yield* late.stop
      expect(yield* late.state).toBe("shutdown")
    }))
})
