/**
 * The timer scheduler: one per `Clock` instance (so a `TestClock` or virtual time, being per
 * test, gets its own), made when its first timer registers and torn down when its last timer
 * goes. A binary heap of due instants (milliseconds of the clock's monotonic time) is driven
 * by one fiber that sleeps on that `Clock` until the earliest due instant, then runs the due
 * entries' `fire` effects (which fork the tick's work) in (due, registration) order. A timer
 * waiting for its next tick is one heap entry, not a sleeping fiber.
 *
 * The driver fiber lives in the scheduler's own scope, closed when the last handle is
 * cancelled: when no timer is registered, no fiber is left.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import * as Scope from "effect/Scope"
import type * as Supervisor from "effect/Supervisor"
import { millisOf } from "./monotonic.js"
import { MAX_SLEEP_MILLIS } from "./sleep.js"

/**
 * A registered timer (an entry of the heap): at most one pending due instant at a time.
 * A class, so that a timer costs no closures of its own.
 */
export class TimerHandle {
  due = 0
  seq = 0
  /** Position in the heap, -1 when not pending. */
  index = -1
  cancelled = false
  constructor(readonly scheduler: Scheduler, readonly owner: Fires) {}

  /** Makes the timer due at `due` (clock millis), replacing a pending due instant. */
  schedule(due: number): Effect.Effect<void> {
    if (this.cancelled) return Effect.void
    const scheduler = this.scheduler
    scheduler.remove(this)
    this.due = due
    scheduler.push(this)
    return scheduler.wakeFor(due)
  }

  /** Removes the timer; the last one tears the scheduler down. Idempotent. */
  get cancel(): Effect.Effect<void> {
    return Effect.suspend(() => this.cancelNow() ?? Effect.void)
  }

  /**
   * `cancel`, done now (call it where the effect would run): the effect left is the
   * scheduler's teardown when this was its last timer, else undefined.
   */
  cancelNow(): Effect.Effect<void> | undefined {
    if (this.cancelled) return undefined
    this.cancelled = true
    const scheduler = this.scheduler
    scheduler.remove(this)
    return --scheduler.live > 0 ? undefined : scheduler.close()
  }
}

/** What a timer runs when it is due (read then): it must only start the tick's work (fork it). */
export interface Fires {
  readonly fire: Effect.Effect<void>
}

type Entry = TimerHandle

const before = (a: Entry, b: Entry): boolean => a.due < b.due || (a.due === b.due && a.seq < b.seq)

/** The scheduler of one `Clock` instance. */
class Scheduler {
  readonly heap: Array<Entry> = []
  /** Registered (not cancelled) entries, pending or firing. */
  live = 0
  seq = 0
  driver: Fiber.RuntimeFiber<void> | undefined = undefined
  /** The instant the driver sleeps until (Infinity while idle or not running). */
  target = Number.POSITIVE_INFINITY
  /** Resumes the driver while it waits idle (nothing pending). */
  idle: (() => void) | undefined = undefined
  readonly loop: Effect.Effect<void>

  constructor(
    readonly clock: Clock.Clock,
    readonly scope: Scope.CloseableScope,
    /**
     * The supervisor of the fiber that made the scheduler: every driver runs under it, not
     * under that of whichever caller replaced the last one (a test's leak check would count
     * as its own a driver that goes on for another service's timers).
     */
    readonly supervisor: Supervisor.Supervisor<unknown>
  ) {
    this.loop = this.current(() => this.step(this.now()))
  }

  now(): number {
    return millisOf(this.clock.unsafeCurrentTimeNanos())
  }

  /** The last timer went: no fiber is left. */
  close(): Effect.Effect<void> {
    if (schedulers.get(this.clock) === this) schedulers.delete(this.clock)
    this.driver = undefined
    this.idle = undefined
    return Scope.close(this.scope, Exit.void)
  }

  // --- the heap ----------------------------------------------------------------------------
  push(e: Entry): void {
    e.seq = this.seq++
    e.index = this.heap.length
    this.heap.push(e)
    this.sift(e.index)
  }

  remove(e: Entry): void {
    const i = e.index
    if (i < 0) return
    const last = this.heap.pop()!
    e.index = -1
    if (last !== e) {
      this.heap[i] = last
      last.index = i
      this.sift(i)
    }
  }

  /** Moves the entry at `i` up or down to where it belongs. */
  private sift(i: number): void {
    const heap = this.heap
    const e = heap[i]!
    for (let j = this.towards(i, e); j >= 0; j = this.towards(i, e)) {
      const moved = heap[j]!
      heap[i] = moved
      moved.index = i
      i = j
    }
    heap[i] = e
    e.index = i
  }

  /** Where `e`, at `i`, has to swap to: its parent if it is due before it, else its earliest child if that is due before it, else -1. */
  private towards(i: number, e: Entry): number {
    const heap = this.heap
    if (i > 0 && before(e, heap[(i - 1) >> 1]!)) return (i - 1) >> 1
    const l = 2 * i + 1
    if (l >= heap.length) return -1
    const c = l + 1 < heap.length && before(heap[l + 1]!, heap[l]!) ? l + 1 : l
    return before(heap[c]!, e) ? c : -1
  }

  /** Runs `f` on the current driver; a replaced driver (interrupted meanwhile) just ends. */
  private current(f: () => Effect.Effect<void>): Effect.Effect<void> {
    return Effect.withFiberRuntime((fiber) => fiber === this.driver ? f() : Effect.void)
  }

  // --- the driver --------------------------------------------------------------------------
  /**
   * Fires every entry due by `reached` (a completed sleep until an instant counts as having
   * reached it, as a timer's own sleep did), then sleeps until the next one.
   */
  private step(reached: number): Effect.Effect<void> {
    this.target = Number.NEGATIVE_INFINITY // running: it looks at the heap again before sleeping
    const heap = this.heap
    let due: Array<Effect.Effect<void>> | undefined
    while (heap.length > 0 && heap[0]!.due <= reached) {
      const e = heap[0]!
      this.remove(e)
      ;(due ??= []).push(e.owner.fire)
    }
    return due === undefined ? this.sleep() : Effect.zipRight(Effect.all(due, { discard: true }), this.loop)
  }

  private sleep(): Effect.Effect<void> {
    if (this.heap.length === 0) {
      this.target = Number.POSITIVE_INFINITY
      return Effect.zipRight(
        Effect.async<void>((resume) => {
          this.idle = () => resume(Effect.void)
          return Effect.sync(() => {
            this.idle = undefined
          })
        }),
        this.loop
      )
    }
    const due = this.heap[0]!.due
    const millis = due - this.now()
    if (millis > MAX_SLEEP_MILLIS) {
      this.target = this.now() + MAX_SLEEP_MILLIS
      return Effect.zipRight(Effect.sleep(Duration.millis(MAX_SLEEP_MILLIS)), this.loop)
    }
    this.target = due
    return Effect.zipRight(
      Effect.sleep(Duration.millis(Math.max(0, millis))),
      this.current(() => this.step(Math.max(this.now(), due)))
    )
  }

  /** Makes sure the driver will wake for `due`: starts it, wakes it from idle or restarts it. */
  wakeFor(due: number): Effect.Effect<void> {
    if (this.driver !== undefined) {
      if (this.idle !== undefined) {
        const idle = this.idle
        this.idle = undefined
        idle()
        return Effect.void
      }
      if (due >= this.target) return Effect.void
      // Earlier than the instant the driver sleeps until: a new driver replaces it.
      this.driver.unsafeInterruptAsFork(FiberId.none)
    }
    this.target = Number.NEGATIVE_INFINITY
    // Interruptible whatever the caller's region: closing the scope must be able to end it.
    const fork = Effect.map(Effect.forkIn(Effect.interruptible(this.loop), this.scope), (fiber) => {
      this.driver = fiber
    })
    // Under another supervisor only when the caller's differs: setting a ref on the caller (and
    // setting it back) would change the refs a start shares between its services' timers.
    return Effect.withFiberRuntime((fiber) =>
      fiber.getFiberRef(FiberRef.currentSupervisor) === this.supervisor
        ? fork
        : Effect.locally(fork, FiberRef.currentSupervisor, this.supervisor)
    )
  }
}

const schedulers = new WeakMap<Clock.Clock, Scheduler>()

/**
 * Registers a timer with the scheduler of the calling fiber's `Clock`, made on demand.
 * `owner.fire` is read and run on the driver fiber when the timer is due: it must only start
 * the tick's work (fork it), never wait for it.
 */
export const register = (owner: Fires): Effect.Effect<TimerHandle> =>
  Effect.withFiberRuntime((fiber) => {
    const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
    const existing = schedulers.get(clock)
    const made = existing === undefined
      ? Effect.map(Scope.make(), (scope) => {
        // Another fiber cannot run between the check and here: Scope.make is synchronous.
        const scheduler = schedulers.get(clock) ?? new Scheduler(clock, scope, fiber.getFiberRef(FiberRef.currentSupervisor))
        schedulers.set(clock, scheduler)
        return scheduler
      })
      : Effect.succeed(existing)
    return Effect.map(made, (scheduler) => {
      scheduler.live++
      return new TimerHandle(scheduler, owner)
    })
  })

/**
 * `register`, at once, when the scheduler of `clock` exists already (undefined when it does not).
 *
 * @internal
 */
export const registerNow = (clock: Clock.Clock, owner: Fires): TimerHandle | undefined => {
  const scheduler = schedulers.get(clock)
  if (scheduler === undefined) return undefined
  scheduler.live++
  return new TimerHandle(scheduler, owner)
}

/** @internal for tests: how many timers the scheduler of the calling fiber's clock holds. */
export const registeredCount: Effect.Effect<number> = Effect.withFiberRuntime((fiber) =>
  Effect.succeed(schedulers.get(Context.get(fiber.currentDefaultServices, Clock.Clock))?.live ?? 0)
)
