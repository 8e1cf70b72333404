/**
 * The lifecycle event feed: what happened to a service between two readings of its vitals
 * (state, restart count, crash), and the bounded list of recent events the page shows.
 *
 * Vitals are read at every state change of every service (its `stateChanges` stream) and
 * at every round of snapshots, so a crash that a supervisor repairs at once still shows.
 */

/** What the feed compares: one service at one instant. */
export interface Vitals {
  readonly id: number
  readonly path: string
  readonly state: string
  readonly restartCount: number
  readonly crash: { readonly origin: string; readonly reason: string } | null
}

export type EventKind = "start" | "stop" | "crash" | "restart" | "escalation"

export interface Event {
  /** Increases by one per event, from 1. */
  readonly seq: number
  /** Server `Clock` millis. */
  readonly at: number
  readonly kind: EventKind
  readonly id: number
  readonly path: string
  readonly text: string
}

export type Pending = Omit<Event, "seq" | "at">

/** A crash stays recorded until a restart clears it: the same origin is the same crash. */
const sameCrash = (a: Vitals["crash"], b: Vitals["crash"]): boolean =>
  a === b || (a !== null && b !== null && a.origin === b.origin)

/**
 * The events between two readings of one service (`previous` undefined: first reading,
 * nothing to report):
 *
 * - `crash`: a crash recorded on the service where it began;
 * - `escalation`: a crash that began below the service reached it (no supervisor took
 *   it on the way, or a supervisor gave up); a crash marked on the services under the
 *   one it reached is not reported again for each of them;
 * - `restart`: the restart count went up;
 * - `start`: the service became running;
 * - `stop`: the service reached shutdown (not reported as part of a restart).
 */
export const eventsOf = (previous: Vitals | undefined, next: Vitals): Array<Pending> => {
  if (previous === undefined) return []
  const out: Array<Pending> = []
  const at = { id: next.id, path: next.path }
  if (next.crash !== null && !sameCrash(previous.crash, next.crash)) {
    const { origin, reason } = next.crash
    if (origin === next.path) out.push({ ...at, kind: "crash", text: `crashed: ${reason}` })
    else if (origin.startsWith(`${next.path}/`)) {
      out.push({ ...at, kind: "escalation", text: `crash of ${origin} escalated: ${reason}` })
    }
  }
  const restarted = next.restartCount > previous.restartCount
  if (restarted) out.push({ ...at, kind: "restart", text: `restart #${next.restartCount}` })
  if (next.state !== previous.state) {
    if (next.state === "running") out.push({ ...at, kind: "start", text: "running" })
    else if (next.state === "shutdown" && previous.state !== "init" && !restarted) {
      out.push({ ...at, kind: "stop", text: "stopped" })
    }
  }
  return out
}

/**
 * A reading as the feed records it. A reading of a state change is taken when it is read,
 * which may be after the change: a stop's `stopping` or `shutdown` read once the restart
 * after it went on shows the restart's count already. That count is only taken at the next
 * reading, so the feed tells the stop, then the restart. (From `crashed`, the restart is what
 * clears the crash: its `shutdown` is the restart's own, and keeps its count.)
 */
export const settle = (previous: Vitals | undefined, next: Vitals): Vitals =>
  previous !== undefined && (next.state === "stopping" || next.state === "shutdown") &&
    previous.state !== "crashed" && next.restartCount > previous.restartCount
    ? { ...next, restartCount: previous.restartCount }
    : next

/** The last `size` events, oldest first. */
export class Feed {
  private seq = 0
  private readonly events: Array<Event> = []

  constructor(private readonly size: number) {}

  get recent(): ReadonlyArray<Event> {
    return this.events
  }

  add(pending: Pending, at: number): Event {
    const event: Event = { seq: ++this.seq, at, ...pending }
    this.events.push(event)
    if (this.events.length > this.size) this.events.splice(0, this.events.length - this.size)
    return event
  }
}
