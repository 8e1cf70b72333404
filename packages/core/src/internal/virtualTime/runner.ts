/**
 * `Testing.virtualTime`: runs an effect in a fresh virtual-time world (see world.ts). The
 * effect runs on its own fiber with the world's scheduler and clock (forked fibers inherit
 * both); the calling fiber waits outside for it to end, a stall, or its own interruption.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as TestClock from "effect/TestClock"
import type { VirtualTimeStalled } from "./stalled.js"
import { type Settings, World } from "./world.js"

/** @internal */
export interface Options {
  readonly autoAdvance?: boolean | undefined
  readonly onStall?: "fail" | "warn" | undefined
  readonly idleRounds?: number | undefined
  readonly busyTasks?: number | undefined
}

const optionNames: ReadonlySet<string> = new Set(["autoAdvance", "onStall", "idleRounds", "busyTasks"])

const settingsOf = (options: Options): Settings => {
  for (const key of Object.keys(options)) {
    if (!optionNames.has(key)) {
      throw new TypeError(`Testing.virtualTime: unknown option ${JSON.stringify(key)} (expected ${Array.from(optionNames).join(", ")})`)
    }
  }
  const { autoAdvance = false, busyTasks = 100_000, idleRounds = 1000, onStall = "fail" } = options
  if (typeof autoAdvance !== "boolean") {
    throw new TypeError(`Testing.virtualTime: autoAdvance must be a boolean, got ${String(autoAdvance)}`)
  }
  if (onStall !== "fail" && onStall !== "warn") {
    throw new TypeError(`Testing.virtualTime: onStall must be "fail" or "warn", got ${JSON.stringify(onStall)}`)
  }
  if (!Number.isInteger(idleRounds) || idleRounds < 1) {
    throw new TypeError(`Testing.virtualTime: idleRounds must be a positive integer, got ${String(idleRounds)}`)
  }
  if (!(busyTasks === Infinity || (Number.isInteger(busyTasks) && busyTasks >= 1))) {
    throw new TypeError(`Testing.virtualTime: busyTasks must be a positive integer or Infinity, got ${String(busyTasks)}`)
  }
  return { autoAdvance, busyTasks, idleRounds, onStall }
}

const run = <A, E, R>(self: Effect.Effect<A, E, R>, settings: Settings): Effect.Effect<A, E | VirtualTimeStalled, R> =>
  Effect.flatMap(Effect.zip(Clock.currentTimeMillis, FiberRef.get(FiberRef.currentScheduler)), ([start, outer]) =>
    Effect.uninterruptibleMask((restore) => {
      const world = new World<A, E>(start, settings, outer)
      const inWorld = restore(self).pipe(
        Effect.mapInputContext((context: Context.Context<R>) =>
          Context.add(context, TestClock.TestClock, world.clock) as Context.Context<R>
        ),
        Effect.withClock(world.clock)
      )
      // forked under the world's scheduler, so the fiber (and all it forks) runs on it from its first step
      return Effect.flatMap(Effect.withScheduler(Effect.fork(inWorld), world.scheduler), (fiber) => {
        world.attach(fiber)
        return restore(world.awaitEnd).pipe(
          Effect.onInterrupt(() => Effect.fiberIdWith((id) => world.interrupt(id)))
        )
      })
    }))

/** @internal */
export const virtualTime: {
  (options?: Options): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | VirtualTimeStalled, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, options?: Options): Effect.Effect<A, E | VirtualTimeStalled, R>
} = function(this: unknown, ...args: ReadonlyArray<unknown>): any {
  // a hand-written dual, so that bad options are reported when declared in both forms
  if (Effect.isEffect(args[0])) {
    const settings = settingsOf((args[1] ?? {}) as Options)
    return Effect.suspend(() => run(args[0] as Effect.Effect<unknown, unknown, unknown>, settings))
  }
  const settings = settingsOf((args[0] ?? {}) as Options)
  return <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.suspend(() => run(self, settings))
}
