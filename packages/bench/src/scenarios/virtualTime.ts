/**
 * The virtual-time scenario: a tree of N services with one 1 s `Service.timer` each, driven
 * through ten virtual minutes by one `TestClock.adjust`, under `Testing.virtualTime` and under
 * Effect's own `TestClock` (which needs about 4 ms of real time per wake-up, so it runs at
 * most `BENCH_TESTCLOCK_SERVICES`, default 20, services). The figure is real milliseconds per
 * 1,000 wake-ups of the adjust alone (building, starting and stopping the tree not counted).
 *
 * @since 0.0.0
 */
import { Service, Testing } from "@effect-mode/core"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import { now, peakRssMb } from "../measure.js"
import type { Row } from "../Row.js"
import { round } from "../stats.js"

/** Virtual minutes the clock is moved by (`BENCH_VIRTUAL_MINUTES` overrides it). */
const minutes = (): number => Number(process.env["BENCH_VIRTUAL_MINUTES"] ?? 10)

/** The most services the TestClock subjects run (`BENCH_TESTCLOCK_SERVICES` overrides it). */
const testClockCap = (): number => Number(process.env["BENCH_TESTCLOCK_SERVICES"] ?? 20)

interface Measured {
  readonly wakeups: number
  readonly adjustMs: number
}

/** N services with a 1 s timer each; the real time of one `TestClock.adjust` over the run. */
const tree = (n: number): Effect.Effect<Measured, unknown, never> =>
  Effect.gen(function*() {
    let wakeups = 0
    const root = yield* Service.make("Root", { mundaneLevel: "debug" })
    for (let i = 0; i < n; i++) {
      yield* root.addDependency(yield* Service.make(`S${i}`, {
        mundaneLevel: "debug",
        tasks: [Service.timer("1 second", () => Effect.sync(() => wakeups++), { name: "beat" })]
      }))
    }
    yield* root.start
    const t0 = now()
    yield* TestClock.adjust(`${minutes()} minutes`)
    const adjustMs = now() - t0
    yield* root.stop
    return { wakeups, adjustMs }
  })

/** The same with bare Effect: N fibers repeating on `Schedule.spaced("1 second")`. */
const bare = (n: number): Effect.Effect<Measured, unknown, never> =>
  Effect.gen(function*() {
    let wakeups = 0
    const fibers = yield* Effect.forEach(
      Array.from({ length: n }),
      () => Effect.fork(Effect.schedule(Effect.sync(() => wakeups++), Schedule.spaced("1 second")))
    )
    const t0 = now()
    yield* TestClock.adjust(`${minutes()} minutes`)
    const adjustMs = now() - t0
    yield* Fiber.interruptAll(fibers)
    return { wakeups, adjustMs }
  })

const onTestClock = <A, E>(self: Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromise(Effect.provide(self, TestContext.TestContext))

/**
 * Runs the virtual-time scenario once for `subject` with `n` services and returns its row:
 * `msPer1k` (real ms per 1,000 wake-ups during the adjust), `wakeupsPerSec` (its inverse, so
 * that the table's ratio reads as a speed-up), `wakeups`, `services` (the
 * TestClock subjects are capped), `wallMs` (the adjust), `peakRssMb`.
 *
 * @example
 * ```ts
 * import { runVirtualTime } from "@effect-mode/bench/scenarios/virtualTime"
 *
 * const row = await runVirtualTime("effect-mode", 200)
 * ```
 *
 * @since 0.0.0
 */
export const runVirtualTime = async (subject: string, n: number): Promise<Row> => {
  const capped = Math.min(n, testClockCap())
  let services = n
  let measured: Measured
  switch (subject) {
    case "effect-mode":
      measured = await Effect.runPromise(Testing.virtualTime(tree(n)))
      break
    case "effect-mode-bare":
      measured = await Effect.runPromise(Testing.virtualTime(bare(n)))
      break
    case "baseline-testclock":
      services = capped
      measured = await onTestClock(tree(capped))
      break
    case "baseline-testclock-bare":
      services = capped
      measured = await onTestClock(bare(capped))
      break
    default:
      throw new Error(`virtual-time: unknown subject ${subject}`)
  }
  const expected = services * minutes() * 60
  if (measured.wakeups < expected) {
    throw new Error(`virtual-time/${subject}: ${measured.wakeups} wake-ups, expected at least ${expected}`)
  }
  return {
    scenario: "virtual-time",
    n,
    subject,
    wallMs: round(measured.adjustMs),
    peakRssMb: round(peakRssMb(), 1),
    msPer1k: round(measured.adjustMs / (measured.wakeups / 1000), 3),
    wakeupsPerSec: round(measured.wakeups / (measured.adjustMs / 1000), 0),
    wakeups: measured.wakeups,
    services
  }
}
