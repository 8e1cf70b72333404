/**
 * The clock of a virtual-time world. It implements Effect's `TestClock` interface, so it can
 * stand in for the TestClock (`TestClock.adjust`, `setTime`, `sleeps`, `Clock`, `Effect.sleep`
 * read it from the same place). Time only moves in `step`, which the world calls when every
 * fiber is idle: wake every sleep due at the next instant, or end an `adjust` / `setTime`.
 */
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as TestClock from "effect/TestClock"
import { type Sleep, Sleeps } from "./sleeps.js"

/** A fiber waiting in `adjust` or `setTime` for time to reach `target`. */
interface Waiter {
  readonly target: number
  readonly resume: () => void
}

/** @internal */
export class VirtualClock implements TestClock.TestClock {
  readonly [Clock.ClockTypeId]: Clock.ClockTypeId = Clock.ClockTypeId
  private readonly pending = new Sleeps()
  private waiters: Array<Waiter> = []

  /**
   * @param now the starting time (epoch millis)
   * @param kick called when a sleep or a waiter is added, so an idle world looks again
   */
  constructor(public now: number, private readonly kick: () => void) {}

  unsafeCurrentTimeMillis(): number {
    return this.now
  }

  unsafeCurrentTimeNanos(): bigint {
    return BigInt(Math.floor(this.now * 1_000_000))
  }

  readonly currentTimeMillis: Effect.Effect<number> = Effect.sync(() => this.now)

  readonly currentTimeNanos: Effect.Effect<bigint> = Effect.sync(() => this.unsafeCurrentTimeNanos())

  sleep(duration: Duration.Duration): Effect.Effect<void> {
    return Effect.suspend(() => {
      const end = this.now + Duration.toMillis(duration)
      if (!(end > this.now)) return Effect.void
      return Effect.async<void>((resume) => {
        const sleep: Sleep = this.pending.add(end, () => resume(Effect.void))
        this.kick()
        return Effect.sync(() => this.pending.cancel(sleep))
      })
    })
  }

  adjust(duration: Duration.DurationInput): Effect.Effect<void> {
    const millis = Duration.toMillis(Duration.decode(duration))
    return Effect.suspend(() => this.advanceTo(this.now + millis))
  }

  adjustWith(duration: Duration.DurationInput) {
    return <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.zipLeft(effect, this.adjust(duration), { concurrent: true })
  }

  /** Restores the time only: the sleeps belong to fibers that are still waiting. */
  readonly save: Effect.Effect<Effect.Effect<void>> = Effect.sync(() => {
    const saved = this.now
    return Effect.sync(() => {
      this.now = saved
    })
  })

  setTime(time: number): Effect.Effect<void> {
    return this.advanceTo(time)
  }

  /** The due times of the pending sleeps, earliest first (interrupted sleeps are not listed). */
  readonly sleeps: Effect.Effect<Chunk.Chunk<number>> = Effect.sync(() => Chunk.fromIterable(this.pending.times()))

  /** How many sleeps are pending. */
  get pendingSleeps(): number {
    return this.pending.live
  }

  /** The due times of the pending sleeps, earliest first. */
  pendingTimes(): Array<number> {
    return this.pending.times()
  }

  /** Suspends the caller until the world is idle and time has reached `target` (running every sleep due on the way). */
  private advanceTo(target: number): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      const waiter: Waiter = { target, resume: () => resume(Effect.void) }
      this.waiters.push(waiter)
      this.kick()
      return Effect.sync(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter)
      })
    })
  }

  /**
   * Called when every fiber is idle: moves time to the next instant something is due (a
   * sleep, or the earliest waiter's target) and wakes it. Without a waiter, only `auto`
   * lets it jump to the next sleep. False when nothing was due (time did not move).
   */
  step(auto: boolean): boolean {
    const next = this.pending.peek()
    let waiter: Waiter | undefined
    for (const w of this.waiters) if (waiter === undefined || w.target < waiter.target) waiter = w
    if (next !== undefined && (waiter !== undefined ? next.time <= waiter.target : auto && next.time !== Infinity)) {
      this.now = next.time
      for (const wake of this.pending.takeDue(next.time)) wake()
      return true
    }
    if (waiter !== undefined) {
      this.now = waiter.target
      this.waiters = this.waiters.filter((w) => w !== waiter)
      waiter.resume()
      return true
    }
    return false
  }
}
