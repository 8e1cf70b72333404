/**
 * Renders a service tree: Graphviz DOT, Mermaid, or a plain snapshot for health endpoints
 * and dashboards. Nodes are service instances (by `id`), never merged by label.
 *
 * @since 0.1.0
 */
import type * as Cause from "effect/Cause"
import type * as Effect from "effect/Effect"
import * as internal from "./internal/graph.js"
import type * as Service from "./Service.js"

/**
 * A service and its subtree at one instant.
 *
 * @example
 * ```ts
 * import type { ServiceGraph } from "@effect-mode/core"
 *
 * const count = (s: ServiceGraph.Snapshot): number => 1 + s.children.reduce((n, c) => n + count(c), 0)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  readonly id: number
  readonly label: string
  readonly shortlabel: string
  /** `"Root/Mid/Leaf"`: the labels from the root of the tree down to this service. */
  readonly path: string
  /** 1 for a root. */
  readonly depth: number
  readonly state: Service.State
  /** Where the lifecycle is, crashed or not (`state` says `"crashed"` whatever the phase once crashed). */
  readonly phase: Phase
  readonly flags: ReadonlyArray<string>
  /** Flag name to the `Clock` millis of its last set (unsetting a flag keeps its time, as in mode). */
  readonly lastTransitions: Readonly<Record<string, number>>
  readonly restartCount: number
  readonly uptimeMillis: number | null
  /** The crash recorded on this service: the path where it began and the first line of its cause. */
  readonly crash: { readonly origin: string; readonly reason: string } | null
  /** The live task, timer, crontab and future fibers of the current run. */
  readonly tasks: ReadonlyArray<TaskSnapshot>
  /**
   * The ids of the services this one was built on by its layer (its layer dependencies,
   * direct ones only; see `Service.launch`); empty for a service not built by a layer.
   */
  readonly dependsOn: ReadonlyArray<number>
  readonly children: ReadonlyArray<Snapshot>
}

/**
 * Where a service's lifecycle is, apart from a crash mark.
 *
 * @example
 * ```ts
 * import type { ServiceGraph } from "@effect-mode/core"
 *
 * const busy = (p: ServiceGraph.Phase) => p === "starting" || p === "stopping"
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Phase = "init" | "starting" | "running" | "stopping" | "shutdown"

/**
 * One live fiber of a service's run.
 *
 * @example
 * ```ts
 * import type { ServiceGraph } from "@effect-mode/core"
 *
 * const line = (t: ServiceGraph.TaskSnapshot) => `${t.name} #${t.fiberId} ${t.status} ${t.ageMillis}ms`
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface TaskSnapshot {
  readonly name: string
  readonly fiberId: number
  /**
   * The fiber's status tag: `"Running"`, `"Suspended"` or `"Done"`; `"Scheduled"` for a timer or
   * crontab waiting for its next tick (no fiber then: `fiberId` is the task fiber that started it).
   */
  readonly status: string
  readonly ageMillis: number
}

/**
 * The crash recorded on a service: the path of the service where it began and its whole cause.
 *
 * @example
 * ```ts
 * import { Cause } from "effect"
 * import type { ServiceGraph } from "@effect-mode/core"
 *
 * const describe = (c: ServiceGraph.CrashInfo) => `${c.origin}: ${Cause.pretty(c.cause)}`
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface CrashInfo {
  readonly origin: string
  readonly cause: Cause.Cause<unknown>
}

/**
 * Every service of the tree under `root` (itself included), depth first, parents before
 * their children in insertion order.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, ServiceGraph } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const app = yield* Service.make("App")
 *   yield* app.addDependency(yield* Service.make("Db"))
 *   const all = yield* ServiceGraph.walk(app) // [App, Db]
 * })
 * ```
 *
 * @since 0.2.0
 * @category traversal
 */
export const walk: (root: Service.Service) => Effect.Effect<ReadonlyArray<Service.Service>> = internal.walk

/**
 * The top of the tree `service` is in (itself when it has no parent).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, ServiceGraph } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const app = yield* Service.make("App")
 *   const db = yield* app.addDependency(yield* Service.make("Db"))
 *   const top = yield* ServiceGraph.root(db) // app
 * })
 * ```
 *
 * @since 0.2.0
 * @category traversal
 */
export const root: (service: Service.Service) => Effect.Effect<Service.Service> = internal.rootOf

/**
 * The crash recorded on `service` (the path where it began and the whole cause), or
 * `undefined` when it has not crashed.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, ServiceGraph } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const app = yield* Service.make("App")
 *   const crash = yield* ServiceGraph.crashOf(app) // undefined
 * })
 * ```
 *
 * @since 0.2.0
 * @category traversal
 */
export const crashOf: (service: Service.Service) => Effect.Effect<CrashInfo | undefined> = internal.crashOf

/**
 * Takes a snapshot of `root` and everything under it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, ServiceGraph } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const app = yield* Service.make("App")
 *   const snap = yield* ServiceGraph.snapshot(app) // { label: "App", state: "init", ... }
 * })
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const snapshot: (root: Service.Service) => Effect.Effect<Snapshot> = internal.snapshot

/**
 * Renders the tree as Graphviz DOT, one node per service instance: an edge from each parent to
 * each child, and a dashed edge labelled "uses" from a layer service to each service whose
 * layer it depends on (`Snapshot.dependsOn`), when both are in the tree.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, ServiceGraph } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const app = yield* Service.make("App")
 *   yield* app.addDependency(yield* Service.make("Worker"))
 *   yield* app.addDependency(yield* Service.make("Worker"))
 *   console.log(yield* ServiceGraph.toDot(app)) // two "Worker" nodes
 * })
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const toDot: (root: Service.Service) => Effect.Effect<string> = internal.toDot

/**
 * Renders the tree as a Mermaid flowchart, one node per service instance: `-->` from each
 * parent to each child, `-. uses .->` from a layer service to each service whose layer it
 * depends on, when both are in the tree.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service, ServiceGraph } from "@effect-mode/core"
 *
 * const program = Effect.flatMap(Service.make("App"), ServiceGraph.toMermaid)
 * // graph TD
 * //   s1["App"]
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const toMermaid: (root: Service.Service) => Effect.Effect<string> = internal.toMermaid
