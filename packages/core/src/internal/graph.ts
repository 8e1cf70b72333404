/**
 * The read model of a service tree: walks, roots, snapshots and renderings (DOT, Mermaid).
 * Everything outside the core (the Worker, the observer, dashboards) reads the tree through
 * these functions instead of a service's internals.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Service from "../Service.js"
import type * as ServiceGraph from "../ServiceGraph.js"
import { shortCause } from "./causeText.js"
import { dependenciesOf } from "./layer/registry.js"
import { asImpl, type ServiceImpl, withMade } from "./service.js"

/** Every service of the subtree, depth first, parents before children. */
export const collect = (root: ServiceImpl): Array<ServiceImpl> => {
  const all: Array<ServiceImpl> = []
  const walk = (s: ServiceImpl) => {
    all.push(s)
    for (const c of s.children) walk(c)
  }
  walk(root)
  return all
}

/** @internal */
export const walk = (root: Service.Service): Effect.Effect<ReadonlyArray<Service.Service>> =>
  withMade(root, Effect.sync(() => collect(asImpl(root))))

/** @internal */
export const rootOf = (service: Service.Service): Effect.Effect<Service.Service> =>
  withMade(service, Effect.sync(() => {
    let top = asImpl(service)
    while (top.parent !== undefined) top = top.parent
    return top
  }))


/** @internal */
export const crashOf = (
  service: Service.Service
): Effect.Effect<ServiceGraph.CrashInfo | undefined> =>
  withMade(service, Effect.sync(() => {
    const s = asImpl(service)
    if (s.crashCause === undefined) return undefined
    return { origin: s.crashOrigin ?? s.pathSync(), cause: s.crashCause }
  }))

const taskSnapshots = (s: ServiceImpl, now: number): Effect.Effect<Array<ServiceGraph.TaskSnapshot>> => {
  const run = s.run
  if (run === undefined) return Effect.succeed([])
  return Effect.map(
    Effect.forEach(run.fibers.slice(), ({ fiber, name, startedAt }) =>
      Effect.map(fiber.status, (status): ServiceGraph.TaskSnapshot => ({
        name,
        fiberId: fiber.id().id,
        status: status._tag,
        ageMillis: Math.max(0, now - startedAt)
      }))),
    (tasks) => {
      for (const task of run.scheduled) {
        if (task.pending) {
          tasks.push({ name: task.name, fiberId: task.fiberId, status: "Scheduled", ageMillis: Math.max(0, now - task.startedAt) })
        }
      }
      return tasks
    }
  )
}

const snapshotAt = (s: ServiceImpl, now: number): Effect.Effect<ServiceGraph.Snapshot> =>
  Effect.all([
    s.diag.flags,
    s.diag.lastTransition,
    taskSnapshots(s, now),
    Effect.forEach([...s.children], (c) => snapshotAt(c, now))
  ]).pipe(
    Effect.map(([flags, transitions, tasks, children]): ServiceGraph.Snapshot => ({
      id: s.id,
      label: s.label,
      shortlabel: s.shortlabel,
      path: s.pathSync(),
      depth: s.depthSync(),
      state: s.stateSync(),
      phase: s.phase,
      flags: Array.from(flags),
      lastTransitions: Object.fromEntries(transitions),
      restartCount: s.restarts,
      uptimeMillis: s.phase === "running" && s.startedAt !== undefined ? now - s.startedAt : null,
      crash: s.crashCause === undefined ? null : {
        origin: s.crashOrigin ?? s.pathSync(),
        reason: shortCause(s.crashCause)
      },
      tasks,
      dependsOn: dependenciesOf(s).map((d) => d.id),
      children
    }))
  )

/** @internal */
export const snapshot = (root: Service.Service): Effect.Effect<ServiceGraph.Snapshot> =>
  withMade(root, Effect.flatMap(Clock.currentTimeMillis, (now) => snapshotAt(asImpl(root), now)))

interface Edges {
  readonly nodes: Array<ServiceImpl>
  /** Parent to child: the tree. */
  readonly links: Array<[ServiceImpl, ServiceImpl]>
  /** A layer service to a service whose layer it depends on, both in the subtree (`dependsOn`). */
  readonly uses: Array<[ServiceImpl, ServiceImpl]>
}

const edges = (root: ServiceImpl): Edges => {
  const nodes = collect(root)
  const inTree = new Set(nodes)
  const links: Array<[ServiceImpl, ServiceImpl]> = []
  const uses: Array<[ServiceImpl, ServiceImpl]> = []
  for (const n of nodes) {
    for (const c of n.children) links.push([n, c])
    for (const d of dependenciesOf(n)) if (inTree.has(asImpl(d))) uses.push([n, asImpl(d)])
  }
  return { nodes, links, uses }
}

/**
 * A label as Mermaid text: its entity codes for what Mermaid would read as markup (quotes,
 * HTML, markdown's backtick, and `#`, which starts an entity code), a line break as a space.
 */
const mermaidText = (label: string): string =>
  label.replace(/#/g, "#35;").replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;")
    .replace(/`/g, "#96;").replace(/[\r\n]+/g, " ")

const escape = (label: string): string => label.replace(/\\/g, "\\\\").replace(/"/g, "\\\"")

/** @internal */
export const toDot = (root: Service.Service): Effect.Effect<string> =>
  withMade(root, Effect.sync(() => {
    const { links, nodes, uses } = edges(asImpl(root))
    const lines = ["digraph services {"]
    for (const n of nodes) lines.push(`  s${n.id} [label="${escape(n.label)}" state="${n.stateSync()}"];`)
    for (const [a, b] of links) lines.push(`  s${a.id} -> s${b.id};`)
    for (const [a, b] of uses) lines.push(`  s${a.id} -> s${b.id} [style=dashed label="uses"];`)
    lines.push("}")
    return lines.join("\n")
  }))

/** @internal */
export const toMermaid = (root: Service.Service): Effect.Effect<string> =>
  withMade(root, Effect.sync(() => {
    const { links, nodes, uses } = edges(asImpl(root))
    const lines = ["graph TD"]
    for (const n of nodes) lines.push(`  s${n.id}["${mermaidText(n.label)}"]`)
    for (const [a, b] of links) lines.push(`  s${a.id} --> s${b.id}`)
    for (const [a, b] of uses) lines.push(`  s${a.id} -. uses .-> s${b.id}`)
    return lines.join("\n")
  }))
