/**
 * Access to `Supervisor` for the restart and soak scenarios.
 *
 * @since 0.0.0
 */
import type { Service } from "@effect-mode/core"
import type * as Effect from "effect/Effect"

/**
 * The part of the Supervisor API the storms use.
 *
 * @example
 * ```ts
 * import type { SupervisorApi } from "@effect-mode/bench/scenarios/supervisor"
 *
 * const start = (api: SupervisorApi) => api.oneForOne
 * ```
 *
 * @since 0.0.0
 */
export interface SupervisorApi {
  readonly oneForOne: (
    label: string,
    services: ReadonlyArray<Service.Service>,
    options?: Record<string, unknown>
  ) => Effect.Effect<Service.Service>
}

/**
 * Restart intensity that never escalates during a storm: a window so short that it never
 * holds more than a handful of restarts, and a high ceiling.
 *
 * @example
 * ```ts
 * import { stormOptions } from "@effect-mode/bench/scenarios/supervisor"
 *
 * console.log(stormOptions.maxRestarts)
 * ```
 *
 * @since 0.0.0
 */
export const stormOptions = { maxRestarts: 1_000_000, within: "1 millis" }

/**
 * Loads `Service` and `Supervisor` from `@effect-mode/core`; rejects with a clear message
 * while `Supervisor` does not exist yet.
 *
 * @example
 * ```ts
 * import { loadSupervisor } from "@effect-mode/bench/scenarios/supervisor"
 *
 * const { Supervisor } = await loadSupervisor()
 * ```
 *
 * @since 0.0.0
 */
export const loadSupervisor = async (): Promise<{ Service: typeof Service; Supervisor: SupervisorApi }> => {
  const core = (await import("@effect-mode/core")) as unknown as {
    Service: typeof Service
    Supervisor?: SupervisorApi
  }
  if (core.Supervisor === undefined) {
    throw new Error("Supervisor is not in @effect-mode/core yet: the restart and soak scenarios need it")
  }
  return { Service: core.Service, Supervisor: core.Supervisor }
}
