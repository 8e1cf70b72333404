/**
 * Type tests, checked by `tsc -b` (this folder is part of the core's tsconfig, never run):
 * `Service.make` and `Service.Tag` infer `E` and `R` as unions over every hook, task,
 * `scoped` and `dependencies`, with hook parameters contextually typed.
 */
import { Context, Data, Effect, Layer } from "effect"
import type { Cause, Scope } from "effect"
import { expectTypeOf } from "vitest"
import { Service, type ServiceError } from "@effect-mode/core"

class A extends Context.Tag("A")<A, { readonly a: Effect.Effect<void> }>() {}
class B extends Context.Tag("B")<B, { readonly b: Effect.Effect<void> }>() {}
class ErrX extends Data.TaggedError("ErrX")<{}> {}
class ErrY extends Data.TaggedError("ErrY")<{}> {}

// -----------------------------------------------------------------------------
// Service.make
// -----------------------------------------------------------------------------

// onStart needs A, onStop needs B (TS2322 before): R is A | B, no type argument written
const twoHooks = Service.make("TwoHooks", {
  onStart: (self) => {
    expectTypeOf(self).toEqualTypeOf<Service.Service>()
    return Effect.flatMap(A, (a) => a.a)
  },
  onStop: () => Effect.flatMap(B, (b) => b.b)
})
expectTypeOf(twoHooks).toEqualTypeOf<Effect.Effect<Service.Service, never, A | B>>()

// two tasks with different error types, a timer and a crontab with their own requirements
const options = {
  tasks: [
    Service.task((self) => Effect.zipRight(self.sleep("1 second"), Effect.fail(new ErrX()))),
    Service.task(() => Effect.fail(new ErrY())),
    Service.timer("1 second", () => Effect.asVoid(A)),
    Service.crontab("0 * * * *", () => Effect.asVoid(B))
  ],
  onFirstStart: () => Effect.void
}
const tasks = Service.make("Tasks", options)
expectTypeOf(tasks).toEqualTypeOf<Effect.Effect<Service.Service, never, A | B>>()
expectTypeOf<Service.OptionsError<typeof options>>().toEqualTypeOf<ErrX | ErrY>()

// mode's dependencies hook counts too
const withDeps = Service.make("WithDeps", {
  dependencies: () => Effect.map(A, () => [])
})
expectTypeOf(withDeps).toEqualTypeOf<Effect.Effect<Service.Service, never, A>>()

// no options, empty options
expectTypeOf(Service.make("Plain")).toEqualTypeOf<Effect.Effect<Service.Service>>()
expectTypeOf(Service.make("Empty", {})).toEqualTypeOf<Effect.Effect<Service.Service>>()

// explicit type arguments still work (the section 4 signature)
expectTypeOf(Service.make<never, A>("Explicit", { onStart: () => Effect.asVoid(A) }))
  .toEqualTypeOf<Effect.Effect<Service.Service, never, A>>()
// one type argument: E, with R defaulting to never (section 4's `<E = never, R = never>`)
expectTypeOf(Service.make<string>("OneArg", { onStart: () => Effect.fail("s") }))
  .toEqualTypeOf<Effect.Effect<Service.Service, never, never>>()
expectTypeOf(Service.make<string>("OneArgPlain")).toEqualTypeOf<Effect.Effect<Service.Service>>()

// options typed ahead of time
declare const typed: Service.Options<ErrX, B>
expectTypeOf(Service.make("Typed", typed)).toEqualTypeOf<Effect.Effect<Service.Service, never, B>>()

// a misspelt hook is an error, not ignored
// @ts-expect-error onStrat is not an option
Service.make("Typo", { onStrat: () => Effect.void })

// -----------------------------------------------------------------------------
// Service.Tag
// -----------------------------------------------------------------------------

class Database extends Service.Tag<Database>()("Database", {
  scoped: Effect.gen(function*() {
    const self = yield* Service.Current
    expectTypeOf(self).toEqualTypeOf<Service.Service>()
    yield* Effect.acquireRelease(Effect.void, () => Effect.void)
    if (self.label === "") return yield* Effect.fail(new ErrX())
    return { query: (sql: string) => Effect.succeed(sql.length) }
  }),
  onStop: () => Effect.asVoid(A)
}) {}

expectTypeOf(Database.key).toEqualTypeOf<"Database">()
expectTypeOf(Database.DefaultWithoutDependencies).toEqualTypeOf<
  Layer.Layer<Database, ErrX | ServiceError.ServiceError, A>
>()

class Consumer extends Service.Tag<Consumer>()("Consumer", {
  dependencies: [Database.Default],
  scoped: Effect.gen(function*() {
    const db = yield* Database
    return { lag: db.query("lag"), submit: (order: string) => Effect.asVoid(db.query(order)) }
  }),
  onStart: (self) => Effect.log(self.label),
  tasks: [
    Service.task(() => Effect.flatMap(Database, (db) => Effect.asVoid(db.query("poll")))),
    Service.task(() => Effect.zipRight(Effect.asVoid(B), Effect.fail(new ErrY())))
  ]
}) {}

// Database's requirement A comes through its layer; Database itself is provided; B is left
expectTypeOf(Consumer.Default).toEqualTypeOf<
  Layer.Layer<Consumer, ErrY | ServiceError.ServiceError | ErrX, A | B>
>()
expectTypeOf(Consumer.DefaultWithoutDependencies).toEqualTypeOf<
  Layer.Layer<Consumer, ErrY | ServiceError.ServiceError, Database | B>
>()

// yield* Self gives the typed API; Self.handle the lifecycle handle
const useConsumer = Effect.gen(function*() {
  const consumer = yield* Consumer
  expectTypeOf(consumer.lag).toEqualTypeOf<Effect.Effect<number>>()
  expectTypeOf(consumer.submit).parameter(0).toEqualTypeOf<string>()
  expectTypeOf(consumer._tag).toEqualTypeOf<"Consumer">()
  const handle = yield* Consumer.handle
  expectTypeOf(handle).toEqualTypeOf<Service.Service>()
})
expectTypeOf(useConsumer).toEqualTypeOf<Effect.Effect<void, never, Consumer>>()

// a service without scoped has an empty API
class Reporter extends Service.Tag<Reporter>()("Reporter", {
  tasks: [Service.crontab("30 2 * * *", () => Effect.void, { timezone: "Europe/Berlin" })]
}) {}
expectTypeOf(Reporter.Default).toEqualTypeOf<Layer.Layer<Reporter, ServiceError.ServiceError, never>>()

// Scope and Current are provided to scoped; they are not requirements
class Scoped extends Service.Tag<Scoped>()("Scoped", {
  scoped: Effect.gen(function*() {
    yield* Effect.addFinalizer(() => Effect.void)
    yield* Service.Current
    return {}
  }),
  onStart: () => Effect.asVoid(Service.Current)
}) {}
expectTypeOf(Scoped.Default).toEqualTypeOf<Layer.Layer<Scoped, ServiceError.ServiceError, never>>()
expectTypeOf<Exclude<Service.TagContext<{ scoped: Effect.Effect<{}, never, Scope.Scope> }>, never>>().toBeNever()

// @ts-expect-error Self is required, as in Effect.Service
export class NoSelf extends Service.Tag()("NoSelf", {}) {}

// @ts-expect-error dependencies are layers in a Tag, not mode's hook
export class HookDeps extends Service.Tag<HookDeps>()("HookDeps", { dependencies: () => Effect.succeed([]) }) {}

// -----------------------------------------------------------------------------
// Service.launch
// -----------------------------------------------------------------------------

const launched = Service.launch(Layer.merge(Consumer.Default, Reporter.Default))
expectTypeOf(launched).toEqualTypeOf<Effect.Effect<never, ErrY | ServiceError.ServiceError | ErrX, A | B>>()

// -----------------------------------------------------------------------------
// supervised services: callers see ServiceUnavailable on every call
// -----------------------------------------------------------------------------

class Gateway extends Service.Tag<Gateway>()("Gateway", {
  scoped: Effect.succeed({ charge: (cents: number) => Effect.succeed(cents), health: Effect.succeed("ok") }),
  supervise: { maxRestarts: 3, within: "1 minute", callTimeout: "2 seconds" }
}) {}
const useGateway = Effect.gen(function*() {
  const gateway = yield* Gateway
  expectTypeOf(gateway.charge(1)).toEqualTypeOf<Effect.Effect<number, ServiceError.ServiceUnavailable>>()
  expectTypeOf(gateway.health).toEqualTypeOf<Effect.Effect<string, ServiceError.ServiceUnavailable>>()
})
expectTypeOf(useGateway).toEqualTypeOf<Effect.Effect<void, never, Gateway>>()

// -----------------------------------------------------------------------------
// effect, sync, succeed instead of scoped; accessors: true (as in Effect.Service)
// -----------------------------------------------------------------------------

class Repo extends Service.Tag<Repo>()("Repo", {
  effect: Effect.map(A, () => ({ find: (id: number) => Effect.fail(new ErrX()).pipe(Effect.as(id)), count: Effect.succeed(2) })),
  accessors: true
}) {}
expectTypeOf(Repo.find).toEqualTypeOf<(id: number) => Effect.Effect<number, ErrX, Repo>>()
expectTypeOf(Repo.count).toEqualTypeOf<Effect.Effect<number, never, Repo>>()
expectTypeOf(Repo.DefaultWithoutDependencies).toEqualTypeOf<Layer.Layer<Repo, ServiceError.ServiceError, A>>()
const useRepo = Effect.gen(function*() {
  const repo = yield* Repo
  expectTypeOf(repo.count).toEqualTypeOf<Effect.Effect<number>>()
})
expectTypeOf(useRepo).toEqualTypeOf<Effect.Effect<void, never, Repo>>()

class Settings extends Service.Tag<Settings>()("Settings", { sync: () => ({ port: 8080 }) }) {}
class Fixed extends Service.Tag<Fixed>()("Fixed", { succeed: { debug: true } }) {}
expectTypeOf(Effect.map(Settings, (s) => s.port)).toEqualTypeOf<Effect.Effect<number, never, Settings>>()
expectTypeOf(Effect.map(Fixed, (f) => f.debug)).toEqualTypeOf<Effect.Effect<true, never, Fixed>>() // const, as in Effect.Service
expectTypeOf(Settings.Default).toEqualTypeOf<Layer.Layer<Settings, ServiceError.ServiceError, never>>()

// without accessors, the class has no member of the API
// @ts-expect-error accessors were not asked for
export const noAccessor = Settings.port

// a supervised service's accessors can fail with ServiceUnavailable, as its API can
class Billing extends Service.Tag<Billing>()("Billing", {
  succeed: { charge: (cents: number) => Effect.succeed(cents) },
  accessors: true,
  supervise: { maxRestarts: 1 }
}) {}
expectTypeOf(Billing.charge).toEqualTypeOf<(cents: number) => Effect.Effect<number, ServiceError.ServiceUnavailable, Billing>>()

// use with a body that returns a promise, as Effect.Service's use
class Counter extends Service.Tag<Counter>()("Counter", { succeed: { n: 1 } }) {}
expectTypeOf(Counter.use(async (c) => c.n + 1)).toEqualTypeOf<Effect.Effect<number, Cause.UnknownException, Counter>>()

// an API member named like a member of the class gets no accessor: the class's member keeps its type
class Named extends Service.Tag<Named>()("Named", {
  succeed: { handle: 1, key: Effect.succeed(1), size: Effect.succeed(2) },
  accessors: true
}) {}
expectTypeOf(Named.handle).toEqualTypeOf<Effect.Effect<Service.Service, never, Named>>()
expectTypeOf(Named.key).toEqualTypeOf<"Named">()
expectTypeOf(Named.size).toEqualTypeOf<Effect.Effect<number, never, Named>>()

// a dependency that provides nothing (Layer<never, E, R>, e.g. a migration) keeps its E and R in Default
class MigrationFailed extends Data.TaggedError("MigrationFailed")<{}> {}
const Migrations = Layer.effectDiscard(Effect.flatMap(A, () => Effect.fail(new MigrationFailed())))
class Migrated extends Service.Tag<Migrated>()("Migrated", { dependencies: [Migrations], succeed: {} }) {}
expectTypeOf(Migrated.Default).toEqualTypeOf<Layer.Layer<Migrated, ServiceError.ServiceError | MigrationFailed, A>>()
