/**
 * The consumer: `submit` puts an order on its queue; a poll task takes orders off it and
 * charges them through the `PaymentGateway` (retrying while it restarts); a timer commits the offset every 5 seconds, with the Diag
 * flag COMMITTING raised while it runs; the last offset is committed when it stops, before
 * the pool closes. Its typed API is `lag` (orders waiting) and `submit`.
 *
 * `ORDERS_CRASH=Consumer` makes the poll task fail on the third order: the crash stops the
 * whole program and the Worker exits 1 naming `Worker/Consumer`.
 */
import { Data, Effect, Queue, Ref, Schedule } from "effect"
import { Service } from "@effect-mode/core"
import { Database } from "./Database.js"
import { PaymentGateway } from "./PaymentGateway.js"

class PoisonOrder extends Data.TaggedError("PoisonOrder")<{ readonly order: number }> {}

export class Consumer extends Service.Tag<Consumer>()("Consumer", {
  dependencies: [Database.Default, PaymentGateway.Default],
  scoped: Effect.gen(function*() {
    const db = yield* Database
    const gateway = yield* PaymentGateway
    const queue = yield* Queue.bounded<number>(1000)
    const offset = yield* Ref.make(0)
    const commit = Effect.flatMap(Ref.get(offset), (at) =>
      Effect.zipRight(db.commit(at), Effect.log(`committed offset ${at}`)))

    yield* Service.addTask(Service.task(() =>
      Effect.forever(Effect.gen(function*() {
        const order = yield* Queue.take(queue)
        if (process.env["ORDERS_CRASH"] === "Consumer" && order === 3) return yield* new PoisonOrder({ order })
        // The gateway may be restarting: a call in flight when it crashed is retried.
        yield* gateway.charge(order).pipe(Effect.retry({
          while: (e) => e._tag === "ServiceUnavailable",
          schedule: Schedule.spaced("100 millis")
        }))
        yield* Ref.set(offset, order)
      })), { name: "poll" }))
    yield* Service.addTask(Service.timer("5 seconds", Service.transitionsTo("COMMITTING", () => commit), { name: "commit" }))
    // In the run scope: runs when the consumer stops, after its tasks, before the pool closes.
    yield* Effect.addFinalizer(() => commit)

    return {
      lag: Queue.size(queue),
      submit: (order: number) => Queue.offer(queue, order)
    }
  })
}) {}
