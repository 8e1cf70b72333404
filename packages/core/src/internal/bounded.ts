/**
 * A stop step with a deadline that holds even inside an uninterruptible region and even
 * when the step itself is stuck in uninterruptible code.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ServiceError from "../ServiceError.js"

/**
 * Runs `effect` with a deadline: at the deadline the effect is interrupted in the
 * background (not awaited) and the caller goes on with a `StopTimeout` naming the step.
 *
 * @internal
 */
export const bounded = <A, E>(
  effect: Effect.Effect<A, E>,
  deadline: Duration.Duration | undefined,
  label: string,
  step: string
): Effect.Effect<A | void, E | ServiceError.StopTimeout> => {
  const body = Effect.interruptible(effect)
  if (deadline === undefined) return body
  return Effect.interruptible(Effect.disconnect(body)).pipe(
    Effect.timeoutFail({
      duration: deadline,
      onTimeout: () => new ServiceError.StopTimeout({ label, step, timeoutMillis: Duration.toMillis(deadline) })
    })
  )
}
