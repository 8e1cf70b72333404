/**
 * Memory and time probes for a bench child process (run with `node --expose-gc`).
 *
 * @since 0.0.0
 */
import { performance } from "node:perf_hooks"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"

// `--expose-gc` gives `gc`; without it (e.g. in a test runner's worker) V8 can still be asked
// for it at run time.
const gcFn: (() => void) | undefined = (globalThis as { gc?: () => void }).gc ?? (() => {
  try {
    setFlagsFromString("--expose-gc")
    return runInNewContext("gc") as () => void
  } catch {
    return undefined
  }
})()

/**
 * Runs a full garbage collection (twice, so that weakly held and finalized objects go too).
 * Throws when the process was not started with `--expose-gc`, since every heap figure would
 * then be wrong.
 *
 * @example
 * ```ts
 * import { fullGc } from "@effect-mode/bench/measure"
 *
 * fullGc()
 * ```
 *
 * @since 0.0.0
 */
export const fullGc = (): void => {
  if (gcFn === undefined) throw new Error("the bench needs `node --expose-gc` to measure the heap")
  gcFn()
  gcFn()
}

/**
 * True when `fullGc` can run (the process was started with `--expose-gc`).
 *
 * @example
 * ```ts
 * import { canGc } from "@effect-mode/bench/measure"
 *
 * if (canGc()) console.log("heap figures are honest")
 * ```
 *
 * @since 0.0.0
 */
export const canGc = (): boolean => gcFn !== undefined

/**
 * Bytes of live JavaScript heap after a full GC.
 *
 * @example
 * ```ts
 * import { heapAfterGc } from "@effect-mode/bench/measure"
 *
 * const before = heapAfterGc()
 * ```
 *
 * @since 0.0.0
 */
export const heapAfterGc = (): number => {
  fullGc()
  return process.memoryUsage().heapUsed
}

/**
 * The peak resident set size of this process so far, in MB (`getrusage`'s `ru_maxrss`).
 *
 * @example
 * ```ts
 * import { peakRssMb } from "@effect-mode/bench/measure"
 *
 * console.log(`${peakRssMb()} MB`)
 * ```
 *
 * @since 0.0.0
 */
export const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024

/**
 * Milliseconds since an arbitrary origin, sub-millisecond precision, monotonic.
 *
 * @example
 * ```ts
 * import { now } from "@effect-mode/bench/measure"
 *
 * const t0 = now()
 * const elapsed = now() - t0
 * ```
 *
 * @since 0.0.0
 */
export const now = (): number => performance.now()

/**
 * CPU time (user + system) this process used since `since` (a `process.cpuUsage()` value), in ms.
 *
 * @example
 * ```ts
 * import { cpuMsSince } from "@effect-mode/bench/measure"
 *
 * const c0 = process.cpuUsage()
 * const cpu = cpuMsSince(c0)
 * ```
 *
 * @since 0.0.0
 */
export const cpuMsSince = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since)
  return (d.user + d.system) / 1000
}
