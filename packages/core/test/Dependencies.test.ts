import { describe, expect } from "@effect/vitest"
import { Cause, Effect, Exit, Option } from "effect"
import { Service } from "@effect-mode/core"
import { it } from "./support/it.js"

describe("dependencies", () => {
  it.effect("addDependency links the tree without starting the child", () =>
    Effect.gen(function*() {
      const root = yield* Service.make("Root")
      const mid = yield* root.addDependency(yield* Service.make("Mid"))
      const leaf = yield* mid.addDependency(yield* Service.make("Leaf"))
      expect(yield* leaf.state).toBe("init")
      expect(yield* leaf.beacon.path).toBe("Root/Mid/Leaf")
      expect(yield* leaf.beacon.depth).toBe(3)
      expect(yield* root.beacon.depth).toBe(1)
      expect(Option.map(yield* leaf.beacon.parent, (n) => n.service)).toEqual(Option.some(mid))
      expect((yield* root.beacon.children).map((n) => n.service.label)).toEqual(["Mid"])
      expect(yield* root.beacon.parent).toEqual(Option.none())
    }))

  it.effect("a service cannot depend on its own ancestor", () =>
    Effect.gen(function*() {
      const root = yield* Service.make("Root")
      const child = yield* root.addDependency(yield* Service.make("Child"))
      const exit = yield* Effect.exit(child.addDependency(root))
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain("Service Root/Child cannot depend on its own ancestor Root")
    }))

  it.effect("addRuntimeDependency starts the child when the parent runs", () =>
    Effect.gen(function*() {
      const parent = yield* Service.make("Parent")
      const early = yield* Service.make("Early")
      yield* parent.addRuntimeDependency(early) // not running: just attached
      expect(yield* early.state).toBe("init")
      yield* parent.start
      expect(yield* early.state).toBe("running")
      const late = yield* parent.addRuntimeDependency(yield* Service.make("Late"))
      expect(yield* late.state).toBe("running")
      yield* parent.stop
      expect(yield* late.state).toBe("shutdown")
    }))

  it.effect("children added with addRuntimeDependency belong to that run: they do not pile up across restarts", () =>
    Effect.gen(function*() {
      const parent = yield* Service.make("Parent", {
        onStart: (self) => Effect.asVoid(Effect.flatMap(Service.make("PerRun"), self.addRuntimeDependency))
      })
      yield* parent.start
      yield* parent.restart
      yield* parent.restart
      const children = yield* parent.beacon.children
      expect(children.map((c) => c.service.label)).toEqual(["PerRun"])
      expect(yield* children[0]!.service.state).toBe("running")
      yield* parent.stop
      expect(yield* parent.beacon.children).toEqual([])
    }))

  it.effect("a runtime child that fails to start is detached and the error returned", () =>
    Effect.gen(function*() {
      const parent = yield* Service.make("Parent")
      yield* parent.start
      const bad = yield* Service.make("Bad", { onStart: () => Effect.fail("nope") })
      const error = yield* Effect.flip(parent.addRuntimeDependency(bad))
      expect(error._tag).toBe("StartFailed")
      expect(yield* parent.beacon.children).toEqual([])
      expect(yield* parent.state).toBe("running")
      yield* parent.stop
    }))

  it.effect("removeDependency stops and detaches the child", () =>
    Effect.gen(function*() {
      const parent = yield* Service.make("Parent")
      const child = yield* parent.addDependency(yield* Service.make("Child"))
      yield* parent.start
      expect(yield* child.state).toBe("running")
      yield* parent.removeDependency(child)
      expect(yield* child.state).toBe("shutdown")
      expect(yield* parent.beacon.children).toEqual([])
      expect(yield* child.beacon.parent).toEqual(Option.none())
      expect(yield* child.beacon.path).toBe("Child")
      yield* parent.stop
    }))

  it.effect("re-attaching moves a child: it is never in two places", () =>
    Effect.gen(function*() {
      const a = yield* Service.make("A")
      const b = yield* Service.make("B")
      const child = yield* a.addDependency(yield* Service.make("Child"))
      yield* b.addDependency(child)
      expect(yield* a.beacon.children).toEqual([])
      expect(yield* child.beacon.path).toBe("B/Child")
    }))
})
