/**
 * The steps scenario: how many Effect steps (run-loop instructions, counted by an Effect
 * `Supervisor` with op supervision on) and how many fibers a service's start, stop and
 * restart cost, beside the bare-Effect baseline doing the same work. Unlike times, these
 * counts do not depend on the machine's load: they show what a change to a hot path removed.
 * After each phase, the fibers it forked are given 10 ms to reach their first wait (both
 * subjects), so their first steps are counted too.
 *
 * @since 0.0.0
 */
import { Service, Supervisor } from "@effect-mode/core"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as RuntimeFlags from "effect/RuntimeFlags"
import * as RuntimeFlagsPatch from "effect/RuntimeFlagsPatch"
import * as Scope from "effect/Scope"
import * as EffectSupervisor from "effect/Supervisor"
import { EFFECT_MODE, type Row } from "../Row.js"
import { round } from "../stats.js"
import { makeServiceTree, startBaselineTree } from "./tree.js"

/** Counts the steps and the fibers started while `on`. */
class Counter extends EffectSupervisor.AbstractSupervisor<void> {
  steps = 0
  fibers = 0
  on = false
  get value() {
    return Effect.void
  }
  override onEffect(): void {
    if (this.on) this.steps++
  }
  override onStart<A, E, R>(_c: Context.Context<R>, _e: Effect.Effect<A, E, R>, _p: unknown, _f: Fiber.RuntimeFiber<A, E>) {
    if (this.on) this.fibers++
  }
  /** Steps and fibers of `effect`, and of what it forked until 10 ms after it. */
  phase<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<{ steps: number; fibers: number }, E, R> {
    return Effect.suspend(() => {
      this.steps = 0
      this.fibers = 0
      this.on = true
      return Effect.zipRight(effect, Effect.sleep("10 millis")).pipe(
        Effect.ensuring(Effect.sync(() => (this.on = false))),
        Effect.map(() => ({ steps: this.steps, fibers: this.fibers }))
      )
    })
  }
}

/** Children of the restart part. */
const CHILDREN = 100
/** Restarts counted in the restart part. */
const RESTARTS = 2_000

/**
 * A restart storm's children: each waits for the gate, then crashes while `limit` lasts,
 * then idles; `done` once all idle.
 */
class Crashes {
  crashed = 0
  runs = 0
  readonly gate = Deferred.unsafeMake<void>(FiberId.none)
  readonly done = Deferred.unsafeMake<void>(FiberId.none)
  constructor(readonly limit: number, readonly children: number) {}
  get task(): Effect.Effect<void, string> {
    return Effect.zipRight(
      Deferred.await(this.gate),
      Effect.suspend(() => {
        this.runs++
        if (this.crashed < this.limit) {
          this.crashed++
          return Effect.fail("boom")
        }
        if (this.runs === this.limit + this.children) Deferred.unsafeDone(this.done, Exit.void)
        return Effect.never
      })
    )
  }
  /** Opens the gate and waits until every restart is done. */
  get storm(): Effect.Effect<void> {
    return Effect.zipRight(Deferred.succeed(this.gate, undefined), Deferred.await(this.done))
  }
}

const supervised = <A, E, R>(counter: Counter, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.supervised(counter),
    Effect.withRuntimeFlagsPatch(RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision)),
    Effect.provide(Logger.minimumLogLevel(LogLevel.None))
  )

const effectMode = (n: number, counter: Counter) =>
  Effect.gen(function*() {
    const services = yield* makeServiceTree(n)
    const start = yield* counter.phase(services[0]!.start)
    const stop = yield* counter.phase(services[0]!.stop)
    const storm = new Crashes(RESTARTS, CHILDREN)
    const children: Array<Service.Service> = []
    for (let i = 0; i < CHILDREN; i++) {
      children.push(yield* Service.make(`c${i}`, { mundaneLevel: "debug", tasks: [Service.task(() => storm.task, { name: "crasher" })] }))
    }
    const supervisor = yield* Supervisor.oneForOne("storm", children, { maxRestarts: 1_000_000, within: "1 millis" })
    yield* supervisor.start
    const restart = yield* counter.phase(storm.storm)
    yield* supervisor.stop
    return { start, stop, restart }
  })

const baseline = (n: number, counter: Counter) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const start = yield* counter.phase(startBaselineTree(n, scope))
    const stop = yield* counter.phase(Scope.close(scope, Exit.void))
    const storm = new Crashes(RESTARTS, CHILDREN)
    const top = yield* Scope.make()
    const startLoops = Effect.forEach(Array.from({ length: CHILDREN }), () => {
      const once = Effect.scoped(Effect.flatMap(Effect.scope, (s) => Effect.flatMap(Effect.forkIn(storm.task, s), Fiber.await)))
      return Effect.forkIn(Effect.forever(once), top)
    }, { discard: true })
    yield* startLoops
    const restart = yield* counter.phase(storm.storm)
    yield* Scope.close(top, Exit.void)
    return { start, stop, restart }
  })

/**
 * Runs the steps scenario once for `subject` (`effect-mode` or `baseline-effect`): the tree
 * of `n` services of the tree scenario (a task and a 1 s timer each) started and stopped,
 * then 2,000 restarts of 100 crashing children under a one-for-one supervisor (the
 * baseline: a restart loop per child). Figures per service (start, stop) and per restart.
 *
 * @example
 * ```ts
 * import { runSteps } from "@effect-mode/bench/scenarios/steps"
 *
 * const row = await runSteps("effect-mode", 1000)
 * ```
 *
 * @since 0.0.0
 */
export const runSteps = async (subject: string, n: number): Promise<Row> => {
  const counter = new Counter()
  const program = subject === EFFECT_MODE
    ? effectMode(n, counter)
    : subject === "baseline-effect"
    ? baseline(n, counter)
    : Effect.dieMessage(`steps: unknown subject ${subject}`)
  const r = await Effect.runPromise(supervised(counter, program as ReturnType<typeof baseline>))
  return {
    scenario: "steps",
    n,
    subject,
    wallMs: 0,
    peakRssMb: 0,
    startSteps: round(r.start.steps / n, 1),
    startFibers: round(r.start.fibers / n, 2),
    stopSteps: round(r.stop.steps / n, 1),
    restartSteps: round(r.restart.steps / RESTARTS, 1),
    restartFibers: round(r.restart.fibers / RESTARTS, 2)
  }
}
