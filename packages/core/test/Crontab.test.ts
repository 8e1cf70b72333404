import { describe, expect } from "@effect/vitest"
import { Clock, Effect, TestClock } from "effect"
import { Crontab, Service } from "@effect-mode/core"
import { it } from "./support/it.js"
import { type Captured, captureLogs } from "./support/logs.js"

const Y2K = Date.parse("2000-01-01T00:00:00Z")
const iso = (millis: number) => new Date(millis).toISOString()

/** The next `n` runs of `tab` after `from`, as ISO strings. */
const runs = (tab: Crontab.Crontab, from: string, n: number): Array<string> => {
  const out: Array<string> = []
  let t = Date.parse(from)
  for (let i = 0; i < n; i++) {
    t = Crontab.next(tab, t).getTime()
    out.push(iso(t))
  }
  return out
}

/** A crontab service whose job records the Clock time (ISO) of each run, then runs `work`. */
const cronService = (
  calls: Array<string>,
  format: string,
  options: Service.CrontabTaskOptions = {},
  work: Effect.Effect<void, unknown> = Effect.void
) =>
  Service.make("Cron", {
    tasks: [
      Service.crontab(format, () =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          calls.push(iso(now))
          return work
        }), options)
    ]
  })

describe("Crontab.secsForNext", () => {
  it.effect("\"0 20 * * *\" at 2000-01-01T00:00Z: 20 h in UTC, 4 h in America/Los_Angeles", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Y2K)
      expect(yield* Crontab.secsForNext("0 20 * * *")).toBe(20 * 3600)
      expect(yield* Crontab.secsForNext("0 20 * * *", { timezone: "America/Los_Angeles" })).toBe(4 * 3600)
      yield* TestClock.adjust("30 minutes")
      expect(yield* Crontab.secsForNext(Crontab.unsafeParse("0 20 * * *"))).toBe(19.5 * 3600)
    }))

  it.effect("reads the time from Clock: a time that matches now counts from the next match", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2000-01-01T20:00:00Z"))
      expect(yield* Crontab.secsForNext("0 20 * * *")).toBe(24 * 3600)
      yield* TestClock.setTime(Date.parse("2000-01-01T19:59:59.250Z"))
      expect(yield* Crontab.secsForNext("0 20 * * *")).toBe(0.75)
    }))
})

describe("Service.crontab", () => {
  it.effect("fires after 20 h in UTC", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Y2K)
      const calls: Array<string> = []
      const svc = yield* cronService(calls, "0 20 * * *")
      yield* svc.start
      yield* TestClock.adjust("19 hours")
      yield* TestClock.adjust("59 minutes")
      yield* TestClock.adjust("59 seconds")
      expect(calls).toEqual([])
      yield* TestClock.adjust("1 second")
      expect(calls).toEqual(["2000-01-01T20:00:00.000Z"])
      yield* svc.stop
    }))

  it.effect("fires after 4 h in America/Los_Angeles", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Y2K)
      const calls: Array<string> = []
      const svc = yield* cronService(calls, "0 20 * * *", { timezone: "America/Los_Angeles" })
      yield* svc.start
      yield* TestClock.adjust("4 hours")
      expect(calls).toEqual(["2000-01-01T04:00:00.000Z"])
      yield* TestClock.adjust("24 hours")
      expect(calls).toEqual(["2000-01-01T04:00:00.000Z", "2000-01-02T04:00:00.000Z"])
      yield* svc.stop
    }))

  it.effect("never runs twice for one scheduled time, even when the job takes no time", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Y2K)
      const calls: Array<string> = []
      const svc = yield* cronService(calls, "* * * * * *") // every second
      yield* svc.start
      yield* TestClock.adjust("3 seconds")
      expect(calls).toEqual(["2000-01-01T00:00:01.000Z", "2000-01-01T00:00:02.000Z", "2000-01-01T00:00:03.000Z"])
      yield* svc.stop
    }))

  it.effect("the next run is computed after the job: no catch-up of runs missed while it ran", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Y2K)
      const calls: Array<string> = []
      const svc = yield* cronService(calls, "*/10 * * * *", {}, Effect.sleep("25 minutes"))
      yield* svc.start
      yield* TestClock.adjust("1 hour")
      expect(calls).toEqual(["2000-01-01T00:10:00.000Z", "2000-01-01T00:40:00.000Z"])
      yield* svc.stop
    }))

  it.effect("follows TestClock.setTime", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Y2K)
      const calls: Array<string> = []
      const svc = yield* cronService(calls, "0 0 1 * *") // monthly
      yield* svc.start
      yield* TestClock.setTime(Date.parse("2000-02-01T00:00:00Z"))
      expect(calls).toEqual(["2000-02-01T00:00:00.000Z"])
      yield* svc.stop
    }))

  it.effect("onError: log keeps the schedule; crash (the default) crashes the service", () => {
    const lines: Array<Captured> = []
    return captureLogs(
      Effect.gen(function*() {
        yield* TestClock.setTime(Y2K)
        const calls: Array<string> = []
        const logged = yield* cronService(calls, "0 * * * *", { onError: "log", name: "hourly" }, Effect.fail("nope"))
        yield* logged.start
        yield* TestClock.adjust("3 hours")
        expect(calls).toHaveLength(3)
        expect(yield* logged.state).toBe("running")
        expect(lines.filter((l) => l.level === "ERROR" && l.message.startsWith("Crontab hourly failed"))).toHaveLength(3)
        yield* logged.stop

        const crashed: Array<string> = []
        const fragile = yield* cronService(crashed, "0 * * * *", {}, Effect.fail("nope"))
        yield* fragile.start
        yield* TestClock.adjust("3 hours")
        expect(crashed).toHaveLength(1)
        expect(yield* fragile.state).toBe("crashed")
        yield* fragile.stop
      }),
      lines
    )
  })

  it.plain("croniter's shorthands (@yearly ... @hourly) and the time zone named GMT", () => {
    const from = "2000-03-15T10:30:00Z"
    expect(runs(Crontab.unsafeParse("@hourly"), from, 2)).toEqual(["2000-03-15T11:00:00.000Z", "2000-03-15T12:00:00.000Z"])
    expect(runs(Crontab.unsafeParse("@daily"), from, 1)).toEqual(["2000-03-16T00:00:00.000Z"])
    expect(runs(Crontab.unsafeParse("@midnight"), from, 1)).toEqual(["2000-03-16T00:00:00.000Z"])
    expect(runs(Crontab.unsafeParse("@weekly"), from, 1)).toEqual(["2000-03-19T00:00:00.000Z"]) // a Sunday
    expect(runs(Crontab.unsafeParse("@monthly"), from, 1)).toEqual(["2000-04-01T00:00:00.000Z"])
    expect(runs(Crontab.unsafeParse("@yearly"), from, 1)).toEqual(["2001-01-01T00:00:00.000Z"])
    expect(runs(Crontab.unsafeParse("@Annually"), from, 1)).toEqual(["2001-01-01T00:00:00.000Z"])
    expect(runs(Crontab.unsafeParse("0 20 * * *", { timezone: "GMT" }), from, 1)).toEqual(["2000-03-15T20:00:00.000Z"])
    expect(runs(Crontab.unsafeParse("0 20 * * *", { timezone: "GMT+02:00" }), from, 1)).toEqual(["2000-03-15T18:00:00.000Z"])
  })

  it.plain("an invalid expression or time zone throws when declared, naming it", () => {
    expect(() => Service.crontab("61 * * * *", () => Effect.void)).toThrow(/Invalid cron expression "61 \* \* \* \*"/)
    expect(() => Service.crontab("every day", () => Effect.void)).toThrow(/"every day"/)
    expect(() => Service.crontab("0 20 * * *", () => Effect.void, { timezone: "Mars/Base" })).toThrow(
      /Invalid time zone "Mars\/Base" for cron expression "0 20 \* \* \*"/
    )
    expect(() => Service.crontab("0 0 30 2 *", () => Effect.void)).toThrow(/"0 0 30 2 \*": it never matches/)
    expect(() => Service.crontab("0 * * * *", () => Effect.void, { onError: "retry" as "log" })).toThrow(/"retry"/)
    expect(() => Crontab.secsForNext("@fortnightly")).toThrow(/"@fortnightly"/)
    expect(() => Crontab.unsafeParse("0 9 * * *", { timezone: "Europe/Pariss" })).toThrow(/"Europe\/Pariss"/)
  })
})

describe("daylight-saving changes (America/New_York)", () => {
  const NY = { timezone: "America/New_York" }

  it.plain("spring forward (2024-03-10, 02:00 → 03:00): a skipped time runs once, just after the gap", () => {
    expect(runs(Crontab.unsafeParse("30 2 * * *", NY), "2024-03-09T12:00:00Z", 3)).toEqual([
      "2024-03-10T07:30:00.000Z", // 03:30 EDT: 02:30 does not exist that day
      "2024-03-11T06:30:00.000Z", // 02:30 EDT
      "2024-03-12T06:30:00.000Z"
    ])
    expect(runs(Crontab.unsafeParse("0 9 * * *", NY), "2024-03-09T12:00:00Z", 2)).toEqual([
      "2024-03-09T14:00:00.000Z", // 09:00 EST
      "2024-03-10T13:00:00.000Z" // 09:00 EDT
    ])
    expect(runs(Crontab.unsafeParse("0 * * * *", NY), "2024-03-10T05:30:00Z", 3)).toEqual([
      "2024-03-10T06:00:00.000Z", // 01:00 EST
      "2024-03-10T07:00:00.000Z", // 03:00 EDT
      "2024-03-10T08:00:00.000Z" // 04:00 EDT
    ])
  })

  it.plain("fall back (2024-11-03, 02:00 → 01:00): a repeated time runs once", () => {
    expect(runs(Crontab.unsafeParse("30 1 * * *", NY), "2024-11-02T12:00:00Z", 2)).toEqual([
      "2024-11-03T05:30:00.000Z", // 01:30 EDT, not again at 01:30 EST
      "2024-11-04T06:30:00.000Z"
    ])
    expect(runs(Crontab.unsafeParse("0 * * * *", NY), "2024-11-03T04:30:00Z", 3)).toEqual([
      "2024-11-03T05:00:00.000Z", // 01:00 EDT
      "2024-11-03T07:00:00.000Z", // 02:00 EST: 01:00 EST is the same local time
      "2024-11-03T08:00:00.000Z"
    ])
  })

  it.effect("a service across the spring-forward day runs each hour once", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2024-03-10T04:30:00Z"))
      const calls: Array<string> = []
      const svc = yield* cronService(calls, "0 * * * *", NY)
      yield* svc.start
      yield* TestClock.adjust("4 hours")
      expect(calls).toEqual([
        "2024-03-10T05:00:00.000Z", // 00:00 EST
        "2024-03-10T06:00:00.000Z", // 01:00 EST
        "2024-03-10T07:00:00.000Z", // 03:00 EDT
        "2024-03-10T08:00:00.000Z" // 04:00 EDT
      ])
      yield* svc.stop
    }))

  it.effect("a service across the fall-back day does not rerun a repeated time", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2024-11-03T05:00:00Z")) // 01:00 EDT
      const calls: Array<string> = []
      // The job takes 45 minutes: it ends at 01:15 EST, before the second 01:30.
      const svc = yield* cronService(calls, "30 1 * * *", NY, Effect.sleep("45 minutes"))
      yield* svc.start
      yield* TestClock.adjust("3 hours")
      expect(calls).toEqual(["2024-11-03T05:30:00.000Z"])
      yield* TestClock.adjust("1 day")
      expect(calls).toEqual(["2024-11-03T05:30:00.000Z", "2024-11-04T06:30:00.000Z"])
      yield* svc.stop
    }))

  it.plain("a first run inside the repeated hour still finds the second occurrence", () => {
    expect(runs(Crontab.unsafeParse("30 1 * * *", NY), "2024-11-03T06:10:00Z", 1)).toEqual(["2024-11-03T06:30:00.000Z"])
  })
})
