/**
 * The orders daemon's database: a connection pool opened with `acquireRelease` inside
 * `scoped`, so it is opened by the service's start and closed by its stop (after every
 * service that depends on it has stopped).
 */
import { Effect, Ref } from "effect"
import { Service } from "@effect-mode/core"

export class Database extends Service.Tag<Database>()("Database", {
  scoped: Effect.gen(function*() {
    const committed = yield* Ref.make(0)
    yield* Effect.acquireRelease(
      Effect.log("pool open (4 connections)"),
      () => Effect.flatMap(Ref.get(committed), (offset) => Effect.log(`pool closed (last commit at offset ${offset})`))
    )
    return {
      /** Stores an order; the answer is its row id. */
      insert: (order: number) => Effect.succeed(order),
      /** Commits the consumer's offset. */
      commit: (offset: number) => Ref.set(committed, offset),
      committed: Ref.get(committed)
    }
  })
}) {}
