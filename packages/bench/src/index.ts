/**
 * `@effect-mode/bench`: effect-mode against the bare-Effect floor. Run it with `pnpm bench`
 * (see `docs/performance.md`); these exports are the harness, for tests and scripts.
 *
 * @since 0.0.0
 */
export { parseArgs, usage } from "./args.js"
export type { Args } from "./args.js"
export { EFFECT_MODE, ROW_MARK } from "./Row.js"
export type { Row } from "./Row.js"
export { scenarios } from "./scenarios/index.js"
export type { Column, Scenario } from "./scenarios/index.js"
export { runInChild } from "./spawn.js"
export { median, percentile, round } from "./stats.js"
export { medianRow, renderGroup } from "./table.js"
