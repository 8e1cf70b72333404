// Type tests for Worker.runMain's roots, checked by `tsc -b` (never run).
import { Effect, Layer } from "effect"
import { Service } from "@effect-mode/core"
import { Worker } from "@effect-mode/node"

export const typeTests = () => {
  // a layer that provides nothing: its services are reached through the tree
  Worker.runMain(Layer.effectDiscard(Effect.void))
  // a layer of a service tag
  class Db extends Service.Tag<Db>()("Db", { scoped: Effect.succeed({ ping: Effect.void }) }) {}
  Worker.runMain(Db.Default)
  // a root effect
  Worker.runMain(Service.make("App"))
  // @ts-expect-error a layer that still needs something is not a root
  Worker.runMain(Layer.effectDiscard(Db))
}
