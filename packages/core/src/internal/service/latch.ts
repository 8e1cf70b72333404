/**
 * Latch: a one-shot gate that fibers can wait on. It replaces the lazily made Deferreds
 * of the lifecycle (the stop signal, the shutdown signal, a start or stop in flight): a
 * Deferred weighs about 0.75 KB and most services never wait on their latches, so the
 * Deferred is made only when a fiber first waits, and is already done if the latch is open.
 *
 * @internal
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"

/** @internal */
export class Latch {
  isOpen = false
  private deferred: Deferred.Deferred<void> | undefined = undefined

  /** Opens the latch: every fiber waiting goes on, and later waits return at once. */
  open(): void {
    if (this.isOpen) return
    this.isOpen = true
    if (this.deferred !== undefined) Deferred.unsafeDone(this.deferred, Exit.void)
  }

  /** Waits until the latch is open (at once when it is). */
  get await(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.isOpen) return Effect.void
      return Deferred.await(this.deferred ??= Deferred.unsafeMake(FiberId.none))
    })
  }
}
