import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type * as Timer from "../Timer.js"

// PLACEHOLDER: replaced by the full Timer implementation (issue 3).
export const make = (interval: Duration.DurationInput, options: Timer.Options = {}): Effect.Effect<Timer.Timer> =>
  Effect.sync(() => {
    const d = Duration.decode(interval)
    return {
      name: options.name ?? "timer",
      interval: d,
      stats: Effect.succeed({ iteration: 0, drifting: 0, driftingEarly: 0, driftingLate: 0, overlaps: 0 }),
      ticks: Stream.repeatEffect(Effect.as(Effect.sleep(d), d))
    }
  })
