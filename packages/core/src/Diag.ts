/**
 * Diagnostic flags, as mode's `Diag`: a set of named flags a service raises while it is
 * in some phase of its work ("COMMITTING", "WAIT_FOR_BROKER"), with the `Clock` time of
 * each flag's last transition. The Worker's dump and `ServiceGraph.snapshot` show them.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"

/**
 * A Ref-backed set of flags with the time (Clock millis) each was last set.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Diag } from "@effect-mode/core"
 *
 * const program = Effect.gen(function* () {
 *   const diag = Diag.make()
 *   yield* diag.setFlag("COMMIT")
 *   const flags = yield* diag.flags // Set { "COMMIT" }
 *   yield* diag.unsetFlag("COMMIT")
 *   return flags
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Diag {
  readonly flags: Effect.Effect<ReadonlySet<string>>
  readonly lastTransition: Effect.Effect<ReadonlyMap<string, number>>
  readonly setFlag: (flag: string) => Effect.Effect<void>
  readonly unsetFlag: (flag: string) => Effect.Effect<void>
}

interface DiagState {
  readonly flags: ReadonlySet<string>
  readonly lastTransition: ReadonlyMap<string, number>
}

const emptyState: DiagState = { flags: new Set(), lastTransition: new Map() }

/**
 * Creates an empty `Diag`. Every service has its own (`service.diag`); use this for
 * components that are not services.
 *
 * @example
 * ```ts
 * import { Diag } from "@effect-mode/core"
 *
 * const diag = Diag.make()
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (): Diag => {
  const ref = Ref.unsafeMake<DiagState>(emptyState)
  return {
    flags: Effect.map(Ref.get(ref), (s) => s.flags),
    lastTransition: Effect.map(Ref.get(ref), (s) => s.lastTransition),
    setFlag: (flag) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.update(ref, (s) => ({
          flags: new Set(s.flags).add(flag),
          lastTransition: new Map(s.lastTransition).set(flag, now)
        }))),
    unsetFlag: (flag) =>
      Ref.update(ref, (s) => {
        if (!s.flags.has(flag)) return s
        const flags = new Set(s.flags)
        flags.delete(flag)
        return { flags, lastTransition: s.lastTransition }
      })
  }
}

/**
 * Raises `flag` while `self` runs and lowers it when `self` ends, whether it succeeded,
 * failed or was interrupted (mode's `Service.transition_with`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Diag } from "@effect-mode/core"
 *
 * const diag = Diag.make()
 * const commit = Effect.log("committing").pipe(Diag.transition(diag, "COMMIT"))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const transition = (diag: Diag, flag: string) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.acquireUseRelease(diag.setFlag(flag), () => self, () => diag.unsetFlag(flag))
