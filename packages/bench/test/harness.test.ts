import { describe, expect, it } from "vitest"
import { parseArgs } from "../src/args.js"
import { phasesOf } from "../src/gcSplit.js"
import { runSteps } from "../src/scenarios/steps.js"
import { runTree } from "../src/scenarios/tree.js"
import { readFileSync } from "node:fs"
import { childArgs, DIST_CONDITION, runInChild } from "../src/spawn.js"
import { percentile, median } from "../src/stats.js"
import { medianRow, renderGroup } from "../src/table.js"

const known = ["tree", "restart", "timers", "shutdown", "soak"]

describe("bench harness", () => {
  it("parses the command line", () => {
    const args = parseArgs(["--scenario", "tree", "--n", "1000,10_000", "--runs=2", "--json", "out.json"], known)
    expect(args).toMatchObject({ scenarios: ["tree"], sizes: [1000, 10000], runs: 2, json: "out.json" })
    expect(parseArgs([], known).scenarios).toEqual(known)
    expect(parseArgs(["--scenario", "all"], known).scenarios).toEqual(known)
    expect(() => parseArgs(["--scenario", "trees"], known)).toThrow(/"trees"/)
    expect(() => parseArgs(["--n", "-3"], known)).toThrow(/"-3"/)
    expect(() => parseArgs(["--frobnicate"], known)).toThrow(/--frobnicate/)
  })

  it("splits a run's collections by the phase they began in", () => {
    const phases = phasesOf([["", 0], ["start", 10], ["stop", 30]], [
      { at: 1, ms: 2, young: true },
      { at: 9, ms: 3, young: true },
      { at: 10, ms: 5, young: false },
      { at: 29, ms: 1, young: true }
    ])
    expect(phases).toEqual([
      { name: "start", wallMs: 10, youngGcs: 2, youngMs: 5, fullGcs: 0, fullMs: 0 },
      { name: "stop", wallMs: 20, youngGcs: 1, youngMs: 1, fullGcs: 1, fullMs: 5 }
    ])
  })

  it("takes medians and nearest-rank percentiles", () => {
    expect(median([5, 1, 3])).toBe(3)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    const xs = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(xs, 50)).toBe(50)
    expect(percentile(xs, 99)).toBe(99)
    const row = medianRow([
      { scenario: "tree", n: 10, subject: "effect-mode", wallMs: 3, peakRssMb: 50 },
      { scenario: "tree", n: 10, subject: "effect-mode", wallMs: 9, peakRssMb: 52 },
      { scenario: "tree", n: 10, subject: "effect-mode", wallMs: 5, peakRssMb: 51 }
    ])
    expect(row).toMatchObject({ n: 10, wallMs: 5, peakRssMb: 51, runs: 3 })
  })

  it("prints effect-mode's ratio to each baseline", () => {
    const table = renderGroup("tree", 10, [
      { scenario: "tree", n: 10, subject: "effect-mode", wallMs: 3, peakRssMb: 60 },
      { scenario: "tree", n: 10, subject: "baseline-effect", wallMs: 2, peakRssMb: 40 }
    ], [{ key: "wallMs", header: "wall" }, { key: "peakRssMb", header: "rss" }])
    expect(table).toMatch(/÷ baseline-effect\s+1\.50x\s+1\.50x/)
  })

  it("runs the tree scenario in-process for every subject, every service running", async () => {
    for (const subject of ["effect-mode", "baseline-effect", "floor-fibers"]) {
      const row = await runTree(subject, 10)
      expect(row).toMatchObject({ scenario: "tree", n: 10, subject })
      expect(row["startMs"]).toBeGreaterThan(0)
      expect(row["stopMs"]).toBeGreaterThan(0)
      expect(Number.isFinite(row.heapPerServiceKb)).toBe(true)
    }
  })

  it("counts steps and fibers: a service's start forks its task's fiber only (the timer has none), a restart one fiber", async () => {
    const mode = await runSteps("effect-mode", 100)
    const bare = await runSteps("baseline-effect", 100)
    // one fiber per service for its task; the clock's timer scheduler adds one for all
    expect(mode["startFibers"]).toBe(1.01)
    expect(bare["startFibers"]).toBe(2)
    expect(mode["restartFibers"]).toBe(1)
    expect(mode["restartSteps"]).toBeGreaterThan(0)
    // Counts, not times: a start and a stop take fewer run-loop steps than bare Effect's
    // (issue 16; 24 and 26 against 47 and 76 when this was written).
    expect(mode["startSteps"]).toBeGreaterThan(0)
    expect(Number(mode["startSteps"])).toBeLessThan(Number(bare["startSteps"]))
    expect(mode["stopSteps"]).toBeGreaterThan(0)
    expect(Number(mode["stopSteps"])).toBeLessThan(Number(bare["stopSteps"]))
  })

  it("measures the built packages unless told --source: the children resolve them to dist/", () => {
    expect(parseArgs([], known).source).toBe(false)
    expect(parseArgs(["--source"], known).source).toBe(true)
    expect(childArgs("tree", "effect-mode", 10, { dist: true })).toContain(`--conditions=${DIST_CONDITION}`)
    expect(childArgs("tree", "effect-mode", 10).some((a) => a.startsWith("--conditions"))).toBe(false)
    for (const pkg of ["core", "node"]) {
      const json = JSON.parse(readFileSync(new URL(`../../${pkg}/package.json`, import.meta.url), "utf8"))
      const build = JSON.parse(readFileSync(new URL(`../../${pkg}/tsconfig.build.json`, import.meta.url), "utf8"))
      expect(build.compilerOptions.outDir).toBe("dist")
      // The condition comes first (Node takes the first that matches); without it, the sources.
      expect(Object.entries(json.exports["."])).toEqual([[DIST_CONDITION, "./dist/index.js"], ["default", "./src/index.ts"]])
      expect(Object.entries(json.exports["./*"])).toEqual([[DIST_CONDITION, "./dist/*.js"], ["default", "./src/*.ts"]])
    }
  })

  it("runs a subject in a child process and reads its row back", async () => {
    const row = await runInChild("tree", "baseline-effect", 10)
    expect(row).toMatchObject({ scenario: "tree", n: 10, subject: "baseline-effect" })
    expect(row.peakRssMb).toBeGreaterThan(0)
  })
})
