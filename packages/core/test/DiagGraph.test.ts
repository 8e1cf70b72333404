import { describe, expect } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { Diag, Service, ServiceGraph } from "@effect-mode/core"
import { it } from "./support/it.js"

describe("Diag", () => {
  it.effect("flags are set and unset; lastTransition follows the TestClock", () =>
    Effect.gen(function*() {
      const diag = Diag.make()
      yield* TestClock.setTime(5_000)
      yield* diag.setFlag("COMMIT")
      yield* TestClock.adjust("2 seconds")
      yield* diag.setFlag("FETCH")
      expect(Array.from(yield* diag.flags)).toEqual(["COMMIT", "FETCH"])
      expect(Object.fromEntries(yield* diag.lastTransition)).toEqual({ COMMIT: 5_000, FETCH: 7_000 })
      yield* diag.unsetFlag("COMMIT")
      expect(Array.from(yield* diag.flags)).toEqual(["FETCH"])
    }))

  it.effect("transitionsTo sets the flag only while the effect runs", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("Committer")
      const commit = Service.transitionsTo("COMMIT", (self) => Effect.zipRight(Effect.sleep("1 second"), self.diag.flags))
      const running = yield* Effect.fork(commit(svc))
      yield* Effect.yieldNow()
      expect(yield* svc.diag.flags).toEqual(new Set(["COMMIT"]))
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(running)).toEqual(new Set(["COMMIT"]))
      expect(yield* svc.diag.flags).toEqual(new Set())
    }))

  it.effect("transitionsTo unsets the flag when the effect fails", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("Committer")
      const failing = Service.transitionsTo("COMMIT", () => Effect.fail("broker gone"))
      expect(yield* Effect.flip(failing(svc))).toBe("broker gone")
      expect(yield* svc.diag.flags).toEqual(new Set())
    }))

  it.effect("Diag.transition unsets the flag on interruption", () =>
    Effect.gen(function*() {
      const diag = Diag.make()
      const fiber = yield* Effect.fork(Effect.never.pipe(Diag.transition(diag, "WAIT")))
      yield* Effect.yieldNow()
      expect((yield* diag.flags).has("WAIT")).toBe(true)
      yield* Fiber.interrupt(fiber)
      expect((yield* diag.flags).has("WAIT")).toBe(false)
    }))
})

describe("ServiceGraph", () => {
  const twoOfALabel = Effect.gen(function*() {
    const root = yield* Service.make("App")
    const w1 = yield* root.addDependency(yield* Service.make("Worker"))
    const w2 = yield* root.addDependency(yield* Service.make("Worker"))
    return { root, w1, w2 }
  })

  it.effect("DOT shows two services of one label as two nodes", () =>
    Effect.gen(function*() {
      const { root, w1, w2 } = yield* twoOfALabel
      const dot = yield* ServiceGraph.toDot(root)
      expect(dot.match(/label="Worker"/g)).toHaveLength(2)
      expect(dot).toContain(`s${root.id} -> s${w1.id};`)
      expect(dot).toContain(`s${root.id} -> s${w2.id};`)
      expect(dot.startsWith("digraph")).toBe(true)
    }))

  it.effect("Mermaid shows two services of one label as two nodes", () =>
    Effect.gen(function*() {
      const { root, w1, w2 } = yield* twoOfALabel
      const mermaid = yield* ServiceGraph.toMermaid(root)
      expect(mermaid.match(/\["Worker"\]/g)).toHaveLength(2)
      expect(mermaid).toContain(`s${root.id} --> s${w1.id}`)
      expect(mermaid).toContain(`s${root.id} --> s${w2.id}`)
    }))

  it.effect("Mermaid labels are text: quotes, HTML, backticks, # and line breaks are written as entity codes", () =>
    Effect.gen(function*() {
      const odd = yield* Service.make("a\"b<i>`c`#quot;\nd")
      const mermaid = yield* ServiceGraph.toMermaid(odd)
      expect(mermaid).toBe(`graph TD\n  s${odd.id}["a#quot;b#lt;i#gt;#96;c#96;#35;quot; d"]`)
    }))

  it.effect("snapshot gives state, flags, restarts and uptime per instance", () =>
    Effect.gen(function*() {
      const { root, w1 } = yield* twoOfALabel
      yield* root.start
      yield* w1.diag.setFlag("BUSY")
      yield* TestClock.adjust("3 seconds")
      const snap = yield* ServiceGraph.snapshot(root)
      expect(snap).toMatchObject({ label: "App", state: "running", restartCount: 0, uptimeMillis: 3000 })
      expect(snap.children.map((c) => [c.id, c.flags])).toEqual([[w1.id, ["BUSY"]], [snap.children[1]!.id, []]])
      yield* root.stop
      const after = yield* ServiceGraph.snapshot(root)
      expect(after.uptimeMillis).toBeNull()
      expect(after.state).toBe("shutdown")
    }))

  it.effect("humanTracebacks lists every service with its tasks", () =>
    Effect.gen(function*() {
      const root = yield* Service.make("App", {
        tasks: [
          Service.task((self) => self.sleep("1 hour"), { name: "heartbeat" }),
          Service.task((self) => self.sleep("1 hour"), { name: "worker" }),
          Service.task((self) => self.sleep("1 hour"), { name: "worker" })
        ]
      })
      yield* root.addDependency(yield* Service.make("Consumer"))
      yield* root.start
      yield* TestClock.adjust("2 seconds")
      yield* root.diag.setFlag("READY")
      const text = yield* root.humanTracebacks
      expect(text).toMatch(/^App #\d+ \[running\] uptime=2\.0s flags=READY/)
      expect(text).toMatch(/- heartbeat #\d+: status=Suspended age=2\.0s/)
      expect(text).toMatch(/\n {2}Consumer #\d+ \[running\]/)
      const tracebacks = yield* root.tracebacks
      // keyed by name; a name two live tasks share gets the fiber id
      const keys = Array.from(tracebacks.keys())
      expect(keys[0]).toBe("heartbeat")
      expect(tracebacks.get("heartbeat")).toMatch(/^status=Suspended age=2\.0s/)
      expect(keys.slice(1)).toEqual([expect.stringMatching(/^worker #\d+$/), expect.stringMatching(/^worker #\d+$/)])
      expect(keys[1]).not.toBe(keys[2])
      yield* root.stop
    }))
})
