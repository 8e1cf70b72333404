/**
 * Small statistics over samples: median and nearest-rank percentiles.
 *
 * @since 0.0.0
 */

/**
 * The p-th percentile (0-100) of `samples`, nearest rank; `NaN` when there are none.
 * Sorts a copy; pass a `Float64Array` for large sample sets.
 *
 * @example
 * ```ts
 * import { percentile } from "@effect-mode/bench/stats"
 *
 * percentile([1, 2, 3, 4], 50) // 2
 * ```
 *
 * @since 0.0.0
 */
export const percentile = (samples: ArrayLike<number>, p: number): number => {
  const n = samples.length
  if (n === 0) return Number.NaN
  const sorted = Float64Array.from(samples).sort()
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)))
  return sorted[rank - 1]!
}

/**
 * The median of `samples` (the mean of the two middle ones for an even count); `NaN` when empty.
 *
 * @example
 * ```ts
 * import { median } from "@effect-mode/bench/stats"
 *
 * median([3, 1, 2]) // 2
 * ```
 *
 * @since 0.0.0
 */
export const median = (samples: ArrayLike<number>): number => {
  const n = samples.length
  if (n === 0) return Number.NaN
  const sorted = Float64Array.from(samples).sort()
  const mid = n >> 1
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Rounds to `digits` decimals (bench figures are noisy; more digits only add noise).
 *
 * @example
 * ```ts
 * import { round } from "@effect-mode/bench/stats"
 *
 * round(3.14159, 2) // 3.14
 * ```
 *
 * @since 0.0.0
 */
export const round = (x: number, digits = 2): number => {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
