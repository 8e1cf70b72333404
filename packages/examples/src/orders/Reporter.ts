/** The nightly report: a crontab at 02:30 in Europe/Berlin logs the consumer's lag. */
import { Effect } from "effect"
import { Service } from "@effect-mode/core"
import { Consumer } from "./Consumer.js"

export class Reporter extends Service.Tag<Reporter>()("Reporter", {
  dependencies: [Consumer.Default],
  tasks: [
    Service.crontab("30 2 * * *", () =>
      Effect.gen(function*() {
        const consumer = yield* Consumer
        yield* Effect.log(`nightly report: lag ${yield* consumer.lag}`)
      }), { name: "nightly", timezone: "Europe/Berlin" })
  ]
}) {}
