/**
 * One virtual-time world: its scheduler and clock, the main fiber, and the policy applied
 * each time every fiber is idle (move time, auto-advance, or watch for a stall), with the
 * events (done, stalled, warning) it reports to the fiber waiting outside.
 */
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import type * as FiberId from "effect/FiberId"
import type * as Scheduler from "effect/Scheduler"
import { VirtualClock } from "./clock.js"
import { nextTurn, VirtualScheduler } from "./scheduler.js"
import { VirtualTimeStalled } from "./stalled.js"

/** The resolved options of a run. */
export interface Settings {
  readonly autoAdvance: boolean
  readonly onStall: "fail" | "warn"
  readonly idleRounds: number
  readonly busyTasks: number
}

type Event<A, E> =
  | { readonly _tag: "Done"; readonly exit: Exit.Exit<A, E> }
  | { readonly _tag: "Stalled"; readonly error: VirtualTimeStalled }
  | { readonly _tag: "Warn"; readonly error: VirtualTimeStalled }

/** @internal */
export class World<A, E> {
  readonly scheduler: VirtualScheduler
  readonly clock: VirtualClock
  private main: Fiber.RuntimeFiber<A, E> | undefined
  private done = false
  /** Interrupted from outside or stalled: time auto-advances so finalizers that sleep can end. */
  private closing = false
  private failure: VirtualTimeStalled | undefined
  /** The progress count an idle watch is running for (one watch per idle period). */
  private watchingAt = -1
  private events: Array<Event<A, E>> = []
  /** A Done or Stalled event was emitted. */
  private ended = false
  private listener: ((event: Event<A, E>) => void) | undefined

  /** The world this one runs inside, if any. */
  private readonly outer: VirtualScheduler | undefined

  constructor(start: number, private readonly settings: Settings, outer: Scheduler.Scheduler) {
    this.scheduler = new VirtualScheduler(() => this.onIdle(), settings.busyTasks, () => this.onBusy())
    this.outer = outer instanceof VirtualScheduler ? outer : undefined
    if (this.outer !== undefined) this.outer.nested++
    this.clock = new VirtualClock(start, () => this.scheduler.kick())
  }

  attach(fiber: Fiber.RuntimeFiber<A, E>): void {
    this.main = fiber
    fiber.addObserver((exit) => {
      this.done = true
      this.emit(this.failure === undefined ? { _tag: "Done", exit } : { _tag: "Stalled", error: this.failure })
    })
  }

  /** Waits for the main fiber's end (or a stall), logging warnings on the way. */
  readonly awaitEnd: Effect.Effect<A, E | VirtualTimeStalled> = Effect.flatMap(
    Effect.suspend(() => this.next),
    (event): Effect.Effect<A, E | VirtualTimeStalled> => {
      switch (event._tag) {
        case "Done":
          return event.exit
        case "Stalled":
          return Effect.fail(event.error)
        case "Warn":
          return Effect.zipRight(Effect.logWarning(event.error.message), this.awaitEnd)
      }
    }
  )

  /** The fiber waiting outside was interrupted: interrupt the main fiber and wait until it ends (or stalls). */
  interrupt(by: FiberId.FiberId): Effect.Effect<void> {
    return Effect.suspend(() => {
      // The main fiber ended interrupted by itself (its exit is what the caller gets): nothing to wait for.
      if (this.ended) return Effect.void
      this.closing = true
      this.main?.unsafeInterruptAsFork(by)
      this.scheduler.kick()
      return Effect.ignore(this.awaitEnd)
    })
  }

  private readonly next: Effect.Effect<Event<A, E>> = Effect.async((resume) => {
    const queued = this.events.shift()
    if (queued !== undefined) return resume(Effect.succeed(queued))
    this.listener = (event) => resume(Effect.succeed(event))
    return Effect.sync(() => {
      this.listener = undefined
    })
  })

  private emit(event: Event<A, E>): void {
    if (event._tag !== "Warn" && !this.ended) {
      this.ended = true
      if (this.outer !== undefined) this.outer.nested--
    }
    const listener = this.listener
    if (listener === undefined) {
      this.events.push(event)
    } else {
      this.listener = undefined
      listener(event)
    }
  }

  /** Every fiber of the world is idle: move time if something is due, else watch for a stall. */
  private onIdle(): void {
    const auto = !this.done && (this.settings.autoAdvance || this.closing)
    if (this.clock.step(auto)) return
    if (this.main !== undefined && !this.done) this.watch()
  }

  /**
   * The world ran `busyTasks` tasks without being idle once: some fiber never waits (it polls
   * with `yieldNow`, or a zero-interval timer keeps it busy). Time moves as it would at an idle
   * moment (to the next sleep due before an `adjust`'s target, else to that target), so that
   * `adjust` ends and sleepers wake as on the TestClock, which never waits for idleness.
   */
  private onBusy(): void {
    this.clock.step(!this.done && (this.settings.autoAdvance || this.closing))
  }

  /**
   * Nothing in the world can move: only something outside (a promise, a timer, I/O, another
   * scheduler) can wake a fiber. Give the event loop `idleRounds` turns (macrotasks, no
   * timer waits); if no task ran meanwhile, the run is stalled.
   */
  private watch(): void {
    const ticks = this.scheduler.ticks
    if (this.watchingAt === ticks) return
    this.watchingAt = ticks
    let rounds = 0
    const turn = (): void => {
      if (this.done || this.scheduler.busy || this.scheduler.ticks !== ticks) return
      // a nested run is what waits: it detects its own stall, and its end wakes this world
      if (this.scheduler.nested > 0) return
      if (++rounds < this.settings.idleRounds) return nextTurn(turn)
      this.stalled()
    }
    nextTurn(turn)
  }

  private stalled(): void {
    const error = new VirtualTimeStalled({
      virtualTime: this.clock.now,
      pendingSleeps: this.clock.pendingTimes().slice(0, 10),
      autoAdvance: this.settings.autoAdvance,
      idleRounds: this.settings.idleRounds
    })
    if (this.closing) {
      // the interruption itself waits on something outside: stop waiting for it
      this.emit({ _tag: "Stalled", error: this.failure ?? error })
    } else if (this.settings.onStall === "warn") {
      this.emit({ _tag: "Warn", error })
    } else {
      this.failure = error
      this.closing = true
      this.main?.unsafeInterruptAsFork(this.main.id())
    }
  }
}
