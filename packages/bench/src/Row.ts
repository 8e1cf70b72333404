/**
 * One result row of the bench: a scenario, a size, a subject, and its figures.
 *
 * @since 0.0.0
 */

/**
 * What a scenario measured for one subject at one size. Figures that a scenario does not
 * produce are absent. In the JSON written by `--json` every row is the median over the runs.
 *
 * @example
 * ```ts
 * import type { Row } from "@effect-mode/bench/Row"
 *
 * const row: Row = { scenario: "tree", n: 1000, subject: "effect-mode", wallMs: 12, peakRssMb: 80 }
 * ```
 *
 * @since 0.0.0
 */
export interface Row {
  readonly scenario: string
  readonly n: number
  readonly subject: string
  /** The scenario's main wall time (tree: start + stop; shutdown: SIGTERM to exit; ...). */
  readonly wallMs: number
  /** Peak resident set size of the process that ran the subject. */
  readonly peakRssMb: number
  readonly heapPerServiceKb?: number
  readonly p50Ms?: number
  readonly p99Ms?: number
  /** How many runs the medians are taken over. */
  readonly runs?: number
  readonly [figure: string]: number | string | undefined
}

/**
 * The subject every ratio is computed for.
 *
 * @example
 * ```ts
 * import { EFFECT_MODE } from "@effect-mode/bench/Row"
 *
 * const mine = (subject: string) => subject === EFFECT_MODE
 * ```
 *
 * @since 0.0.0
 */
export const EFFECT_MODE = "effect-mode"

/**
 * The prefix of the stdout line by which a bench child process hands its row back.
 *
 * @example
 * ```ts
 * import { ROW_MARK } from "@effect-mode/bench/Row"
 *
 * const isRow = (line: string) => line.startsWith(ROW_MARK)
 * ```
 *
 * @since 0.0.0
 */
export const ROW_MARK = "@@row "
