/**
 * A flaky payment gateway, supervised: its connection drops on every 10th order (once per
 * order). The crash restarts it in place (one-for-one, exponential backoff, at most 5
 * restarts a minute): its `scoped` connects again, and the `Consumer`, which holds its API,
 * keeps working. The call that was in flight fails with `ServiceUnavailable`, and the
 * consumer retries it; a call made while the gateway restarts waits for the new connection.
 */
import { Data, Effect, Schedule } from "effect"
import { Service } from "@effect-mode/core"
import { Database } from "./Database.js"

class ConnectionLost extends Data.TaggedError("ConnectionLost")<{ readonly order: number }> {}

/** Orders whose charge already dropped the connection once. */
const dropped = new Set<number>()

export class PaymentGateway extends Service.Tag<PaymentGateway>()("PaymentGateway", {
  dependencies: [Database.Default],
  scoped: Effect.gen(function*() {
    const self = yield* Service.Current
    const db = yield* Database
    yield* Effect.log(`connected (connection #${(yield* self.restartCount) + 1})`)
    return {
      charge: (order: number) =>
        Effect.suspend(() => {
          if (order % 10 === 0 && !dropped.has(order)) {
            dropped.add(order)
            return Effect.zipRight(self.crash(new ConnectionLost({ order })), Effect.never)
          }
          return Effect.as(db.insert(order), `receipt-${order}`)
        })
    }
  }),
  supervise: {
    maxRestarts: 5,
    within: "1 minute",
    backoff: Schedule.exponential("200 millis"),
    callTimeout: "5 seconds"
  }
}) {}
