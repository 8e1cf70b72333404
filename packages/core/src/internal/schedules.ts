import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type * as Service from "../Service.js"
import type * as Timer from "../Timer.js"

// PLACEHOLDER: replaced by the full timer/crontab tasks (issue 3).
export const timer = <E, R>(
  interval: Duration.DurationInput,
  fn: (self: Service.Service) => Effect.Effect<void, E, R>,
  options: Service.TimerTaskOptions = {}
): Service.Task<E, R> => ({
  _tag: "Task",
  name: options.name,
  onError: options.onError ?? "crash",
  run: (self) => Effect.asVoid(Effect.schedule(Effect.suspend(() => fn(self)), Schedule.spaced(interval)))
})

export const crontab = <E, R>(
  _cronFormat: string,
  _fn: (self: Service.Service) => Effect.Effect<void, E, R>,
  _options: Service.CrontabTaskOptions = {}
): Service.Task<E, R> => {
  throw new Error("Service.crontab is not implemented yet")
}

export const itertimer = (
  self: Service.Service,
  interval: Duration.DurationInput,
  _options: Timer.Options = {}
): Stream.Stream<Duration.Duration> =>
  Stream.repeatEffect(Effect.as(self.sleep(interval), Duration.decode(interval))).pipe(
    Stream.takeUntilEffect(() => self.shouldStop)
  )
