/**
 * The worker program of the shutdown scenario: `node --import tsx shutdownWorker.ts <subject> <n>`
 * runs a tree of `n` services (as the tree scenario) until SIGTERM — effect-mode with
 * `Worker.runMain`, the baseline with `NodeRuntime.runMain` over a scope — printing `READY` on stdout
 * once every service runs and `@@rss <MB>` on stderr when it exits.
 *
 * @since 0.0.0
 */
import { Worker } from "@effect-mode/node"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import { writeSync } from "node:fs"
import { makeServiceTree, startBaselineTree } from "./tree.js"

const [subject, size] = process.argv.slice(2)
const n = Number(size)

const ready = Effect.sync(() => {
  writeSync(1, "READY\n")
})

process.on("exit", () => {
  writeSync(2, `@@rss ${process.resourceUsage().maxRSS / 1024}\n`)
})

if (subject === "effect-mode") {
  Worker.runMain(
    Effect.map(makeServiceTree(n, { onStarted: () => ready }), (services) => services[0]!),
    { logLevel: "Warning", shutdownTimeout: "2 minutes", dumpSignal: null }
  )
} else if (subject === "baseline-effect") {
  NodeRuntime.runMain(
    Effect.scoped(Effect.gen(function*() {
      const scope = yield* Effect.scope
      yield* startBaselineTree(n, scope)
      yield* ready
      return yield* Effect.never
    }))
  )
} else {
  throw new Error(`shutdown: unknown subject ${subject}`)
}
