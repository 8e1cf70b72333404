/**
 * HealthCheck: checks declared on services, run with their timeouts on the TestClock.
 */
import { describe, expect } from "@effect/vitest"
import { Context, Effect, Fiber, TestClock } from "effect"
import { HealthCheck, Service } from "@effect-mode/core"
import { it } from "./support/it.js"

const strip = (r: HealthCheck.Result) => ({ name: r.name, path: r.path, status: r.status, error: r.error, critical: r.critical })

describe("HealthCheck", () => {
  it.effect("runs the checks of every running service of a tree, with their outcome", () =>
    Effect.gen(function*() {
      const db = yield* Service.make("Db").pipe(
        HealthCheck.withChecks([
          HealthCheck.make("ping", Effect.void),
          HealthCheck.make("replica", Effect.fail(new Error("replica lag 40s")), { critical: false })
        ])
      )
      const cache = yield* Service.make("Cache", {
        onStart: (self) => HealthCheck.register(self, HealthCheck.make("self", (s) => Effect.die(`${s.label} broken`)))
      })
      const app = yield* Service.make("App", { dependencies: () => Effect.succeed([db, cache]) })
      // Not started: no check runs.
      expect(yield* HealthCheck.runTree(app)).toEqual([])
      yield* app.start
      expect((yield* HealthCheck.runTree(app)).map(strip)).toEqual([
        { name: "ping", path: "App/Db", status: "ok", error: null, critical: true },
        { name: "replica", path: "App/Db", status: "failed", error: "Error: replica lag 40s", critical: false },
        { name: "self", path: "App/Cache", status: "failed", error: "Error: Cache broken", critical: true }
      ])
      yield* app.stop
    }))

  it.effect("a check function that returns a promise fails, saying so (not \"Not a valid effect\")", () =>
    Effect.gen(function*() {
      const db = yield* Service.make("Db").pipe(
        HealthCheck.withChecks([HealthCheck.make("ping", (() => Promise.resolve(1)) as never)])
      )
      yield* db.start
      const [result] = yield* HealthCheck.runTree(db)
      expect(result!.status).toBe("failed")
      expect(result!.error).toMatch(/Health check ping returned a Promise, not an Effect/)
      yield* db.stop
    }))

  it.effect("a check that does not answer within its timeout is timedOut, and is interrupted", () =>
    Effect.gen(function*() {
      let interrupted = false
      const db = yield* Service.make("Db").pipe(
        HealthCheck.withChecks(
          HealthCheck.make("slow", Effect.onInterrupt(Effect.never, () => Effect.sync(() => (interrupted = true))), {
            timeout: "2 seconds"
          })
        )
      )
      yield* db.start
      const running = yield* Effect.fork(HealthCheck.run(db))
      yield* TestClock.adjust("2 seconds")
      const [result] = yield* Fiber.join(running)
      expect(result?.status).toBe("timedOut")
      expect(result?.error).toBe("did not answer within 2s")
      expect(result?.millis).toBe(2000)
      yield* Effect.yieldNow()
      expect(interrupted).toBe(true)
      yield* db.stop
    }))

  it.effect("registering a name again replaces the check; unregister removes it", () =>
    Effect.gen(function*() {
      const db = yield* Service.make("Db")
      yield* HealthCheck.register(db, HealthCheck.make("ping", Effect.fail("down")))
      yield* HealthCheck.register(db, HealthCheck.make("ping", Effect.void))
      expect((yield* HealthCheck.checksOf(db)).length).toBe(1)
      yield* db.start
      expect((yield* HealthCheck.run(db)).map((r) => r.status)).toEqual(["ok"])
      yield* HealthCheck.unregister("ping")(db)
      expect(yield* HealthCheck.run(db)).toEqual([])
      yield* db.stop
    }))

  it.plain("bad declarations throw, naming the option and the value", () => {
    expect(() => HealthCheck.make("", Effect.void)).toThrow(/name of HealthCheck\.make: ""/)
    expect(() => HealthCheck.make("x", 42 as never)).toThrow(/check of HealthCheck\.make\("x"\)/)
    expect(() => HealthCheck.make("x", Effect.void, { timeout: 0 })).toThrow(/timeout of HealthCheck\.make\("x"\): "0"/)
    expect(() => HealthCheck.make("x", Effect.void, { timeout: -5 })).toThrow(/timeout of HealthCheck\.make\("x"\): "-5"/)
    expect(() => HealthCheck.make("x", Effect.void, { critical: "yes" as never })).toThrow(/critical.*"yes"/)
    expect(() => Effect.runSync(HealthCheck.withChecks(Service.make("S"), [42 as never]))).toThrow(/Invalid health check: 42/)
  })

  it.plain("types: withChecks keeps what the make needs and how it fails; a check needs nothing (checked by tsc)", () => {
    class Config extends Context.Tag("Config")<Config, { readonly url: string }>() {}
    const make = Effect.flatMap(Config, (c) => Service.make(c.url))
    const declared: Effect.Effect<Service.Service, never, Config> = make.pipe(
      HealthCheck.withChecks(HealthCheck.make("ping", Effect.void))
    )
    // @ts-expect-error a check is run by whoever reads the health: it cannot require a service
    HealthCheck.make("needs config", Effect.flatMap(Config, () => Effect.void))
    expect(Effect.isEffect(declared)).toBe(true)
  })
})


describe("checks of a service that is not running, and bad input", () => {
  it.effect("run gives no result and runs no check before the start or after the stop", () =>
    Effect.gen(function*() {
      let ran = 0
      const s = yield* Service.make("S").pipe(HealthCheck.withChecks(HealthCheck.make("c", Effect.sync(() => void ran++))))
      expect(yield* HealthCheck.run(s)).toEqual([])
      yield* s.start
      expect((yield* HealthCheck.run(s)).map((r) => r.status)).toEqual(["ok"])
      yield* s.stop
      expect(yield* HealthCheck.run(s)).toEqual([])
      expect(ran).toBe(1)
    }))

  it.plain("a list that is not one, and options that are not an object, throw naming them", () => {
    expect(() => HealthCheck.withChecks(Service.make("S"), 42 as never)).toThrow(/Invalid health check: 42/)
    expect(() => HealthCheck.withChecks(Service.make("S"), null as never)).toThrow(/Invalid health check: null/)
    expect(() => HealthCheck.make("x", Effect.void, null as never)).toThrow(/Invalid options of HealthCheck\.make\("x"\): "null"/)
  })
})
