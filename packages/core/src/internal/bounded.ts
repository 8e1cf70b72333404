import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

/**
 * Runs `effect` with a deadline that holds even inside an uninterruptible region and even
 * when `effect` itself is stuck in uninterruptible code: at the deadline the effect is
 * interrupted in the background (not awaited) and the caller goes on with a
 * `TimeoutException` naming the step.
 */
export const bounded = <A, E>(
  effect: Effect.Effect<A, E>,
  deadline: Duration.Duration | undefined,
  what: string
): Effect.Effect<A | void, E | Error> => {
  const body = Effect.interruptible(effect)
  if (deadline === undefined) return body
  return Effect.interruptible(Effect.disconnect(body)).pipe(
    Effect.timeoutFail({
      duration: deadline,
      onTimeout: () => new Error(`${what} did not finish within ${Duration.format(deadline)}; interrupted`)
    })
  )
}
