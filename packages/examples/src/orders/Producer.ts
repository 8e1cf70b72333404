/** The producer: a timer submits a new order to the `Consumer` every 500 ms. */
import { Effect, Ref } from "effect"
import { Service } from "@effect-mode/core"
import { Consumer } from "./Consumer.js"

const produced = Ref.unsafeMake(0)

export class Producer extends Service.Tag<Producer>()("Producer", {
  dependencies: [Consumer.Default],
  tasks: [
    Service.timer("500 millis", () =>
      Effect.gen(function*() {
        const consumer = yield* Consumer
        yield* consumer.submit(yield* Ref.updateAndGet(produced, (n) => n + 1))
      }), { name: "produce" })
  ]
}) {}
