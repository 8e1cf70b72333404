/**
 * The `it` every test file uses: `@effect/vitest`'s, with each Effect test wrapped in
 * `Testing.leakFree`, so a test fails when a fiber it (or its services) forked is still
 * alive after it ended. With `EFFECT_MODE_VIRTUAL_TIME=1` in the environment, every
 * `it.effect` / `it.scoped` test runs on `Testing.virtualTime` instead of the TestClock (a
 * check that it is a drop-in: the TestClock tests pass unchanged on it).
 */
import { it as base } from "@effect/vitest"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { TestServices } from "effect/TestServices"
import { Testing } from "@effect-mode/core"

type Body<A, E, R> = (ctx: any) => Effect.Effect<A, E, R>

const wrap = <A, E, R>(body: Body<A, E, R>): Body<A, unknown, R> => (ctx) => Testing.leakFree(body(ctx))

const onVirtualTime = process.env["EFFECT_MODE_VIRTUAL_TIME"] === "1"
const wrapTimed = <A, E, R>(body: Body<A, E, R>): Body<A, unknown, R> =>
  onVirtualTime ? wrap((ctx) => Testing.virtualTime(body(ctx))) : wrap(body)

export const it = {
  effect: <A, E>(name: string, body: Body<A, E, TestServices>, timeout?: number) =>
    base.effect(name, wrapTimed(body), timeout),
  scoped: <A, E>(name: string, body: Body<A, E, TestServices | Scope.Scope>, timeout?: number) =>
    base.scoped(name, wrapTimed(body), timeout),
  live: <A, E>(name: string, body: Body<A, E, never>, timeout?: number) => base.live(name, wrap(body), timeout),
  scopedLive: <A, E>(name: string, body: Body<A, E, Scope.Scope>, timeout?: number) =>
    base.scopedLive(name, wrap(body), timeout),
  /** Not leak-checked: for tests that are about something else than Effect code. */
  plain: base
}
