import { describe, expect } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { Crontab, Service, Timer } from "@effect-mode/core"
import { it } from "../support/it.js"

const thrown = (f: () => unknown): string | undefined => {
  try { f() } catch (e) { return String((e as Error).message) }
  return undefined
}
const thrownEff = (f: () => Effect.Effect<unknown>): string | undefined => {
  try { Effect.runSync(f() as Effect.Effect<unknown>) } catch (e) { return "THROWN:" + String((e as Error).message) }
  return undefined
}

describe("bad input", () => {
  it.plain("Timer.make intervals", () => {
    const cases: Array<unknown> = [0, -1, NaN, Infinity, -Infinity, "garbage", "", "5", "-5 seconds", " -1 millis", "5 parsecs", null, {}, [1, NaN], [-1, 0], [Infinity, 0], 1e400, -0, "NaN millis", "Infinity seconds", "1e3 millis", Duration.infinity]
    const out: Record<string, string | undefined> = {}
    for (const c of cases) out[String(c) + ":" + typeof c] = thrown(() => Timer.make(c as any))
    console.log("TIMER.MAKE", JSON.stringify(out, null, 1))
  })
  it.plain("Service.timer intervals", () => {
    const cases: Array<unknown> = [0, -1, NaN, Infinity, "garbage", "", "-5 seconds", null, Duration.infinity]
    const out: Record<string, string | undefined> = {}
    for (const c of cases) out[String(c) + ":" + typeof c] = thrown(() => Service.timer(c as any, () => Effect.void, { name: "t" }))
    console.log("SERVICE.TIMER", JSON.stringify(out, null, 1))
  })
  it.plain("maxDriftCorrection", () => {
    const cases: Array<unknown> = [0, -1, NaN, Infinity, "garbage", "-5 millis", null, "2 seconds"]
    const out: Record<string, string | undefined> = {}
    for (const c of cases) out[String(c)] = thrown(() => Timer.make("1 second", { maxDriftCorrection: c as any }))
    for (const c of cases) out["svc " + String(c)] = thrown(() => Service.timer("1 second", () => Effect.void, { maxDriftCorrection: c as any }))
    console.log("MDC", JSON.stringify(out, null, 1))
  })
  it.plain("names", () => {
    const cases: Array<unknown> = [5, null, {}, "", " ", Symbol("x")]
    const out: Record<string, string | undefined> = {}
    for (const c of cases) out["timer " + String(c)] = thrown(() => Timer.make("1 second", { name: c as any }))
    for (const c of cases) out["svc " + String(c)] = thrown(() => Service.timer("1 second", () => Effect.void, { name: c as any }))
    for (const c of cases) out["cron " + String(c)] = thrown(() => Service.crontab("* * * * *", () => Effect.void, { name: c as any }))
    for (const c of [5, "x", null]) out["rate " + String(c)] = thrown(() => Service.timer("1 second", () => Effect.void, { rate: c as any }))
    for (const c of [5, "x", null, "Crash"]) out["onError " + String(c)] = thrown(() => Service.timer("1 second", () => Effect.void, { onError: c as any }))
    for (const c of [5, "yes", null]) out["execFirst " + String(c)] = thrown(() => Service.timer("1 second", () => Effect.void, { execFirst: c as any }))
    console.log("NAMES", JSON.stringify(out, null, 1))
  })
  it.plain("crontab", () => {
    const exprs: Array<unknown> = ["", "* * * *", "* * * * * * *", "61 * * * *", "0 25 * * *", "0 0 30 2 *", "0 0 31 4 *", "@reboot", "@every 5m", "@Daily", " @daily ", "0 0 L * *", "0 0 ? * *", "0 0 * * 1#2", "*/0 * * * *", "5-1 * * * *", "0 0 * * 7", "0 0 * * sun", "0 0 * JAN *", "0 0 29 2 *", 5, null, "* * * * * *", "60 * * * * *"]
    const out: Record<string, string | undefined> = {}
    for (const e of exprs) out["expr " + JSON.stringify(e)] = thrown(() => Service.crontab(e as any, () => Effect.void))
    for (const e of exprs) out["secs " + JSON.stringify(e)] = thrown(() => Crontab.secsForNext(e as any))
    const zones: Array<unknown> = ["Mars/Base", "", "utc", "UTC", "GMT", "gmt", "+02:00", "+25:00", "-18:00", "+18:01", "Z", "EST", "US/Eastern", "Europe/paris", "GMT+2", "Etc/GMT+2", 5, null, "+0200", "02:00", "+2"]
    for (const z of zones) out["zone " + JSON.stringify(z)] = thrown(() => Service.crontab("0 0 * * *", () => Effect.void, { timezone: z as any }))
    for (const z of zones) out["secszone " + JSON.stringify(z)] = thrown(() => Crontab.secsForNext("0 0 * * *", { timezone: z as any }))
    console.log("CRON", JSON.stringify(out, null, 1))
  })
})
