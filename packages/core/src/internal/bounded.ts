/**
 * A stop step with a deadline that holds even inside an uninterruptible region and even
 * when the step itself is stuck in uninterruptible code.
 *
 * @internal
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as ServiceError from "../ServiceError.js"

/**
 * The signal that cuts the stop steps in flight (`Service.withStopCut`): when it completes,
 * each step then running is interrupted in the background and its stop goes on, as at a
 * `stopTimeout`; steps that begin afterwards run as usual. Forked fibers inherit it.
 *
 * @internal
 */
export const stopCut: FiberRef.FiberRef<Deferred.Deferred<void> | undefined> = FiberRef.unsafeMake<
  Deferred.Deferred<void> | undefined
>(undefined)

/** @internal */
export const withStopCut = <A, E, R>(self: Effect.Effect<A, E, R>, cut: Deferred.Deferred<void>): Effect.Effect<A, E, R> =>
  Effect.locally(self, stopCut, cut)

/**
 * Runs `effect` with a deadline: at the deadline the effect is interrupted in the
 * background (not awaited) and the caller goes on with a `StopTimeout` naming the step.
 * With `cut` (the stop's `stopCut`, read once by the stop), the same happens when `cut`
 * completes while the step runs; a step that begins after it is not cut.
 *
 * @internal
 */
export const bounded = <A, E>(
  effect: Effect.Effect<A, E>,
  deadline: Duration.Duration | undefined,
  label: string,
  step: string,
  cut: Deferred.Deferred<void> | undefined
): Effect.Effect<A | void, E | ServiceError.StopTimeout> => {
  const body = Effect.interruptible(effect)
  if (deadline === undefined && cut === undefined) return body
  const disconnected = Effect.interruptible(Effect.disconnect(body))
  const timed = deadline === undefined ? disconnected : Effect.timeoutFail(disconnected, {
    duration: deadline,
    onTimeout: () => new ServiceError.StopTimeout({ label, step, timeoutMillis: Duration.toMillis(deadline) })
  })
  if (cut === undefined) return timed
  return Effect.flatMap(Deferred.isDone(cut), (done) =>
    done ? timed : Effect.clockWith((clock) => {
      const began = clock.unsafeCurrentTimeMillis()
      // Cut: the step had run this long when the signal came.
      const cutShort = Effect.zipRight(
        Deferred.await(cut),
        Effect.suspend(() =>
          Effect.fail(new ServiceError.StopTimeout({ label, step, timeoutMillis: clock.unsafeCurrentTimeMillis() - began }))
        )
      )
      // Both sides interruptible: a stop runs in an uninterruptible region, and the race
      // waits for its loser to end.
      return Effect.raceFirst(timed, Effect.interruptible(cutShort))
    }))
}
