/**
 * Waiting on a service: `sleep`, `wait`, `waitFirst`, `waitForStopped` and
 * `waitUntilStopped` wake when the service stops or crashes (its stop signal). A sleep
 * begun after that signal sleeps its whole duration (the stop interrupts the task soon),
 * so a loop of `self.sleep` never spins while the stop runs its hooks.
 *
 * @internal
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Deferred from "effect/Deferred"
import type * as Service from "../../Service.js"
import { decodeDuration } from "../duration.js"
import { show } from "../options.js"
import * as longSleep from "../sleep.js"
import type { ServiceImpl } from "./impl.js"

const stoppedResult: Service.WaitResult<never> = { _tag: "Stopped", stopped: true }
const timedOutResult: Service.WaitResult<never> = { _tag: "TimedOut", stopped: false }

/** Waits for the stop signal of the current run. */
export const stopped = (s: ServiceImpl): Effect.Effect<void> => Effect.suspend(() => s.stopSignal.await)

/** @internal */
export const sleep = (s: ServiceImpl, duration: Duration.DurationInput): Effect.Effect<void> =>
  Effect.suspend(() => {
    const d = decodeDuration(duration, `duration of sleep on service ${s.label}`)
    return s.stopSignalled ? longSleep.sleep(d) : Effect.raceFirst(longSleep.sleep(d), s.stopSignal.await)
  })

/** The `timeout` option of a wait, checked: a bad one dies naming the wait and the value. */
const timeoutOf = (s: ServiceImpl, what: string, options: { readonly timeout?: Duration.DurationInput } | undefined) =>
  options?.timeout === undefined ? undefined : decodeDuration(options.timeout, `timeout of ${what} on service ${s.label}`)

/** @internal */
export const wait = <A, E, R>(
  s: ServiceImpl,
  effect: Effect.Effect<A, E, R>,
  options?: { readonly timeout?: Duration.DurationInput }
): Effect.Effect<Service.WaitResult<A>, E, R> =>
  Effect.suspend(() => {
    const timeout = timeoutOf(s, "wait", options)
    if (s.stopSignalled) return Effect.succeed(stoppedResult)
    const raced = Effect.raceFirst(
      Effect.map(effect, (result): Service.WaitResult<A> => ({ _tag: "Completed", result, stopped: false })),
      Effect.as(s.stopSignal.await, stoppedResult)
    )
    return timeout === undefined
      ? raced
      : Effect.timeoutTo(raced, {
        duration: timeout,
        onSuccess: (r): Service.WaitResult<A> => r,
        onTimeout: (): Service.WaitResult<A> => timedOutResult
      })
  })

/** @internal */
export const waitFirst = <A, E, R>(
  s: ServiceImpl,
  effects: Iterable<Effect.Effect<A, E, R>>,
  options?: { readonly timeout?: Duration.DurationInput }
): Effect.Effect<Service.WaitResults<A>, E, R> => {
  // Read once, at the call (a generator is read once): the effect can run again.
  const given = listOf(effects)
  return Effect.scoped(Effect.gen(function*() {
    const list = effectsOf<A, E, R>(s, given, "waitFirst")
    const timeout = timeoutOf(s, "waitFirst", options)
    if (s.stopSignalled) return { done: [], results: [], stopped: true, timedOut: false }
    const first = yield* Deferred.make<void>()
    const fibers = yield* Effect.forEach(list, (effect) =>
      effect.pipe(
        Effect.onExit(() => Deferred.succeed(first, undefined)),
        Effect.forkScoped
      ))
    const outcome = yield* Effect.raceFirst(
      Effect.as(Deferred.await(first), "done" as const),
      Effect.as(stopped(s), "stopped" as const)
    ).pipe(
      timeout === undefined ? (x) => x : Effect.timeoutTo({
        duration: timeout,
        onSuccess: (x) => x,
        onTimeout: () => "timedOut" as const
      })
    )
    if (outcome !== "done") {
      return { done: [], results: [], stopped: outcome === "stopped", timedOut: outcome === "timedOut" }
    }
    const done: Array<number> = []
    const results: Array<A> = []
    for (let i = 0; i < fibers.length; i++) {
      const exit = fibers[i]!.unsafePoll()
      if (exit === null) continue
      if (Exit.isFailure(exit)) return yield* Effect.failCause(exit.cause)
      done.push(i)
      results.push(exit.value)
    }
    return { done, results, stopped: false, timedOut: false }
  }))
}

const isIterable = (u: unknown): u is Iterable<unknown> =>
  typeof u === "object" && u !== null && typeof (u as any)[Symbol.iterator] === "function"

/** The effects given, read once into an array when they are an iterable (else as given, for `effectsOf` to name). */
const listOf = <T>(effects: Iterable<T>): Array<T> | unknown => isIterable(effects) ? Array.from(effects) : effects

/**
 * The effects of a `waitFirst`/`waitMany` (as `listOf` read them): a non-empty array of
 * effects, else a defect naming the argument (with none, the wait would last until the
 * service stops; Effect's `raceAll` dies on an empty collection too).
 */
const effectsOf = <A, E, R>(
  s: ServiceImpl,
  given: Array<Effect.Effect<A, E, R>> | unknown,
  what: "waitFirst" | "waitMany"
): Array<Effect.Effect<A, E, R>> => {
  const bad = (why: string) => new TypeError(`Invalid effects of ${what} on service ${s.label}: ${why}`)
  if (!Array.isArray(given)) throw bad(`${show(given)} is not an iterable of effects`)
  const list: Array<Effect.Effect<A, E, R>> = given
  // waitMany of none: all of none, at once.
  if (list.length === 0 && what === "waitFirst") throw bad("no effect to wait for")
  list.forEach((e, i) => {
    if (!Effect.isEffect(e)) throw bad(`effects[${i}] ${show(e)} is not an Effect`)
  })
  return list
}

/** @internal */
export const waitMany = <A, E, R>(
  s: ServiceImpl,
  effects: Iterable<Effect.Effect<A, E, R>>,
  options?: { readonly timeout?: Duration.DurationInput }
): Effect.Effect<Service.WaitResult<Array<A>>, E, R> => {
  const given = listOf(effects)
  return Effect.suspend(() => wait(s, Effect.all(effectsOf<A, E, R>(s, given, "waitMany"), { concurrency: "unbounded" }), options))
}

/** @internal */
export const waitForStopped = (
  s: ServiceImpl,
  options?: { readonly timeout?: Duration.DurationInput }
): Effect.Effect<boolean> =>
  Effect.suspend(() => {
    const timeout = timeoutOf(s, "waitForStopped", options)
    if (timeout === undefined) return Effect.as(stopped(s), true)
    return Effect.timeoutTo(stopped(s), {
      duration: timeout,
      onSuccess: () => true,
      onTimeout: () => false
    })
  })
