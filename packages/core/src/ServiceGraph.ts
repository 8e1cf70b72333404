/**
 * Renders a service tree: Graphviz DOT, Mermaid, or a plain snapshot for health endpoints
 * and dashboards. Nodes are service instances (by `id`), never merged by label.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { asImpl, type ServiceImpl } from "./internal/service.js"
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
  readonly state: Service.State
  readonly flags: ReadonlyArray<string>
  readonly restartCount: number
  readonly uptimeMillis: number | null
  readonly children: ReadonlyArray<Snapshot>
}

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
export const snapshot = (root: Service.Service): Effect.Effect<Snapshot> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => snapshotAt(asImpl(root), now))

const snapshotAt = (s: ServiceImpl, now: number): Effect.Effect<Snapshot> =>
  Effect.all([s.diag.flags, Effect.forEach([...s.children], (c) => snapshotAt(c, now))]).pipe(
    Effect.map(([flags, children]) => ({
      id: s.id,
      label: s.label,
      state: s.stateSync(),
      flags: Array.from(flags),
      restartCount: s.restarts,
      uptimeMillis: s.phase === "running" && s.startedAt !== undefined ? now - s.startedAt : null,
      children
    }))
  )

const edges = (root: ServiceImpl): { nodes: Array<ServiceImpl>; links: Array<[ServiceImpl, ServiceImpl]> } => {
  const nodes: Array<ServiceImpl> = []
  const links: Array<[ServiceImpl, ServiceImpl]> = []
  const walk = (s: ServiceImpl) => {
    nodes.push(s)
    for (const c of s.children) {
      links.push([s, c])
      walk(c)
    }
  }
  walk(root)
  return { nodes, links }
}

const escape = (label: string): string => label.replace(/\\/g, "\\\\").replace(/"/g, "\\\"")

/**
 * Renders the tree as Graphviz DOT, one node per service instance.
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
export const toDot = (root: Service.Service): Effect.Effect<string> =>
  Effect.sync(() => {
    const { links, nodes } = edges(asImpl(root))
    const lines = ["digraph services {"]
    for (const n of nodes) lines.push(`  s${n.id} [label="${escape(n.label)}" state="${n.stateSync()}"];`)
    for (const [a, b] of links) lines.push(`  s${a.id} -> s${b.id};`)
    lines.push("}")
    return lines.join("\n")
  })

/**
 * Renders the tree as a Mermaid flowchart, one node per service instance.
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
export const toMermaid = (root: Service.Service): Effect.Effect<string> =>
  Effect.sync(() => {
    const { links, nodes } = edges(asImpl(root))
    const lines = ["graph TD"]
    for (const n of nodes) lines.push(`  s${n.id}["${n.label.replace(/"/g, "#quot;")}"]`)
    for (const [a, b] of links) lines.push(`  s${a.id} --> s${b.id}`)
    return lines.join("\n")
  })
