/**
 * mode's Timer: ticks every `interval`, the first after one interval, fixed delay after the
 * consumer of a tick finishes; late or early wake-ups are corrected by at most
 * `maxDriftCorrection`; a consumer that outlasts the interval counts (and logs) an overlap.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import * as internal from "./internal/timer.js"

/**
 * Options of a timer.
 *
 * @example
 * ```ts
 * import type { Timer } from "@effect-mode/core"
 *
 * const options: Timer.Options = { name: "flush", maxDriftCorrection: "50 millis" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly name?: string
  /** Default "100 millis". */
  readonly maxDriftCorrection?: Duration.DurationInput
}

/**
 * Counters of a timer.
 *
 * @example
 * ```ts
 * import type { Timer } from "@effect-mode/core"
 *
 * const late = (s: Timer.Stats) => s.driftingLate
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  readonly iteration: number
  readonly drifting: number
  readonly driftingEarly: number
  readonly driftingLate: number
  readonly overlaps: number
}

/**
 * A timer: `ticks` is a pull-based stream with one element per tick (the time slept
 * before it); the timer sleeps only when the consumer asks for the next tick.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Timer } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const timer = yield* Timer.make("1 second", { name: "poll" })
 *   yield* timer.ticks.pipe(Stream.take(3), Stream.runForEach(() => Effect.log("tick")))
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Timer {
  readonly name: string
  readonly interval: Duration.Duration
  readonly stats: Effect.Effect<Stats>
  readonly ticks: Stream.Stream<Duration.Duration>
}

/**
 * Makes a timer. An invalid interval or option throws, naming the bad value.
 *
 * @example
 * ```ts
 * import { Timer } from "@effect-mode/core"
 *
 * const timer = Timer.make("500 millis", { name: "heartbeat" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (interval: Duration.DurationInput, options?: Options) => Effect.Effect<Timer> = internal.make
