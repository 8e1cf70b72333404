// A Worker in plain JavaScript, run by `node app.js` in a fresh project where the packed
// @effect-mode/core and @effect-mode/node are installed from their tarballs (see
// .ci/pack-test.sh). No tsx, no workspace: what a user gets from npm.
import { Effect } from "effect"
import { HealthCheck, Service } from "@effect-mode/core"
import { Worker } from "@effect-mode/node"

const db = Service.make("Db", {
  onStop: () => Effect.sync(() => console.log("MARK onStop Db"))
}).pipe(HealthCheck.withChecks(HealthCheck.make("ping", Effect.void, { timeout: "1 second" })))

const app = Effect.gen(function*() {
  const root = yield* Service.make("App", { onStarted: () => Effect.sync(() => console.log("MARK READY")) })
  yield* root.addDependency(yield* db)
  return root
})

Worker.runMain(app, { shutdownTimeout: "10 seconds", logFormat: "logfmt", health: { port: 0, host: "127.0.0.1" } })
