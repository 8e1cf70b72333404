/**
 * The shutdown scenario: a worker running N services, as a child process; the time from
 * SIGTERM to the process's exit.
 *
 * @since 0.0.0
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { now } from "../measure.js"
import type { Row } from "../Row.js"
import { round } from "../stats.js"

const workerScript = fileURLToPath(new URL("./shutdownWorker.ts", import.meta.url))
const packageDir = fileURLToPath(new URL("../..", import.meta.url))

/** How the worker of the shutdown scenario is run. */
export const RUNNER = "Worker.runMain(root)"

/**
 * Spawns the worker for `subject` with `n` services, waits until it is ready, sends SIGTERM
 * and returns its row: `wallMs` (SIGTERM to exit), `readyMs` (spawn to ready, including
 * Node's start-up), `peakRssMb` (of the worker), `exitCode`.
 *
 * @example
 * ```ts
 * import { runShutdown } from "@effect-mode/bench/scenarios/shutdown"
 *
 * const row = await runShutdown("effect-mode", 10_000)
 * ```
 *
 * @since 0.0.0
 */
export const runShutdown = (subject: string, n: number): Promise<Row> =>
  new Promise((resolve, reject) => {
    const spawnedAt = now()
    const child = spawn(process.execPath, ["--import", "tsx", workerScript, subject, String(n)], {
      cwd: packageDir,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let readyAt: number | undefined
    let termAt: number | undefined
    let stderr = ""
    const killer = setTimeout(() => child.kill("SIGKILL"), 120_000)
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      if (readyAt === undefined && chunk.includes("READY")) {
        readyAt = now()
        termAt = now()
        child.kill("SIGTERM")
      }
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    child.on("error", reject)
    child.on("exit", (code, signal) => {
      const exitAt = now()
      clearTimeout(killer)
      if (termAt === undefined || readyAt === undefined) {
        reject(new Error(`shutdown/${subject}: the worker exited (${signal ?? code}) before it was ready\n${stderr.slice(-4000)}`))
        return
      }
      const rss = /@@rss ([\d.]+)/.exec(stderr)
      resolve({
        scenario: "shutdown",
        n,
        subject,
        wallMs: round(exitAt - termAt),
        peakRssMb: rss === null ? Number.NaN : round(Number(rss[1]), 1),
        readyMs: round(readyAt - spawnedAt),
        exitCode: code ?? Number.NaN,
        runner: subject === "effect-mode" ? RUNNER : "NodeRuntime.runMain(Effect.scoped(tree))"
      })
    })
  })
