/**
 * The worker's shutdown deadline: `shutdownTimeout` after the stop began, it names what is
 * stuck (the services, or what the body was doing), prints the dump, then gives what is
 * left a bounded chance (`shutdownGrace`): the body is interrupted, the services not yet
 * stopped are stopped, the root's resources are released; and it logs exactly what did
 * not finish. The process then exits with 124.
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { type Service, ServiceGraph } from "@effect-mode/core"
import { type Ctx, release, stopRequested } from "./context.js"

/**
 * The running services at the top of what is left: each running service whose parent is
 * not running (it is stopping, stuck, or there is none). Stopping one stops its subtree.
 */
const runningTops = (ctx: Ctx): Effect.Effect<Array<Service.Service>> =>
  Effect.gen(function*() {
    const byId = new Map<number, Service.Service>()
    for (const root of ctx.roots.all) for (const s of yield* ServiceGraph.walk(root)) byId.set(s.id, s)
    const tops: Array<Service.Service> = []
    const visit = (s: ServiceGraph.Snapshot): void => {
      const service = byId.get(s.id)
      if (s.state === "running" && service !== undefined) tops.push(service)
      else s.children.forEach(visit)
    }
    for (const snapshot of yield* ctx.roots.snapshots) visit(snapshot)
    return tops
  })

/** What did not finish: the stuck services, the release of the root's resources, the make or build in flight. */
const unfinished = (ctx: Ctx, body: Fiber.RuntimeFiber<number>): Effect.Effect<Array<string>> =>
  Effect.map(ctx.roots.stuck, (stuck) => {
    const out = [...stuck]
    if (ctx.released !== "done") out.push("the release of the root's resources")
    // Nothing else named and the body still running: what it was doing (a make, a build,
    // a start stuck in uninterruptible code once its services' phases moved on).
    if (out.length === 0 && body.unsafePoll() === null) out.push(ctx.activity)
    return out
  })

/** The last chance of what is left, bounded by `grace`; never fails, never hangs past it. */
const lastChance = (ctx: Ctx, body: Fiber.RuntimeFiber<number>, grace: Duration.Duration): Effect.Effect<void> => {
  const rest = Effect.all([
    Fiber.interrupt(body),
    Effect.flatMap(runningTops(ctx), (tops) => Effect.forEach(tops, (s) => s.stop, { concurrency: "unbounded" })),
    release(ctx, false)
  ], { concurrency: "unbounded", discard: true })
  return Effect.disconnect(rest).pipe(Effect.timeoutTo({ duration: grace, onSuccess: () => true, onTimeout: () => false }), Effect.asVoid)
}

/** Fires `shutdownTimeout` after the stop began; succeeds with `exitCode` once done. */
export const watchdog = (
  ctx: Ctx,
  body: Fiber.RuntimeFiber<number>,
  timeout: Duration.Duration,
  grace: Duration.Duration,
  exitCode: number,
  writeStderr: (text: string) => void,
  /** Reports a crash recorded before the deadline that the body did not get to report. */
  reportCrash: Effect.Effect<void>
): Effect.Effect<number> =>
  Effect.gen(function*() {
    yield* Effect.raceFirst(Effect.asVoid(stopRequested(ctx)), Deferred.await(ctx.stopBegan))
    yield* Effect.sleep(timeout)
    ctx.deadlinePassed = true
    // The stop steps in flight are cut now; what follows them runs in the grace.
    yield* Deferred.succeed(ctx.deadline, undefined)
    // A crash whose stop outlived the deadline: the body, stuck in that stop or interrupted
    // in the grace, may never report it.
    yield* reportCrash
    const stuck = yield* ctx.roots.stuck
    const named = stuck.length > 0 ? stuck.join(", ") : `(no service: ${ctx.activity})`
    yield* Effect.logError(
      `[Worker] Shutdown did not finish within ${Duration.format(timeout)}; not stopped in time: ${named}; ` +
        `interrupting what is left (shutdownGrace ${Duration.format(grace)}) and exiting with code ${exitCode}`
    )
    const dump = yield* ctx.roots.dump
    writeStderr(`[Worker] Services when the shutdown deadline passed:\n${dump}`)
    if (Duration.toMillis(grace) > 0) yield* lastChance(ctx, body, grace)
    const left = yield* unfinished(ctx, body)
    yield* left.length === 0
      ? Effect.logWarning(`[Worker] What was left finished within shutdownGrace ${Duration.format(grace)}`)
      : Effect.logError(`[Worker] Not finished within shutdownGrace ${Duration.format(grace)}: ${left.join(", ")}`)
    return exitCode
  })
