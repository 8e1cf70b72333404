import { describe, expect } from "@effect/vitest"
import { Cause, Effect, Fiber, Option, TestClock } from "effect"
import { Service, ServiceError } from "@effect-mode/core"
import { it } from "./support/it.js"
import { captureLogs, type Captured } from "./support/logs.js"

/**
 * A three-level tree of five services:
 *
 *   Root ─┬─ Mid ─┬─ Leaf1
 *         │       └─ Leaf2
 *         └─ Side
 */
const tree = (log: Array<string> = []) =>
  Effect.gen(function*() {
    const mk = (name: string) =>
      Service.make(name, {
        onStop: () => Effect.sync(() => log.push(`${name}.onStop`)),
        tasks: [Service.task((self) => self.sleep("1 hour"), { name: "idle" })]
      })
    const leaf1 = yield* mk("Leaf1")
    const leaf2 = yield* mk("Leaf2")
    const mid = yield* mk("Mid")
    const side = yield* mk("Side")
    const root = yield* mk("Root")
    yield* mid.addDependency(leaf1)
    yield* mid.addDependency(leaf2)
    yield* root.addDependency(mid)
    yield* root.addDependency(side)
    return { root, mid, leaf1, leaf2, side, all: [root, mid, leaf1, leaf2, side] }
  })

describe("crash without a supervisor", () => {
  for (const which of ["leaf1", "mid", "root"] as const) {
    it.effect(`crashing the ${which} marks all five services with the same reason and stops them`, () =>
      Effect.gen(function*() {
        const log: Array<string> = []
        const t = yield* tree(log)
        yield* t.root.start
        const reason = new Error(`boom in ${which}`)
        yield* t[which].crash(reason)
        yield* t.root.stop // joins the stop the crash began
        for (const s of t.all) {
          expect(yield* s.state).toBe("crashed")
          const cause = Option.getOrThrow(yield* s.crashReason)
          expect(Cause.failureOption(cause)).toEqual(Option.some(reason))
          expect(yield* s.shouldStop).toBe(true)
        }
        // The tree was stopped in order: the root first, children in reverse.
        expect(log).toEqual(["Root.onStop", "Side.onStop", "Mid.onStop", "Leaf2.onStop", "Leaf1.onStop"])
        for (const s of t.all) expect((yield* s.tracebacks).size).toBe(0)
      }))
  }

  it.effect("Service.run on the root ends with Crashed naming where the crash began", () =>
    Effect.gen(function*() {
      const t = yield* tree()
      const running = yield* Effect.fork(Service.run(t.root))
      yield* Effect.yieldNow()
      yield* t.leaf2.crash("disk full")
      const error = yield* Effect.flip(Fiber.join(running))
      expect(error).toBeInstanceOf(ServiceError.Crashed)
      if (error._tag !== "Crashed") throw error
      expect(error.path).toBe("Root/Mid/Leaf2")
      expect(Cause.failureOption(error.cause)).toEqual(Option.some("disk full"))
      expect(yield* t.root.state).toBe("crashed")
    }))

  it.effect("a task's failure crashes its service (and the tree); the crash is logged with its path", () =>
    Effect.gen(function*() {
      const lines: Array<Captured> = []
      const failing = yield* Service.make("Consumer", {
        tasks: [Service.task(() => Effect.zipRight(Effect.sleep("1 second"), Effect.fail("lost connection")), { name: "poll" })]
      })
      const root = yield* Service.make("App")
      yield* root.addDependency(failing)
      const running = yield* Effect.fork(captureLogs(Service.run(root), lines))
      yield* TestClock.adjust("1 second")
      const error = yield* Effect.flip(Fiber.join(running))
      expect(error._tag).toBe("Crashed")
      // Once, in one line at error; the whole cause at debug.
      const crashLines = lines.filter((l) => l.message.includes("Crashed"))
      expect(crashLines.map((l) => [l.level, l.message])).toEqual([
        ["ERROR", "[^-Consumer]: Crashed: Error: lost connection"],
        ["DEBUG", "[^-Consumer]: Crashed (the whole cause)"]
      ])
      expect(crashLines[0]!.annotations).toMatchObject({ service: "Consumer", servicePath: "App/Consumer" })
      expect(crashLines[0]!.cause).not.toContain("lost connection")
      expect(crashLines[1]!.cause).toContain("lost connection")
    }))

  it.effect("a child that crashes while its parent is still starting: the crash is logged once, the cut-short start adds no Start failed", () =>
    Effect.gen(function*() {
      const lines: Array<Captured> = []
      const child = yield* Service.make("Consumer", {
        tasks: [Service.task(() => Effect.zipRight(Effect.sleep("1 second"), Effect.fail("lost connection")), { name: "poll" })]
      })
      const root = yield* Service.make("App", { onStarted: () => Effect.never })
      yield* root.addDependency(child)
      const starting = yield* Effect.fork(captureLogs(root.start, lines))
      yield* TestClock.adjust("1 second")
      const error = yield* Effect.flip(Fiber.join(starting))
      expect(error._tag).toBe("StartFailed")
      expect(Option.map(yield* root.crashReason, Cause.squash)).toEqual(Option.some("lost connection"))
      const errors = lines.filter((l) => l.level === "ERROR").map((l) => l.message)
      expect(errors).toEqual(["[^-Consumer]: Crashed: Error: lost connection"])
    }))

  it.effect("a task's defect crashes the service too; a task with onError: log does not", () =>
    Effect.gen(function*() {
      const lines: Array<Captured> = []
      const tolerant = yield* Service.make("Tolerant", {
        tasks: [Service.task(() => Effect.die("oops"), { name: "flaky", onError: "log" })]
      })
      yield* captureLogs(tolerant.start, lines)
      yield* Effect.yieldNow()
      expect(yield* tolerant.state).toBe("running")
      yield* tolerant.stop
      const dying = yield* Service.make("Dying", { tasks: [Service.task(() => Effect.die("oops"))] })
      yield* dying.start
      yield* dying.waitUntilStopped
      yield* dying.stop
      expect(yield* dying.state).toBe("crashed")
      expect(Cause.isDie(Option.getOrThrow(yield* dying.crashReason))).toBe(true)
    }))

  it.effect("an interrupted task does not crash its service", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S")
      yield* svc.start
      const fiber = yield* svc.addFuture(Effect.never)
      yield* Fiber.interrupt(fiber)
      expect(yield* svc.state).toBe("running")
      yield* svc.stop
    }))

  it.effect("sleep, wait and waitForStopped wake on crash", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S")
      yield* svc.start
      const sleeping = yield* Effect.fork(svc.sleep("1 hour"))
      const waiting = yield* Effect.fork(svc.wait(Effect.never))
      const waitingStop = yield* Effect.fork(svc.waitForStopped())
      yield* Effect.yieldNow()
      yield* svc.crash("bang")
      yield* Fiber.join(sleeping)
      expect((yield* Fiber.join(waiting))._tag).toBe("Stopped")
      expect(yield* Fiber.join(waitingStop)).toBe(true)
      yield* svc.stop
    }))

  it.effect("a second crash keeps the first reason", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S")
      yield* svc.start
      yield* svc.crash("first")
      yield* svc.crash("second")
      yield* svc.stop
      expect(Cause.failureOption(Option.getOrThrow(yield* svc.crashReason))).toEqual(Option.some("first"))
    }))

  it.effect("restart clears the crash", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("S")
      yield* svc.start
      yield* svc.crash("first")
      yield* svc.restart
      expect(yield* svc.state).toBe("running")
      expect(yield* svc.crashReason).toEqual(Option.none())
      yield* svc.stop
    }))
})
