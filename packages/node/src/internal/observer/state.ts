/**
 * The observer's live state, owned by a scope: every `interval` a round of snapshots of
 * the roots (`ServiceGraph.snapshot`) is flattened and compared with the last one, and
 * only what changed is sent to the connected pages, with the lifecycle events found
 * meanwhile. Each service's `stateChanges` is followed too, so that no transition is
 * missed between two rounds. Closing the scope stops the fibers and ends the streams.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as FiberMap from "effect/FiberMap"
import * as FiberRef from "effect/FiberRef"
import * as Scheduler from "effect/Scheduler"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { type Service, ServiceGraph, Supervisor } from "@effect-mode/core"
import { yielding } from "../health.js"
import { Clients, encode } from "./clients.js"
import { type Event, eventsOf, Feed, settle, type Vitals } from "./feed.js"
import type { Config } from "./options.js"
import { diff, flatten, type NodeView, type Views } from "./view.js"

/** The first line of a cause, as the snapshot's `crash.reason`. */
const firstLine = (cause: Cause.Cause<unknown>): string => {
  const pretty = Cause.pretty(cause)
  return (pretty.split("\n").find((l) => l.trim().length > 0) ?? pretty).trim()
}

const vitalsOf = (v: NodeView): Vitals => ({
  id: v.id,
  path: v.path,
  state: v.state,
  restartCount: v.restartCount,
  crash: v.crash
})

/** Rounds without a change after which a comment line keeps proxies from closing the stream. */
const pingEvery = 30

/**
 * With no page connected, one round in this many is taken; the others only look for new
 * services to follow, so that the feed still gets every state change from the streams; a
 * page that connects, or a read of the state, gets a fresh round first.
 */
const idleEvery = 10

export class State {
  views: Views = new Map()
  services = new Map<number, Service.Service>()
  private readonly vitals = new Map<number, Vitals>()
  private pending: Array<Event> = []
  private quiet = 0
  private idle = 0
  /** Whether the first round was taken: services found after it are new, their whole story is told. */
  private begun = false
  private readonly lock = Effect.unsafeMakeSemaphore(1)
  /** The round callers wait for that has not begun yet, if any. */
  private queued: Deferred.Deferred<void> | undefined = undefined
  readonly feed: Feed
  readonly clients: Clients

  constructor(
    readonly roots: Effect.Effect<ReadonlyArray<Service.Service>>,
    readonly config: Config,
    private readonly watching: FiberMap.FiberMap<number>,
    /** The scheduler of the program that made the observer: actions on its services run on it. */
    readonly scheduler: Scheduler.Scheduler
  ) {
    this.feed = new Feed(config.feedSize)
    this.clients = new Clients({ max: config.maxClients, maxBuffered: config.maxBuffered })
  }

  /** Everything at once: every service, the recent events, whether actions are on. */
  current(now: number) {
    return {
      now,
      actions: this.config.actions !== null,
      nodes: Array.from(this.views.values(), (v) => v.view),
      events: this.feed.recent
    }
  }

  /** What a page's event stream begins with. */
  initial(now: number): string {
    return encode("init", this.current(now))
  }

  private record(reading: Vitals, now: number): void {
    const previous = this.vitals.get(reading.id)
    const next = settle(previous, reading)
    for (const pending of eventsOf(previous, next)) this.pending.push(this.feed.add(pending, now))
    this.vitals.set(next.id, next)
  }

  /** Reads one service's vitals at one of its state changes. */
  private reading(service: Service.Service, state: Service.State): Effect.Effect<void> {
    return Effect.gen(this, function*() {
      const [restartCount, crash, now] = yield* Effect.all([
        service.restartCount,
        ServiceGraph.crashOf(service),
        Clock.currentTimeMillis
      ])
      const path = this.vitals.get(service.id)?.path ?? service.label
      this.record({
        id: service.id,
        path,
        state,
        restartCount,
        crash: crash !== undefined
          ? { origin: crash.origin, reason: firstLine(crash.cause) }
          : state === "crashed"
          ? { origin: path, reason: "(cleared by a restart before it could be read)" }
          : null
      }, now)
    })
  }

  private watch(service: Service.Service): Effect.Effect<void> {
    return Stream.runForEach(service.stateChanges, (state) => this.reading(service, state))
  }

  /**
   * The service of id `id`: the last round's, else one found in the trees now (a service
   * added, or the trees made, since the last round).
   */
  lookup(id: number): Effect.Effect<Service.Service | undefined> {
    return Effect.suspend(() => {
      const known = this.services.get(id)
      if (known !== undefined) return Effect.succeed(known)
      return Effect.map(
        Effect.flatMap(this.roots, (roots) => Effect.forEach(roots, ServiceGraph.walk)),
        (trees) => trees.flat().find((s) => s.id === id)
      )
    })
  }

  /** The timer's round: only `follow` but one in `idleEvery` while no page is connected. */
  get tick(): Effect.Effect<void> {
    return Effect.suspend(() =>
      this.clients.size > 0 || ++this.idle % idleEvery === 0 ? this.round : this.lock.withPermits(1)(this.follow)
    )
  }

  /** Follows the services not followed yet: their state changes reach the feed from now on. */
  private get follow(): Effect.Effect<void> {
    return Effect.gen(this, function*() {
      const all = (yield* Effect.forEach(yield* this.roots, ServiceGraph.walk)).flat()
      yield* this.followAll(all)
    })
  }

  private followAll(all: ReadonlyArray<Service.Service>): Effect.Effect<void> {
    return Effect.gen(this, function*() {
      for (const s of all) {
        if (yield* FiberMap.has(this.watching, s.id)) continue
        // A service that appears after the first round is new: its first reading is told
        // against a service never started (it started, it crashed, it restarted...).
        if (this.begun && !this.vitals.has(s.id)) {
          this.vitals.set(s.id, { id: s.id, path: yield* s.beacon.path, state: "init", restartCount: 0, crash: null })
        }
        // On the program's scheduler: a state change is read as soon as it is published
        // (the rounds run on one that yields to the event loop; a late reading would tell
        // the change with the figures of a later one).
        yield* FiberMap.run(this.watching, s.id, Effect.withScheduler(this.watch(s), this.scheduler))
      }
    })
  }

  /**
   * A round that begins after this call (one at a time): what a reader of the state, or a
   * page that connects, waits for. Callers that arrive while one is waiting to begin share
   * it, so a burst of requests costs two rounds, not one each.
   */
  get round(): Effect.Effect<void> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        const queued = this.queued
        if (queued !== undefined) return restore(Deferred.await(queued))
        const mine = Deferred.unsafeMake<void>(FiberId.none)
        this.queued = mine
        const begins = Effect.suspend(() => {
          // It begins: a caller from now on waits for the next one.
          if (this.queued === mine) this.queued = undefined
          return this.roundNow
        })
        return Effect.flatMap(Effect.exit(restore(this.lock.withPermits(1)(begins))), (exit) => {
          if (this.queued === mine) this.queued = undefined
          // Whoever shares it is not interrupted with the caller that ran it.
          Deferred.unsafeDone(mine, Exit.isInterrupted(exit) ? Exit.void : exit)
          return exit
        })
      })
    )
  }

  /** One round: snapshot, compare, follow new services, send what changed. */
  private get roundNow(): Effect.Effect<void> {
    return Effect.gen(this, function*() {
      const roots = yield* this.roots
      const snapshots = yield* Effect.forEach(roots, ServiceGraph.snapshot)
      const all = (yield* Effect.forEach(roots, ServiceGraph.walk)).flat()
      const now = yield* Clock.currentTimeMillis
      const strategies = new Map(all.filter(Supervisor.isSupervisor).map((s) => [s.id, s.strategy]))
      const { changed, removed, views } = diff(this.views, flatten(snapshots, this.views, now, strategies))
      this.views = views
      this.services = new Map(all.map((s) => [s.id, s]))
      yield* this.followAll(all)
      for (const c of changed) this.record(vitalsOf(c), now)
      for (const id of removed) {
        this.vitals.delete(id)
        yield* FiberMap.remove(this.watching, id)
      }
      this.begun = true
      const events = this.pending
      this.pending = []
      if (changed.length > 0 || removed.length > 0 || events.length > 0) {
        this.quiet = 0
        this.clients.broadcast(encode("patch", { now, changed, removed, events }))
      } else if (++this.quiet >= pingEvery) {
        this.quiet = 0
        this.clients.broadcast(": ping\n\n")
      }
    })
  }
}

/** The state, its rounds every `intervalMillis` (by `Clock`) and its streams, owned by the scope. */
export const make = (
  roots: Effect.Effect<ReadonlyArray<Service.Service>>,
  config: Config
): Effect.Effect<State, never, Scope.Scope> =>
  Effect.gen(function*() {
    const watching = yield* FiberMap.make<number>()
    const state = new State(roots, config, watching, yield* FiberRef.get(FiberRef.currentScheduler))
    yield* Effect.addFinalizer(() => Effect.sync(() => state.clients.closeAll()))
    yield* state.round
    const logged = Effect.catchAllCause(state.tick, (cause) => Effect.logWarning("[Observer] A round of snapshots failed", cause))
    // On a scheduler that yields to the event loop: a round over thousands of services
    // does not hold up the requests the server reads meanwhile.
    yield* Effect.forkScoped(
      Effect.withScheduler(Effect.forever(Effect.zipRight(Effect.sleep(config.intervalMillis), logged)), yielding)
    )
    return state
  })
