/**
 * The supervisor's mailbox: the events of its children (on their fibers), taken one at a
 * time by its loop. Offering is synchronous, and a loop that waits is resumed directly: no
 * Deferred per wait, as `Queue.take` on an empty queue makes.
 *
 * @internal
 */
import * as Effect from "effect/Effect"

/** @internal */
export class Mailbox<A> {
  private items: Array<A> = []
  private head = 0
  private waiting: ((effect: Effect.Effect<A>) => void) | undefined = undefined

  /** Hands `item` to the waiting loop, or keeps it for the next take. */
  offer(item: A): void {
    const waiting = this.waiting
    if (waiting !== undefined) {
      this.waiting = undefined
      waiting(Effect.succeed(item))
      return
    }
    this.items.push(item)
  }

  /** The oldest item, waiting for one when there is none (one taker at a time: the loop). */
  get take(): Effect.Effect<A> {
    return Effect.suspend(() => {
      if (this.head < this.items.length) return Effect.succeed(this.shift())
      return Effect.async<A>((resume) => {
        this.waiting = resume
        return Effect.sync(() => {
          if (this.waiting === resume) this.waiting = undefined
        })
      })
    })
  }

  /** Drops every item kept (a new run of the supervisor does not see the last one's). */
  clear(): void {
    this.items = []
    this.head = 0
  }

  private shift(): A {
    const item = this.items[this.head]!
    this.items[this.head++] = undefined as A
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }
}
