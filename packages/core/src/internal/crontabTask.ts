/**
 * `Service.crontab`: mode's `@Service.crontab`. The loop reads the time from `Clock`,
 * sleeps until the next run (in steps of at most a day: timers cannot sleep past 24.8 days,
 * and a jump of the wall clock is noticed within a day), checks the stop signal and calls
 * `fn`. The next run is computed after the call, strictly after the last one and for a later
 * local time: one scheduled time never runs twice, and runs missed meanwhile are skipped.
 * In a service's run the wait is an entry of the clock's timer scheduler (scheduledTask.ts),
 * not a sleeping fiber; the wall clock is read again when it is due.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Crontab from "../Crontab.js"
import type * as Service from "../Service.js"
import * as cron from "./cron.js"
import { show } from "./options.js"
import { activeRun, registerOn, type Schedule, scheduled, type Ticks } from "./scheduledTask.js"
import { MAX_SLEEP_MILLIS, sleepUntil } from "./sleep.js"
import { make as makeTask, type ScheduleOn } from "./service/task.js"
import { callWith } from "./timerTask.js"

/** Runs `call` at every time `tab` matches, until the service stops. */
export const runCrontab = <E, R>(
  self: Service.Service,
  tab: Crontab.Crontab,
  call: Effect.Effect<void, E, R>
): Effect.Effect<void, E, R> => {
  let lastInstant = Number.NEGATIVE_INFINITY
  let lastWall = Number.NEGATIVE_INFINITY
  let forever: Effect.Effect<void, E, R> = Effect.void
  const again = Effect.suspend(() => forever)
  const callThenAgain = Effect.zipRight(call, again)
  forever = Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const next = cron.nextRun(tab, Math.max(now, lastInstant), lastWall)
    return Effect.zipRight(
      sleepUntil(next.instant),
      Effect.flatMap(self.shouldStop, (stop) => {
        if (stop) return Effect.void
        lastInstant = next.instant
        lastWall = next.wall
        return callThenAgain
      })
    )
  })
  return forever
}

/** In steps of at most a day, as `sleepUntil`: a jump of the wall clock is noticed within a day. */
const waitFor = (slot: Schedule, instant: number, now: number): Effect.Effect<void> =>
  slot.schedule(Math.min(instant - now, MAX_SLEEP_MILLIS))

/** The crontab's ticks on the scheduler (the same steps as `runCrontab`). */
const onScheduler = <E, R>(self: Service.Service, tab: Crontab.Crontab, call: Effect.Effect<void, E, R>) =>
(slot: Schedule): Ticks<E, R> => {
  let lastInstant = Number.NEGATIVE_INFINITY
  let lastWall = Number.NEGATIVE_INFINITY
  let next: cron.Run | undefined
  const planNext = Effect.flatMap(Clock.currentTimeMillis, (now) => {
    next = cron.nextRun(tab, Math.max(now, lastInstant), lastWall)
    return waitFor(slot, next.instant, now)
  })
  const tick = Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const due = next!
    if (now < due.instant) return waitFor(slot, due.instant, now)
    return Effect.flatMap(self.shouldStop, (stop) => {
      if (stop) return Effect.void
      lastInstant = due.instant
      lastWall = due.wall
      return Effect.zipRight(call, planNext)
    })
  })
  return { start: planNext, tick }
}

export const crontab = <E, R>(
  cronFormat: string,
  fn: (self: Service.Service) => Effect.Effect<void, E, R>,
  options?: Service.CrontabTaskOptions
): Service.Task<E, R> => {
  const what = `Service.crontab(${show(cronFormat)})`
  const checked = cron.cronOptions(options, what, ["name", "onError", "timezone"])
  const tab = cron.parseIn(cronFormat, checked.timezone)
  // Registered by the start itself, with no fiber until it is due.
  const scheduleOn: ScheduleOn = (s, run, name, onError, refs, fiber) =>
    registerOn(s, run, name, refs, fiber, onScheduler(s, tab, callWith(s, fn, "Crontab", name, onError) as Effect.Effect<void>))
  return makeTask(`Service.crontab ${JSON.stringify(cronFormat)}`, "crontab", fn, checked, (self, name, onError) =>
    Effect.suspend(() => {
      const call = callWith(self, fn, "Crontab", name, onError)
      const run = activeRun(self)
      return run === undefined ? runCrontab(self, tab, call) : scheduled(self, run, name, onScheduler(self, tab, call))
    }), scheduleOn)
}
