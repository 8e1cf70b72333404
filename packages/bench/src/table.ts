/**
 * Aggregation of runs (medians) and the printed table with effect-mode's ratios to each baseline.
 *
 * @since 0.0.0
 */
import { EFFECT_MODE, type Row } from "./Row.js"
import type { Column } from "./scenarios/index.js"
import { median, round } from "./stats.js"

/**
 * The row of medians of several runs of one subject: every numeric figure is the median of
 * that figure over the runs; `runs` is how many there were.
 *
 * @example
 * ```ts
 * import { medianRow } from "@effect-mode/bench/table"
 *
 * const row = medianRow([
 *   { scenario: "tree", n: 10, subject: "effect-mode", wallMs: 3, peakRssMb: 50 },
 *   { scenario: "tree", n: 10, subject: "effect-mode", wallMs: 5, peakRssMb: 52 }
 * ]) // wallMs: 4, peakRssMb: 51, runs: 2
 * ```
 *
 * @since 0.0.0
 */
export const medianRow = (runs: ReadonlyArray<Row>): Row => {
  const first = runs[0]
  if (first === undefined) throw new Error("medianRow: no runs")
  const out: Record<string, number | string | undefined> = {}
  for (const key of Object.keys(first)) {
    const v = first[key]
    if (typeof v === "number" && key !== "n") {
      out[key] = round(median(runs.map((r) => Number(r[key]))), 3)
    } else {
      out[key] = v
    }
  }
  out["runs"] = runs.length
  return out as unknown as Row
}

const fmt = (v: number | string | undefined): string => {
  if (v === undefined) return "-"
  if (typeof v === "string") return v
  if (!Number.isFinite(v)) return String(v)
  const a = Math.abs(v)
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3)
}

const ratio = (a: number | string | undefined, b: number | string | undefined): string => {
  if (typeof a !== "number" || typeof b !== "number" || b === 0 || !Number.isFinite(a / b)) return "-"
  return `${(a / b).toFixed(2)}x`
}

/**
 * Renders the rows of one scenario at one size: a line per subject, then a line per
 * baseline with effect-mode's figure divided by the baseline's (below 1x: effect-mode is
 * cheaper or faster), and the same for each effect-mode variant (`effect-mode-...`).
 *
 * @example
 * ```ts
 * import { renderGroup } from "@effect-mode/bench/table"
 *
 * console.log(renderGroup("tree", 1000, [], [{ key: "startMs", header: "start ms" }]))
 * ```
 *
 * @since 0.0.0
 */
export const renderGroup = (
  scenario: string,
  n: number,
  rows: ReadonlyArray<Row>,
  columns: ReadonlyArray<Column>
): string => {
  const header = [`${scenario} n=${n}`, ...columns.map((c) => c.header), "runs"]
  const lines: Array<Array<string>> = [header]
  for (const row of rows) lines.push([row.subject, ...columns.map((c) => fmt(row[c.key])), String(row.runs ?? "-")])
  const isMine = (subject: string) => subject === EFFECT_MODE || subject.startsWith(`${EFFECT_MODE}-`)
  for (const mine of rows.filter((r) => isMine(r.subject))) {
    for (const base of rows.filter((r) => !isMine(r.subject))) {
      const label = mine.subject === EFFECT_MODE ? `  ÷ ${base.subject}` : `  ${mine.subject} ÷ ${base.subject}`
      lines.push([label, ...columns.map((c) => (c.ratio === false ? "" : ratio(mine[c.key], base[c.key]))), ""])
    }
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => [...(l[i] ?? "")].length)))
  const pad = (s: string, i: number) => (i === 0 ? s.padEnd(widths[i]!) : s.padStart(widths[i]!))
  const out = lines.map((l) => l.map(pad).join("  "))
  out.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "))
  return out.join("\n")
}
