/**
 * The observer's model of the tree: each `ServiceGraph.Snapshot` flattened into one view
 * per service (what the page draws), and the difference between two sets of views (what
 * the page is sent: only the services that changed, and the ids that are gone).
 *
 * Ages are sent as instants (`startedAt`), not as durations, so that a running service
 * does not change at every tick: the page counts uptime and task ages itself.
 */
import type { ServiceGraph } from "@effect-mode/core"

export interface TaskView {
  readonly name: string
  readonly fiberId: number
  readonly status: string
  /** Server `Clock` millis when the fiber was started. */
  readonly startedAt: number
}

/** A snapshot without its children (they are views of their own) and with instants for ages. */
export interface NodeView extends Omit<ServiceGraph.Snapshot, "shortlabel" | "uptimeMillis" | "tasks" | "children"> {
  readonly parent: number | null
  /** Position among the parent's children. */
  readonly index: number
  /** Server `Clock` millis when the current run began; null unless running. */
  readonly startedAt: number | null
  readonly tasks: ReadonlyArray<TaskView>
  /** A supervisor's strategy (`"oneForOne"`...); null for other services. */
  readonly strategy: string | null
}

/** The views of the previous round, by id, with the serialized form used to compare. */
export type Views = ReadonlyMap<number, { readonly view: NodeView; readonly key: string }>

/**
 * An instant derived from `now - age` moves by a millisecond or two between rounds (the
 * snapshot reads the clock itself): the earlier value is kept while it is within this
 * distance, so that nothing changes when nothing happened.
 */
const jitterMillis = 1_000

const stable = (previous: number | null | undefined, next: number): number =>
  previous !== null && previous !== undefined && Math.abs(previous - next) <= jitterMillis ? previous : next

const taskViews = (
  tasks: ReadonlyArray<ServiceGraph.TaskSnapshot>,
  previous: NodeView | undefined,
  now: number
): Array<TaskView> =>
  tasks.map((t) => ({
    name: t.name,
    fiberId: t.fiberId,
    status: t.status,
    startedAt: stable(previous?.tasks.find((p) => p.fiberId === t.fiberId)?.startedAt, now - t.ageMillis)
  }))

/**
 * One view per service of the given trees, parents before children. `previous` keeps the
 * instants stable (see `jitterMillis`); `now` is the `Clock` millis of the snapshots;
 * `strategies` the supervisors' strategies by id.
 */
export const flatten = (
  roots: ReadonlyArray<ServiceGraph.Snapshot>,
  previous: Views,
  now: number,
  strategies: ReadonlyMap<number, string> = new Map()
): Array<NodeView> => {
  const out: Array<NodeView> = []
  const visit = (s: ServiceGraph.Snapshot, parent: number | null, index: number) => {
    const before = previous.get(s.id)?.view
    const sameRun = before !== undefined && before.restartCount === s.restartCount && before.state === s.state
    out.push({
      id: s.id,
      parent,
      index,
      label: s.label,
      path: s.path,
      depth: s.depth,
      state: s.state,
      phase: s.phase,
      flags: s.flags,
      lastTransitions: s.lastTransitions,
      restartCount: s.restartCount,
      startedAt: s.uptimeMillis === null ? null : stable(sameRun ? before.startedAt : null, now - s.uptimeMillis),
      crash: s.crash,
      tasks: taskViews(s.tasks, before, now),
      dependsOn: s.dependsOn,
      strategy: strategies.get(s.id) ?? null
    })
    s.children.forEach((c, i) => visit(c, s.id, i))
  }
  roots.forEach((r, i) => visit(r, null, i))
  return out
}

export interface Diff {
  readonly views: Views
  readonly changed: ReadonlyArray<NodeView>
  readonly removed: ReadonlyArray<number>
}

/** What changed from `previous` to `next`: the new or different views and the ids that are gone. */
export const diff = (previous: Views, next: ReadonlyArray<NodeView>): Diff => {
  const views = new Map<number, { readonly view: NodeView; readonly key: string }>()
  const changed: Array<NodeView> = []
  for (const view of next) {
    const key = JSON.stringify(view)
    views.set(view.id, { view, key })
    if (previous.get(view.id)?.key !== key) changed.push(view)
  }
  const removed: Array<number> = []
  for (const id of previous.keys()) if (!views.has(id)) removed.push(id)
  return { views, changed, removed }
}
