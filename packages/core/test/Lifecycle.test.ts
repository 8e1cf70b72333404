import { describe, expect } from "@effect/vitest"
import { Context, Effect, Either, Exit, Fiber, Option, Schedule, Stream, TestClock } from "effect"
import { Service, ServiceError } from "@effect-mode/core"
import { it } from "./support/it.js"
import { untilState } from "./support/states.js"

/** A service whose every hook appends "<name>.<hook>" to `log`. */
const traced = (log: Array<string>, name: string, extra: Service.Options<never, never> = {}) =>
  Service.make(name, {
    onFirstStart: () => Effect.sync(() => log.push(`${name}.onFirstStart`)),
    onStart: () => Effect.sync(() => log.push(`${name}.onStart`)),
    onStarted: () => Effect.sync(() => log.push(`${name}.onStarted`)),
    onStop: () => Effect.sync(() => log.push(`${name}.onStop`)),
    onShutdown: () => Effect.sync(() => log.push(`${name}.onShutdown`)),
    onRestart: () => Effect.sync(() => log.push(`${name}.onRestart`)),
    ...extra
  })

const loggingTask = (log: Array<string>, name: string) =>
  Service.task(() =>
    Effect.sync(() => log.push(`${name}.task`)).pipe(
      Effect.zipRight(Effect.never),
      Effect.onInterrupt(() => Effect.sync(() => log.push(`${name}.task interrupted`)))
    ), { name: "bg" })

/** A parent with three children and a task. */
const family = (log: Array<string>) =>
  Effect.gen(function*() {
    const a = yield* traced(log, "A")
    const b = yield* traced(log, "B")
    const c = yield* traced(log, "C")
    const p = yield* traced(log, "P", {
      dependencies: () => Effect.succeed([a, b, c]),
      tasks: [loggingTask(log, "P")]
    })
    return { p, a, b, c }
  })

describe("lifecycle order", () => {
  it.effect("start: first start, onStart, tasks, children in order, onStarted", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const { p } = yield* family(log)
      yield* p.start
      yield* Effect.yieldNow()
      expect(log).toEqual([
        "P.onFirstStart",
        "P.onStart",
        "P.task",
        "A.onFirstStart",
        "A.onStart",
        "A.onStarted",
        "B.onFirstStart",
        "B.onStart",
        "B.onStarted",
        "C.onFirstStart",
        "C.onStart",
        "C.onStarted",
        "P.onStarted"
      ])
      yield* p.stop
    }))

  it.effect("stop: onStop, children in reverse, tasks interrupted, onShutdown", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const { p } = yield* family(log)
      yield* p.start
      yield* Effect.yieldNow()
      log.length = 0
      yield* p.stop
      expect(log).toEqual([
        "P.onStop",
        "C.onStop",
        "C.onShutdown",
        "B.onStop",
        "B.onShutdown",
        "A.onStop",
        "A.onShutdown",
        "P.task interrupted",
        "P.onShutdown"
      ])
      expect(yield* p.state).toBe("shutdown")
    }))

  it.effect("restart: stop, onRestart, start without onFirstStart or dependencies", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      let depsCalls = 0
      const a = yield* traced(log, "A")
      const p = yield* traced(log, "P", {
        dependencies: () => Effect.sync(() => (depsCalls++, [a]))
      })
      yield* p.start
      log.length = 0
      yield* p.restart
      expect(log).toEqual([
        "P.onStop",
        "A.onStop",
        "A.onShutdown",
        "P.onShutdown",
        "P.onRestart",
        "P.onStart",
        "A.onStart",
        "A.onStarted",
        "P.onStarted"
      ])
      expect(depsCalls).toBe(1)
      expect(yield* p.restartCount).toBe(1)
      expect(yield* a.state).toBe("running")
      yield* p.restart
      expect(yield* p.restartCount).toBe(2)
      expect((yield* p.beacon.children).length).toBe(1)
      yield* p.stop
    }))
})

describe("states", () => {
  it.scoped("init → starting → running → stopping → shutdown, published on stateChanges", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S")
      const pull = yield* Stream.toPull(svc.stateChanges)
      const seen: Array<Service.State> = Array.from(yield* pull) // subscribed from here on
      expect(yield* svc.state).toBe("init")
      expect(yield* svc.started).toBe(false)
      yield* svc.start
      expect(yield* svc.state).toBe("running")
      expect(yield* svc.started).toBe(true)
      expect(yield* svc.shouldStop).toBe(false)
      yield* svc.stop
      while (seen[seen.length - 1] !== "shutdown") seen.push(...(yield* pull))
      expect(seen).toEqual(["init", "starting", "running", "stopping", "shutdown"])
      expect(yield* svc.shouldStop).toBe(true)
    }))

  it.effect("shouldStop is true before onStop runs", () =>
    Effect.gen(function*() {
      let seen: boolean | undefined
      const svc = yield* Service.make("S", {
        onStop: (self) => Effect.map(self.shouldStop, (b) => void (seen = b))
      })
      yield* svc.start
      yield* svc.stop
      expect(seen).toBe(true)
    }))

  it.effect("maybeStart is true then false; start when started fails with AlreadyStarted", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S")
      expect(yield* svc.maybeStart).toBe(true)
      expect(yield* svc.maybeStart).toBe(false)
      const error = yield* Effect.flip(svc.start)
      expect(error).toBeInstanceOf(ServiceError.AlreadyStarted)
      expect(error.message).toContain("S")
      yield* svc.stop
    }))

  it.effect("a stopped service can be started again; stop on a never-started service does nothing", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const svc = yield* traced(log, "S")
      yield* svc.stop
      expect(log).toEqual([])
      expect(yield* svc.state).toBe("init")
      yield* svc.start
      yield* svc.stop
      yield* svc.start
      expect(yield* svc.state).toBe("running")
      expect(log.filter((l) => l === "S.onFirstStart")).toHaveLength(1)
      yield* svc.stop
    }))

  it.effect("two concurrent stops run the stop once and both return after it", () =>
    Effect.gen(function*() {
      let stops = 0
      const svc = yield* Service.make("S", {
        onStop: () => Effect.zipRight(Effect.sync(() => stops++), Effect.sleep("1 second"))
      })
      yield* svc.start
      const one = yield* Effect.fork(svc.stop)
      const two = yield* Effect.fork(svc.stop)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(one)
      yield* Fiber.join(two)
      expect(stops).toBe(1)
      expect(yield* svc.state).toBe("shutdown")
    }))
})

describe("contexts and finalizers", () => {
  it.effect("contexts are acquired once per start and released once per stop, in reverse", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const resource = (name: string) =>
        Effect.acquireRelease(
          Effect.sync(() => (log.push(`acquire ${name}`), name)),
          () => Effect.sync(() => log.push(`release ${name}`))
        )
      const svc = yield* Service.make("S", {
        onStart: (self) =>
          Effect.gen(function*() {
            expect(yield* self.addContext(resource("db"))).toBe("db")
            yield* self.addFinalizer(Effect.sync(() => log.push("finalizer")))
            yield* self.addContext(resource("cache"))
          }),
        onShutdown: () => Effect.sync(() => log.push("onShutdown"))
      })
      yield* svc.start
      yield* svc.stop
      expect(log).toEqual(["acquire db", "acquire cache", "release cache", "finalizer", "release db", "onShutdown"])
      log.length = 0
      yield* svc.restart
      yield* svc.stop
      expect(log).toEqual(["acquire db", "acquire cache", "release cache", "finalizer", "release db", "onShutdown"])
    }))

  it.effect("addFuture runs a fiber owned by the current run; stop interrupts it", () =>
    Effect.gen(function*() {
      let interrupted = false
      const svc = yield* Service.make("S")
      yield* svc.start
      const fiber = yield* svc.addFuture(Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => (interrupted = true)))))
      yield* Effect.yieldNow()
      expect(fiber.unsafePoll()).toBeNull()
      expect((yield* svc.tracebacks).size).toBe(1)
      yield* svc.stop
      expect(interrupted).toBe(true)
      expect(Exit.isInterrupted(yield* Fiber.await(fiber))).toBe(true)
    }))

  it.effect("addFuture's failure crashes the service", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S")
      yield* svc.start
      yield* svc.addFuture(Effect.fail("bad future"))
      yield* svc.waitUntilStopped
      expect(yield* svc.state).toBe("crashed")
      yield* svc.stop
    }))

  it.effect("addContext outside a run is a defect naming the service", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("Lonely")
      const exit = yield* Effect.exit(svc.addFinalizer(Effect.void))
      expect(Exit.isFailure(exit) && String(Exit.isFailure(exit) ? exit.cause : "")).toBeTruthy()
      expect(JSON.stringify(exit)).toContain("Lonely")
    }))
})

describe("waitForShutdown", () => {
  it.effect("a stop waits for setShutdown from a task", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const svc = yield* Service.make("Flusher", {
        waitForShutdown: true,
        tasks: [Service.task((self) =>
          Effect.gen(function*() {
            yield* self.waitUntilStopped
            yield* Effect.sleep("2 seconds")
            log.push("flushed")
            yield* self.setShutdown
          }).pipe(Effect.onInterrupt(() => Effect.sync(() => log.push("task interrupted")))))],
        onShutdown: () => Effect.sync(() => log.push("onShutdown"))
      })
      yield* svc.start
      const stopping = yield* Effect.fork(svc.stop)
      yield* TestClock.adjust("1 second")
      expect(yield* svc.state).toBe("stopping")
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(stopping)
      expect(log).toEqual(["flushed", "onShutdown"])
      expect(yield* svc.state).toBe("shutdown")
    }))

  it.effect("the shutdown timeout path: the stop still completes and records ShutdownTimeout", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const svc = yield* Service.make("Stuck", {
        waitForShutdown: true,
        shutdownTimeout: "5 seconds",
        tasks: [Service.task(() => Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => log.push("interrupted")))))],
        onShutdown: () => Effect.sync(() => log.push("onShutdown"))
      })
      yield* svc.start
      const stopping = yield* Effect.fork(svc.stop)
      yield* TestClock.adjust("4 seconds")
      expect(log).toEqual([])
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(stopping)
      expect(log).toEqual(["interrupted", "onShutdown"])
      expect(yield* svc.state).toBe("shutdown")
      const failure = yield* svc.stopFailure
      expect(Option.isSome(failure) && String(Option.getOrThrow(failure))).toContain("ShutdownTimeout")
    }))
})

describe("fromEffect, scoped, layer, run", () => {
  it.plain("fromEffect checks its effect and its name when declared, naming them", () => {
    expect(() => Service.fromEffect(42 as never)).toThrow(/Invalid effect of Service\.fromEffect: "42" is not an Effect/)
    expect(() => Service.fromEffect(Effect.void, { name: "" })).toThrow(/Invalid label of Service\.fromEffect: ""/)
    expect(() => Service.fromEffect(Effect.void, { name: "a/b" })).toThrow(/Invalid label of Service\.fromEffect: "a\/b"/)
  })

  it.effect("fromEffect runs the effect as the service's task", () =>
    Effect.gen(function*() {
      let ticks = 0
      const svc = yield* Service.fromEffect(
        Effect.forever(Effect.zipRight(Effect.sleep("1 second"), Effect.sync(() => ticks++))),
        { name: "Ticker" }
      )
      expect(svc.label).toBe("Ticker")
      yield* svc.start
      yield* TestClock.adjust("3 seconds")
      expect(ticks).toBe(3)
      yield* svc.stop
      yield* TestClock.adjust("3 seconds")
      expect(ticks).toBe(3)
    }))

  it.effect("fromEffect: a failing effect crashes the service", () =>
    Effect.gen(function*() {
      const svc = yield* Service.fromEffect(Effect.fail("nope"), { name: "Bad" })
      const error = yield* Effect.flip(Service.run(svc))
      expect(error._tag).toBe("Crashed")
      expect(yield* svc.state).toBe("crashed")
    }))

  it.effect("scoped starts now and stops when the scope closes", () =>
    Effect.gen(function*() {
      const svc = yield* Effect.scoped(Effect.gen(function*() {
        const svc = yield* Service.scoped(Service.make("Cache"))
        expect(yield* svc.state).toBe("running")
        return svc
      }))
      expect(yield* svc.state).toBe("shutdown")
    }))

  it.effect("scoped and layer leave alone a service started by someone else (AlreadyStarted): closing the scope does not stop it", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("Shared")
      yield* svc.start
      const error = yield* Effect.flip(Effect.scoped(Service.scoped(Effect.succeed(svc))))
      expect(error._tag).toBe("AlreadyStarted")
      expect(yield* svc.state).toBe("running")
      class Shared extends Context.Tag("Shared")<Shared, Service.Service>() {}
      const viaLayer = yield* Effect.flip(Effect.provide(Effect.void, Service.layer(Shared, Effect.succeed(svc))))
      expect(viaLayer._tag).toBe("AlreadyStarted")
      expect(yield* svc.state).toBe("running")
      yield* svc.stop
    }))

  it.effect("run's Crashed names the service the crash started from, in label as in path (as launch's does)", () =>
    Effect.gen(function*() {
      const root = yield* Service.make("Root")
      yield* root.addDependency(yield* Service.make("Leaf", { tasks: [Service.task(() => Effect.fail("x"))] }))
      const error = yield* Effect.flip(Service.run(root))
      expect(error._tag).toBe("Crashed")
      if (error._tag !== "Crashed") return
      expect(error.path).toBe("Root/Leaf")
      expect(error.label).toBe("Leaf")
    }))

  it.effect("run ends when the service is stopped from elsewhere", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("App")
      const running = yield* Effect.fork(Service.run(svc))
      yield* untilState(svc, "running")
      yield* svc.stop
      yield* Fiber.join(running)
      expect(yield* svc.state).toBe("shutdown")
    }))

  it.effect("interrupting run stops the service", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const svc = yield* traced(log, "App")
      const running = yield* Effect.fork(Service.run(svc))
      yield* untilState(svc, "running")
      yield* Fiber.interrupt(running)
      expect(log.slice(-2)).toEqual(["App.onStop", "App.onShutdown"])
      expect(yield* svc.state).toBe("shutdown")
    }))

  it.effect("run on a service that is already running waits for it instead of failing", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("App")
      yield* svc.start
      const running = yield* Effect.fork(Service.run(svc))
      yield* Effect.yieldNow()
      expect(yield* svc.state).toBe("running")
      yield* svc.stop
      expect(Exit.isSuccess(yield* Fiber.await(running))).toBe(true)
    }))

  it.effect("a failing dependencies is asked again by the next start", () =>
    Effect.gen(function*() {
      let calls = 0
      const child = yield* Service.make("Child")
      const svc = yield* Service.make("App", {
        dependencies: () => Effect.suspend(() => ++calls === 1 ? Effect.fail("registry down") : Effect.succeed([child]))
      })
      expect((yield* Effect.flip(svc.start))._tag).toBe("StartFailed")
      yield* svc.start
      expect(calls).toBe(2)
      expect(yield* child.state).toBe("running")
      yield* svc.stop
    }))
})

describe("Service.run after a failed start", () => {
  it.effect("starts the service again: Service.run(s).pipe(Effect.retry(...)) recovers once the start succeeds", () =>
    Effect.gen(function*() {
      let attempts = 0
      const errors: Array<string> = []
      const s = yield* Service.make("App", {
        onStart: () => Effect.suspend(() => ++attempts === 1 ? Effect.fail("db not ready") : Effect.void)
      })
      const run = yield* Effect.fork(Service.run(s).pipe(
        Effect.tapError((e) => Effect.sync(() => errors.push(e._tag))),
        Effect.retry(Schedule.addDelay(Schedule.recurs(3), () => "1 second")),
        Effect.either
      ))
      yield* TestClock.adjust("1 second")
      expect(attempts).toBe(2)
      expect(errors).toEqual(["StartFailed"])
      expect(yield* s.state).toBe("running")
      yield* s.stop
      expect(yield* Fiber.join(run)).toEqual(Either.right(undefined))
    }))

  it.effect("a tree that crashed while running and stopped is still reported, not started again", () =>
    Effect.gen(function*() {
      let starts = 0
      const s = yield* Service.make("App", { onStart: () => Effect.sync(() => starts++) })
      yield* s.start
      yield* s.crash(new Error("boom"))
      yield* s.waitUntilStopped
      const error = yield* Effect.flip(Service.run(s))
      expect(error._tag).toBe("Crashed")
      expect(starts).toBe(1)
    }))
})

describe("a service made inside a scope", () => {
  it.effect("what its hooks and tasks acquire or fork with the Scope is the run's: released by each stop, not piled up until the scope closes", () =>
    Effect.gen(function*() {
      let held = 0
      let loops = 0
      const resource = Effect.acquireRelease(Effect.sync(() => void held++), () => Effect.sync(() => void held--))
      const loop = Effect.ensuring(Effect.never, Effect.sync(() => void loops--))
      yield* Effect.scoped(Effect.gen(function*() {
        const s = yield* Service.make("S", {
          onStart: () => Effect.zipRight(resource, Effect.zipRight(Effect.sync(() => void loops++), Effect.forkScoped(loop))),
          onShutdown: () => resource,
          tasks: [Service.task(() => Effect.zipRight(resource, Effect.never))]
        })
        yield* s.start
        yield* s.restart
        yield* s.restart
        yield* TestClock.adjust("1 millis")
        // one run's worth: the onStart's and the task's resources, one loop
        expect([held, loops]).toEqual([2, 1])
        yield* s.stop
        expect([held, loops]).toEqual([0, 0])
      }))
      expect([held, loops]).toEqual([0, 0])
    }))
})
