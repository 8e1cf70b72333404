/**
 * The tree of services, as mode's `beacon`: every service has a node whose parent and
 * children follow `addDependency`, `addRuntimeDependency` and `removeDependency`.
 * Nodes are service instances: two services with one label are two nodes.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { Service } from "./Service.js"

/**
 * A service's place in the tree.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const root = yield* Service.make("App")
 *   const leaf = yield* root.addDependency(yield* Service.make("Consumer"))
 *   return yield* leaf.beacon.path // "App/Consumer"
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Node {
  readonly service: Service
  readonly parent: Effect.Effect<Option.Option<Node>>
  readonly children: Effect.Effect<ReadonlyArray<Node>>
  /** 1 for a root. */
  readonly depth: Effect.Effect<number>
  /** The labels from the root down to this node, joined with "/". */
  readonly path: Effect.Effect<string>
}
