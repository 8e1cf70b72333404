import { describe, expect } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, Layer, Option, Schedule, Scope, TestClock } from "effect"
import { Service, ServiceError } from "@effect-mode/core"
import { it } from "./support/it.js"

const failureOf = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

/**
 * A PaymentGateway whose instances 1..crashes crash 1 s after they start; a Consumer holds
 * its API (taken from the context once, when the Consumer is built).
 */
/**
 * A resource per service name that logs its opening and closing, numbered by how many times
 * that name was built (`counts`).
 */
const resources = () => {
  const log: Array<string> = []
  const counts: Record<string, number> = {}
  const resource = (name: string) =>
    Effect.gen(function*() {
      const n = counts[name] = (counts[name] ?? 0) + 1
      yield* Effect.acquireRelease(
        Effect.sync(() => log.push(`open ${name} ${n}`)),
        () => Effect.sync(() => log.push(`close ${name} ${n}`))
      )
      return { n: Effect.succeed(n) }
    })
  return { counts, log, resource }
}

const setUp = (options: {
  readonly crashes: number
  readonly supervise: Service.SuperviseOptions
}) =>
  Effect.gen(function*() {
    const log: Array<string> = []
    const ready = yield* Deferred.make<void>()
    let instances = 0
    class PaymentGateway extends Service.Tag<PaymentGateway>()("PaymentGateway", {
      scoped: Effect.gen(function*() {
        const n = ++instances
        yield* Effect.acquireRelease(
          Effect.sync(() => log.push(`open ${n}`)),
          () => Effect.sync(() => log.push(`close ${n}`))
        )
        return {
          charge: (cents: number) => Effect.succeed(`instance ${n} charged ${cents}`),
          slow: Effect.as(Effect.sleep("1 hour"), "done")
        }
      }),
      tasks: [
        Service.task((self) =>
          instances <= options.crashes
            ? Effect.zipRight(self.sleep("1 second"), Effect.fail("gateway down"))
            : Effect.never, { name: "heartbeat" })
      ],
      supervise: options.supervise
    }) {}
    const held: { gateway?: PaymentGateway; handle?: Service.Service } = {}
    class Consumer extends Service.Tag<Consumer>()("Consumer", {
      dependencies: [PaymentGateway.Default],
      scoped: Effect.gen(function*() {
        held.gateway = yield* PaymentGateway
        held.handle = yield* PaymentGateway.handle
        return {}
      }),
      onStarted: () => Deferred.succeed(ready, undefined)
    }) {}
    const fiber = yield* Effect.fork(Service.launch(Consumer.Default))
    yield* Deferred.await(ready)
    return { fiber, gateway: held.gateway!, handle: held.handle!, log }
  })

describe("supervised Service.Tag services", () => {
  it.effect("a supervised service whose task fails as soon as it starts is restarted; launch goes on running", () =>
    Effect.gen(function*() {
      let n = 0
      class Gw extends Service.Tag<Gw>()("Gw", {
        scoped: Effect.sync(() => ({ i: ++n })),
        tasks: [Service.task(() => n === 1 ? Effect.fail("instant") : Effect.never)],
        supervise: {}
      }) {}
      const fiber = yield* Effect.fork(Service.launch(Gw.Default))
      yield* TestClock.adjust("1 minute")
      expect(fiber.unsafePoll()).toBeNull()
      expect(n).toBe(2)
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("a gateway that crashes three times with exponential backoff is restarted each time; a caller waits for the new instance", () =>
    Effect.gen(function*() {
      const { fiber, gateway, handle, log } = yield* setUp({
        crashes: 3,
        supervise: { maxRestarts: 5, within: "1 minute", backoff: Schedule.exponential("100 millis") }
      })
      expect(yield* gateway.charge(1)).toBe("instance 1 charged 1")

      yield* TestClock.adjust("1 second") // instance 1 crashes; the restart waits 100 ms
      expect(yield* handle.state).not.toBe("running")
      const call = yield* Effect.fork(gateway.charge(2))
      yield* TestClock.adjust("100 millis")
      expect(yield* Fiber.join(call)).toBe("instance 2 charged 2")

      yield* TestClock.adjust("1 second") // instance 2 crashes; 200 ms backoff
      yield* TestClock.adjust("200 millis")
      expect(yield* gateway.charge(3)).toBe("instance 3 charged 3")
      yield* TestClock.adjust("1 second") // instance 3 crashes; 400 ms backoff
      yield* TestClock.adjust("400 millis")
      expect(yield* gateway.charge(4)).toBe("instance 4 charged 4")
      expect(yield* handle.restartCount).toBe(3)

      yield* Fiber.interrupt(fiber)
      // every finalizer of every instance ran exactly once, each instance closed before the next opened
      expect(log).toEqual(["open 1", "close 1", "open 2", "close 2", "open 3", "close 3", "open 4", "close 4"])
    }))

  it.effect("a call made while the service restarts fails with ServiceUnavailable past the call timeout", () =>
    Effect.gen(function*() {
      const { fiber, gateway } = yield* setUp({
        crashes: 1,
        supervise: { backoff: Schedule.spaced("10 seconds"), callTimeout: "2 seconds" }
      })
      yield* TestClock.adjust("1 second")
      const call = yield* Effect.fork(Effect.either(gateway.charge(5)))
      yield* TestClock.adjust("2 seconds")
      const result = yield* Fiber.join(call)
      expect(result._tag).toBe("Left")
      const error = result._tag === "Left" ? result.left : undefined
      expect(error).toBeInstanceOf(ServiceError.ServiceUnavailable)
      expect((error as ServiceError.ServiceUnavailable).message).toBe(
        "Service PaymentGateway is unavailable: not running within 2000 ms"
      )
      yield* TestClock.adjust("8 seconds") // restarted: calls work again
      expect(yield* gateway.charge(6)).toBe("instance 2 charged 6")
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("a call in flight when the service crashes fails with ServiceUnavailable instead of hanging", () =>
    Effect.gen(function*() {
      const { fiber, gateway } = yield* setUp({ crashes: 1, supervise: {} })
      const call = yield* Effect.fork(Effect.either(gateway.slow))
      yield* TestClock.adjust("1 second")
      const result = yield* Fiber.join(call)
      expect(result._tag === "Left" && result.left.reason).toBe("it stopped while the call was in flight")
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("one crash too many escalates: launch ends with Crashed (MaxRestartsExceeded)", () =>
    Effect.gen(function*() {
      const { fiber, log } = yield* setUp({ crashes: 99, supervise: { maxRestarts: 1, within: "1 minute" } })
      yield* TestClock.adjust("1 second") // crash 1: restarted
      yield* TestClock.adjust("1 second") // crash 2: one too many
      const error = failureOf(yield* Fiber.await(fiber))
      expect(error).toBeInstanceOf(ServiceError.Crashed)
      const crashed = error as ServiceError.Crashed
      expect(crashed.path).toBe("App/PaymentGatewaySupervisor")
      expect(Cause.squash(crashed.cause)).toBeInstanceOf(ServiceError.MaxRestartsExceeded)
      expect(log).toEqual(["open 1", "close 1", "open 2", "close 2"])
    }))

  it.effect("rest-for-one: the services that depend on the crashed one stop first and start again after it, in order", () =>
    Effect.gen(function*() {
      const { counts, log, resource } = resources()
      const ready = yield* Deferred.make<void>()
      class Gateway extends Service.Tag<Gateway>()("Gateway", {
        scoped: resource("Gateway"),
        tasks: [Service.task((self) =>
          counts["Gateway"] === 1 ? Effect.zipRight(self.sleep("1 second"), Effect.fail("down")) : Effect.never)],
        supervise: { strategy: "restForOne", backoff: Schedule.spaced("100 millis") }
      }) {}
      class Ledger extends Service.Tag<Ledger>()("Ledger", { dependencies: [Gateway.Default], scoped: resource("Ledger") }) {}
      class Billing extends Service.Tag<Billing>()("Billing", {
        dependencies: [Ledger.Default],
        scoped: resource("Billing"),
        onStarted: () => Deferred.succeed(ready, undefined)
      }) {}
      class Audit extends Service.Tag<Audit>()("Audit", { scoped: resource("Audit") }) {}
      const fiber = yield* Effect.fork(Service.launch(Layer.merge(Audit.Default, Billing.Default)))
      yield* Deferred.await(ready)
      log.length = 0
      yield* TestClock.adjust("1 second")
      yield* TestClock.adjust("100 millis")
      const seen = [...log]
      // the dependents stop in reverse start order (the crashed gateway's own stop runs
      // meanwhile), then everything starts again in dependency order; Audit, which does not
      // depend on Gateway, is left alone
      expect(seen.slice(0, 3).filter((l) => l !== "close Gateway 1")).toEqual(["close Billing 1", "close Ledger 1"])
      expect(seen).toContain("close Gateway 1")
      expect(seen.slice(3)).toEqual(["open Gateway 2", "open Ledger 2", "open Billing 2"])
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("a supervised service whose first start fails: launch fails with StartFailed naming the service, not its supervisor", () =>
    Effect.gen(function*() {
      class Bad extends Service.Tag<Bad>()("Bad", { scoped: Effect.fail("no config"), supervise: {} }) {}
      const exit = yield* Effect.exit(Service.launch(Bad.Default))
      const error = failureOf(exit)
      expect(error).toBeInstanceOf(ServiceError.StartFailed)
      expect((error as ServiceError.StartFailed).label).toBe("Bad")
    }))

  it.effect("rest-for-one: the new instance starts only once the dependents have stopped, however long their stops take", () =>
    Effect.gen(function*() {
      const { counts, log, resource } = resources()
      class Gw extends Service.Tag<Gw>()("Gw", {
        scoped: resource("Gw"),
        tasks: [Service.task((self) => counts["Gw"] === 1 ? Effect.zipRight(self.sleep("1 second"), Effect.fail("down")) : Effect.never)],
        supervise: { strategy: "restForOne" }
      }) {}
      class Ledger extends Service.Tag<Ledger>()("Ledger", {
        dependencies: [Gw.Default],
        scoped: resource("Ledger"),
        onStop: () => Effect.repeatN(Effect.yieldNow(), 20)
      }) {}
      const fiber = yield* Effect.fork(Service.launch(Ledger.Default))
      yield* TestClock.adjust("1 second")
      yield* TestClock.adjust("1 minute")
      expect(log).toEqual(["open Gw 1", "open Ledger 1", "close Gw 1", "close Ledger 1", "open Gw 2", "open Ledger 2"])
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("rest-for-one: a dependent whose start fails when started again crashes, and launch ends with Crashed naming it", () =>
    Effect.gen(function*() {
      let gw = 0
      let ledger = 0
      class Gw extends Service.Tag<Gw>()("Gw", {
        scoped: Effect.sync(() => ({ n: ++gw })),
        tasks: [Service.task((self) => gw === 1 ? Effect.zipRight(self.sleep("1 second"), Effect.fail("down")) : Effect.never)],
        supervise: { strategy: "restForOne" }
      }) {}
      class Ledger extends Service.Tag<Ledger>()("Ledger", {
        dependencies: [Gw.Default],
        scoped: Effect.suspend(() => ++ledger === 2 ? Effect.fail("rebuild failed") : Effect.succeed({}))
      }) {}
      const fiber = yield* Effect.fork(Service.launch(Ledger.Default))
      yield* TestClock.adjust("1 second")
      yield* TestClock.adjust("1 minute")
      const exit = yield* Fiber.await(fiber)
      const error = failureOf(exit)
      expect(error).toBeInstanceOf(ServiceError.Crashed)
      expect((error as ServiceError.Crashed).path).toBe("App/Ledger")
      expect(ledger).toBe(2)
    }))

  it.effect("a group supervised one-for-all: a crash of one member restarts every member, in order", () =>
    Effect.gen(function*() {
      const { counts, log, resource } = resources()
      const ready = yield* Deferred.make<void>()
      const Payments = Service.supervisorGroup("Payments", { strategy: "oneForAll", maxRestarts: 2, within: "1 minute" })
      class Ledger extends Service.Tag<Ledger>()("Ledger", { scoped: resource("Ledger"), supervise: { group: Payments } }) {}
      class Gateway extends Service.Tag<Gateway>()("Gateway", {
        dependencies: [Ledger.Default],
        scoped: resource("Gateway"),
        tasks: [Service.task((self) =>
          counts["Gateway"] === 1 ? Effect.zipRight(self.sleep("1 second"), Effect.fail("down")) : Effect.never)],
        supervise: { group: Payments }
      }) {}
      const held: { ledger?: Ledger } = {}
      class Shop extends Service.Tag<Shop>()("Shop", {
        dependencies: [Gateway.Default, Ledger.Default],
        scoped: Effect.map(Ledger, (ledger) => {
          held.ledger = ledger
          return {}
        }),
        onStarted: () => Deferred.succeed(ready, undefined)
      }) {}
      const fiber = yield* Effect.fork(Service.launch(Shop.Default))
      yield* Deferred.await(ready)
      const ledger = held.ledger!
      expect(log).toEqual(["open Ledger 1", "open Gateway 1"])
      log.length = 0
      yield* TestClock.adjust("1 second")
      expect(log).toEqual(["close Gateway 1", "close Ledger 1", "open Ledger 2", "open Gateway 2"])
      expect(yield* ledger.n).toBe(2) // the Ledger API Shop holds reaches the new instance
      log.length = 0
      yield* Fiber.interrupt(fiber)
      expect(log).toEqual(["close Gateway 2", "close Ledger 2"])
    }))
})

describe("a group's members in builds of their own (no launch)", () => {
  it.effect("two unrelated builds get a supervisor each: closing one does not stop the other's member", () =>
    Effect.gen(function*() {
      const G = Service.supervisorGroup("G")
      class A extends Service.Tag<A>()("A", { sync: () => ({}), supervise: { group: G } }) {}
      class B extends Service.Tag<B>()("B", { sync: () => ({}), supervise: { group: G } }) {}
      const s1 = yield* Scope.make()
      const c1 = yield* Layer.buildWithScope(A.Default, s1)
      const s2 = yield* Scope.make()
      const c2 = yield* Layer.buildWithScope(B.Default, s2)
      const a = yield* Effect.provide(A.handle, c1)
      const b = yield* Effect.provide(B.handle, c2)
      expect([yield* a.beacon.path, yield* b.beacon.path]).toEqual(["G/A", "G/B"])
      const parentOf = (s: Service.Service) => Effect.map(s.beacon.parent, (p) => Option.getOrThrow(p).service)
      expect(yield* parentOf(a)).not.toBe(yield* parentOf(b))
      yield* Scope.close(s1, Exit.void)
      expect(yield* a.state).toBe("shutdown")
      expect(yield* b.state).toBe("running")
      yield* Scope.close(s2, Exit.void)
      expect(yield* b.state).toBe("shutdown")
    }))

  it.effect("in one build they share the group's supervisor", () =>
    Effect.gen(function*() {
      const G = Service.supervisorGroup("G")
      class A extends Service.Tag<A>()("A", { sync: () => ({}), supervise: { group: G } }) {}
      class B extends Service.Tag<B>()("B", { sync: () => ({}), supervise: { group: G } }) {}
      yield* Effect.scoped(Effect.gen(function*() {
        const ctx = yield* Layer.build(Layer.merge(A.Default, B.Default))
        const a = yield* Effect.provide(A.handle, ctx)
        const b = yield* Effect.provide(B.handle, ctx)
        const parentOf = (s: Service.Service) => Effect.map(s.beacon.parent, (p) => Option.getOrThrow(p).service)
        expect(yield* parentOf(a)).toBe(yield* parentOf(b))
      }))
    }))
})

describe("supervised layer services in a launch: groups and crashes elsewhere", () => {
  it.effect("a later member of a group that depends on the crashed service is rebuilt too", () =>
    Effect.gen(function*() {
      const builds: Record<string, number> = {}
      const built = (name: string) =>
        Effect.sync(() => {
          builds[name] = (builds[name] ?? 0) + 1
          return {}
        })
      const Pay = Service.supervisorGroup("Pay")
      class L extends Service.Tag<L>()("L", { scoped: built("L"), supervise: { group: Pay } }) {}
      class Gw extends Service.Tag<Gw>()("Gw", {
        scoped: Effect.zipRight(Effect.sleep("1 second"), built("Gw")),
        tasks: [Service.task((self) => builds["Gw"] === 1 ? Effect.zipRight(self.sleep("1 second"), Effect.fail("gw down")) : Effect.never)],
        supervise: { strategy: "restForOne" }
      }) {}
      class M extends Service.Tag<M>()("M", { dependencies: [L.Default, Gw.Default], scoped: built("M"), supervise: { group: Pay } }) {}
      const launch = yield* Effect.fork(Service.launch(M.Default))
      yield* TestClock.adjust("1 second") // built; L joined Pay first, M joined it later
      yield* TestClock.adjust("1 second") // Gw crashes
      yield* TestClock.adjust("1 second") // Gw built again
      yield* TestClock.adjust("10 millis")
      yield* Fiber.interrupt(launch)
      expect(builds).toEqual({ L: 1, Gw: 2, M: 2 })
    }))

  it.effect("a dependent's onStop can still call its supervised dependency while a crash elsewhere stops the tree", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const ready = yield* Deferred.make<void>()
      class Gw extends Service.Tag<Gw>()("Gw", {
        scoped: Effect.succeed({ charge: (cents: number) => Effect.succeed(`charged ${cents}`) }),
        supervise: {}
      }) {}
      class Consumer extends Service.Tag<Consumer>()("Consumer", {
        dependencies: [Gw.Default],
        onStarted: () => Deferred.succeed(ready, undefined),
        onStop: () =>
          Effect.flatMap(Gw, (gw) =>
            Effect.flatMap(Effect.either(gw.charge(1)), (r) => Effect.sync(() => log.push(r._tag === "Right" ? r.right : r.left._tag)))),
        tasks: [Service.task((self) => Effect.zipRight(self.sleep("1 second"), Effect.fail("consumer broke")))]
      }) {}
      const launch = yield* Effect.fork(Service.launch(Consumer.Default))
      yield* Deferred.await(ready)
      yield* TestClock.adjust("1 second")
      yield* TestClock.adjust("10 millis")
      // Over without waiting for the call's timeout (callTimeout, 5 s).
      expect(launch.unsafePoll()).not.toBeNull()
      expect(log).toEqual(["charged 1"])
    }))
})
