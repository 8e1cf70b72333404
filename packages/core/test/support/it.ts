/**
 * The `it` every test file uses: `@effect/vitest`'s, with each Effect test wrapped in
 * `Testing.leakFree`, so a test fails when a fiber it (or its services) forked is still
 * alive after it ended.
 */
import { it as base } from "@effect/vitest"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { TestServices } from "effect/TestServices"
import { Testing } from "@effect-mode/core"

type Body<A, E, R> = (ctx: any) => Effect.Effect<A, E, R>

const wrap = <A, E, R>(body: Body<A, E, R>): Body<A, unknown, R> => (ctx) => Testing.leakFree(body(ctx))

export const it = {
  effect: <A, E>(name: string, body: Body<A, E, TestServices>, timeout?: number) =>
    base.effect(name, wrap(body), timeout),
  scoped: <A, E>(name: string, body: Body<A, E, TestServices | Scope.Scope>, timeout?: number) =>
    base.scoped(name, wrap(body), timeout),
  live: <A, E>(name: string, body: Body<A, E, never>, timeout?: number) => base.live(name, wrap(body), timeout),
  scopedLive: <A, E>(name: string, body: Body<A, E, Scope.Scope>, timeout?: number) =>
    base.scopedLive(name, wrap(body), timeout),
  /** Not leak-checked: for tests that are about something else than Effect code. */
  plain: base
}
