/**
 * Runs one subject of one scenario in a fresh child process and reads its row back.
 *
 * @since 0.0.0
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { ROW_MARK, type Row } from "./Row.js"

const childScript = fileURLToPath(new URL("./child.ts", import.meta.url))
const packageDir = fileURLToPath(new URL("..", import.meta.url))

/**
 * The export condition under which the workspace's packages resolve to their built `dist/`
 * (their `package.json` `exports`; without it, to their TypeScript sources).
 *
 * @example
 * ```ts
 * import { DIST_CONDITION } from "@effect-mode/bench/spawn"
 *
 * console.log(`node --conditions=${DIST_CONDITION} app.js`)
 * ```
 *
 * @since 0.0.0
 */
export const DIST_CONDITION = "effect-mode-dist"

/**
 * Options of `runInChild`.
 *
 * @example
 * ```ts
 * import type { ChildOptions } from "@effect-mode/bench/spawn"
 *
 * const options: ChildOptions = { cpuProfDir: "profiles" }
 * ```
 *
 * @since 0.0.0
 */
export interface ChildOptions {
  /** Write a V8 CPU profile of the child into this directory. */
  readonly cpuProfDir?: string | undefined
  /**
   * Load `@effect-mode/core` and `@effect-mode/node` from their built `dist/` (the
   * `effect-mode-dist` export condition), as a user's program does, instead of their sources
   * compiled on the fly by tsx (which adds a `__name` call per named function it creates, and
   * keeps line numbers of the source). Build them first (`pnpm build`).
   */
  readonly dist?: boolean | undefined
}

/**
 * The command line of the child that runs `subject` of `scenario` at size `n`.
 *
 * @example
 * ```ts
 * import { childArgs } from "@effect-mode/bench/spawn"
 *
 * childArgs("tree", "effect-mode", 1000, { dist: true }) // ["--expose-gc", ..., "--conditions=effect-mode-dist", ...]
 * ```
 *
 * @since 0.0.0
 */
export const childArgs = (scenario: string, subject: string, n: number, options: ChildOptions = {}): Array<string> => {
  // A large heap limit: at 100k services the default (about 4 GB) can be too small.
  const flags = ["--expose-gc", "--max-old-space-size=16384", "--import", "tsx"]
  if (options.dist === true) flags.push(`--conditions=${DIST_CONDITION}`)
  if (options.cpuProfDir !== undefined) flags.push("--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`)
  return [...flags, childScript, scenario, subject, String(n)]
}

/**
 * Spawns `node --expose-gc --import tsx src/child.ts scenario subject n` and resolves with the
 * row it prints; rejects (with its stderr) when it exits without one.
 *
 * @example
 * ```ts
 * import { runInChild } from "@effect-mode/bench/spawn"
 *
 * const row = await runInChild("tree", "effect-mode", 1000)
 * ```
 *
 * @since 0.0.0
 */
export const runInChild = (scenario: string, subject: string, n: number, options: ChildOptions = {}): Promise<Row> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, childArgs(scenario, subject, n, options), {
      cwd: packageDir,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    child.on("error", reject)
    child.on("close", (code, signal) => {
      const line = stdout.split("\n").find((l) => l.startsWith(ROW_MARK))
      if (code === 0 && line !== undefined) {
        resolve(JSON.parse(line.slice(ROW_MARK.length)) as Row)
      } else {
        reject(
          new Error(
            `${scenario}/${subject}/n=${n}: child exited with ${signal ?? code} and no row\n${stderr.slice(-4000)}`
          )
        )
      }
    })
  })
