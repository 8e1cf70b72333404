/**
 * The supervised slots of one supervisor, in order: each slot's service, restart type,
 * backoff and pending job, and the moves that keep the slots and the supervisor's children
 * in step (adopt, release, add, swap). The supervisor link of a service is set and cleared
 * here only.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import type { ChildSpec, RestartType } from "../../Supervisor.js"
import type * as Service from "../../Service.js"
import { asImpl, isProxyService, type ServiceImpl, type SupervisorLink } from "../service.js"
import { Backoff, checkRestartType, type Policy } from "../supervisorPolicy.js"
import type { Host } from "./host.js"

/** What one restart job does: stop `stop` (in reverse), drop `drop`, wait `delay`, start `start` (in order). */
export interface Job {
  readonly stop: Set<Entry>
  readonly drop: Set<Entry>
  readonly start: Set<Entry>
  readonly delay: number
  fiber: Fiber.RuntimeFiber<unknown, unknown> | undefined
}

/** One supervised slot. `service` changes when `replacement` puts a new service in the slot. */
export class Entry {
  /** The restart job that has still to restart (or stop) this slot, if any. */
  job: Job | undefined = undefined
  removed = false
  constructor(public service: ServiceImpl, public restart: RestartType, readonly backoff: Backoff | undefined) {}
}

/** @internal */
export const childSpec = (service: Service.Service, restart: RestartType): ChildSpec => {
  // A proxy's service is made when the spec is given to a supervisor.
  if (!isProxyService(service)) asImpl(service)
  return { _tag: "ChildSpec", service, restart: checkRestartType(restart, `restart type of ${service.label}`) }
}

/** @internal */
export const isChildSpec = (u: Service.Service | ChildSpec): u is ChildSpec =>
  typeof u === "object" && u !== null && (u as ChildSpec)._tag === "ChildSpec" && "service" in u

/** @internal */
export class Entries {
  readonly list: Array<Entry> = []
  private readonly byService = new Map<ServiceImpl, Entry>()

  constructor(private readonly host: Host, private readonly link: SupervisorLink, private readonly policy: Policy) {}

  get services(): Effect.Effect<ReadonlyArray<Service.Service>> {
    return Effect.sync(() => this.list.map((e) => e.service))
  }

  get(service: ServiceImpl): Entry | undefined {
    return this.byService.get(service)
  }

  private newEntry(service: ServiceImpl, restart: RestartType): Entry {
    const backoff = this.policy.backoff === undefined
      ? undefined
      : new Backoff(this.policy.backoff, this.policy.resetBackoffAfterMillis)
    const entry = new Entry(service, restart, backoff)
    this.byService.set(service, entry)
    return entry
  }

  /** Makes `service` a child of the supervisor, linked to it, at `position` among the children. */
  private adopt(service: ServiceImpl, position: number | undefined): void {
    if ((service as unknown) === this.link.owner) throw new Error(`Supervisor ${this.host.label} cannot supervise itself`)
    const other = service.supervisor
    if (other !== undefined && other.owner !== this.link.owner) other.release(service)
    this.host.attach(service)
    service.supervisor = this.link
    if (position !== undefined) this.host.placeChild(service, position)
  }

  /** Stops supervising `service`: unlinked and detached from the tree, left as it is. */
  release(service: ServiceImpl): Entry | undefined {
    const entry = this.byService.get(service)
    if (entry === undefined) return undefined
    entry.removed = true
    // A restart job that covered the slot leaves it (it skips removed slots).
    entry.job = undefined
    this.byService.delete(service)
    const i = this.list.indexOf(entry)
    if (i >= 0) this.list.splice(i, 1)
    if (service.supervisor === this.link) service.supervisor = undefined
    if (service.parent === this.link.owner) service.detach()
    return entry
  }

  /** Adds services (or child specs) at the end; returns the entries that are new. */
  add(inputs: ReadonlyArray<Service.Service | ChildSpec>): Array<Entry> {
    const added: Array<Entry> = []
    for (const input of inputs) {
      const service = asImpl(isChildSpec(input) ? input.service : input)
      const existing = this.byService.get(service)
      if (existing !== undefined) {
        if (isChildSpec(input)) existing.restart = input.restart
        continue
      }
      this.adopt(service, undefined)
      const entry = this.newEntry(service, isChildSpec(input) ? input.restart : this.policy.restart)
      this.list.push(entry)
      added.push(entry)
    }
    return added
  }

  /**
   * Puts `service` in slot `index` in place of `old` (mode's `insert`): `old` is released;
   * the caller stops it. Returns the new entry.
   */
  replaceAt(index: number, old: Entry, service: ServiceImpl, restart: RestartType): Entry {
    const position = this.host.children.indexOf(old.service)
    this.release(old.service)
    this.adopt(service, position)
    const entry = this.newEntry(service, restart)
    this.list.splice(Math.min(index, this.list.length), 0, entry)
    return entry
  }

  /** Puts `fresh` in the slot of `entry` (the old service is stopped by now): `replacement`. */
  swap(entry: Entry, fresh: ServiceImpl): void {
    const old = entry.service
    const position = this.host.children.indexOf(old)
    const elsewhere = this.byService.get(fresh)
    if (elsewhere !== undefined && elsewhere !== entry) this.release(fresh)
    this.byService.delete(old)
    if (old.supervisor === this.link) old.supervisor = undefined
    if (old.parent === this.link.owner) old.detach()
    this.adopt(fresh, position)
    entry.service = fresh
    this.byService.set(fresh, entry)
  }

  /** The entries of `set`, in slot order. */
  ordered(set: ReadonlySet<Entry>): Array<Entry> {
    if (set.size === 0) return []
    if (set.size === 1) {
      const [only] = set
      return only!.removed ? [] : [only!]
    }
    return this.list.filter((e) => set.has(e))
  }
}
