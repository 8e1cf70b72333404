/**
 * `pnpm bench`: runs the scenarios, every subject in a fresh child process, several times;
 * prints a table of medians with effect-mode's ratio to each baseline, and writes the rows
 * as JSON with `--json FILE`.
 *
 * @since 0.0.0
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { cpus } from "node:os"
import { resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs, usage } from "./args.js"
import type { Row } from "./Row.js"
import { scenarios } from "./scenarios/index.js"
import { runInChild } from "./spawn.js"
import { medianRow, renderGroup } from "./table.js"

// pnpm runs the script in the package directory; paths on the command line are relative to
// where `pnpm bench` was typed.
const userDir = process.env["INIT_CWD"] ?? process.cwd()

const workspaceDir = fileURLToPath(new URL("../../..", import.meta.url))

/** `pnpm build`: tsc -b of the packages into their dist/, which the children then load. */
const build = (): void => {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")
  console.error("building the packages (tsc -b; --source measures the sources instead)")
  execFileSync(process.execPath, [tsc, "-b", "packages/core/tsconfig.build.json", "packages/node/tsconfig.build.json"], {
    cwd: workspaceDir,
    stdio: "inherit"
  })
}

const summary = (row: Row, keys: ReadonlyArray<string>): string =>
  keys.filter((k) => row[k] !== undefined).map((k) => `${k}=${row[k]}`).join(" ")

const main = async (): Promise<void> => {
  const args = parseArgs(process.argv.slice(2), scenarios.map((s) => s.name))
  if (args.help) {
    console.log(usage)
    return
  }
  const cpuProfDir = args.cpuProf === undefined ? undefined : resolve(userDir, args.cpuProf)
  if (cpuProfDir !== undefined) mkdirSync(cpuProfDir, { recursive: true })
  if (!args.source) build()
  console.log(
    `effect-mode bench — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ` +
      `${process.platform}/${process.arch}, effect-mode from ${args.source ? "its sources (tsx)" : "dist/"}`
  )
  const all: Array<Row> = []
  const tables: Array<string> = []
  for (const name of args.scenarios) {
    const scenario = scenarios.find((s) => s.name === name)!
    const subjects = args.subjects === undefined
      ? scenario.subjects
      : scenario.subjects.filter((s) => args.subjects!.includes(s))
    if (subjects.length === 0) continue
    for (const n of args.sizes ?? scenario.defaultSizes) {
      const runs = args.runs ?? scenario.defaultRuns(n)
      const perSubject = new Map<string, Array<Row>>(subjects.map((s) => [s, []]))
      // Interleave the subjects run by run, so that a slow phase of the machine hits them alike.
      for (let r = 1; r <= runs; r++) {
        for (const subject of subjects) {
          const row = await runInChild(scenario.name, subject, n, { cpuProfDir, dist: !args.source })
          perSubject.get(subject)!.push(row)
          console.error(
            `  ${scenario.name} n=${n} ${subject} run ${r}/${runs}: ` +
              summary(row, ["wallMs", ...scenario.columns.map((c) => c.key)])
          )
        }
      }
      const rows = subjects.map((s) => medianRow(perSubject.get(s)!))
      all.push(...rows)
      const table = renderGroup(scenario.name, n, rows, scenario.columns)
      tables.push(table)
      console.log(`\n${table}\n`)
    }
  }
  if (tables.length > 1) console.log(`\n=== summary (medians) ===\n\n${tables.join("\n\n")}\n`)
  if (args.json !== undefined) {
    const file = resolve(userDir, args.json)
    writeFileSync(file, JSON.stringify(all, null, 2) + "\n")
    console.log(`wrote ${all.length} rows to ${file}`)
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
