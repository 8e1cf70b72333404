/**
 * The supervisor settings of the restart and soak scenarios.
 *
 * @since 0.0.0
 */
import type { Supervisor } from "@effect-mode/core"

/**
 * Restart intensity that never escalates during a storm: a window so short that it never
 * holds more than a handful of restarts, and a ceiling far above that.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Supervisor } from "@effect-mode/core"
 * import { stormOptions } from "@effect-mode/bench/scenarios/supervisor"
 *
 * const sup = Supervisor.oneForOne("storm", [], stormOptions)
 * ```
 *
 * @since 0.0.0
 */
export const stormOptions: Supervisor.Options = { maxRestarts: 1_000_000, within: "1 millis" }
