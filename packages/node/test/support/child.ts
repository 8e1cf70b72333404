/**
 * Runs a fixture as a real child process (`node --import tsx <fixture>` from the repo
 * root) and follows its output line by line: tests wait for lines, never for time.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url))

export interface Line {
  readonly stream: "stdout" | "stderr"
  readonly text: string
}

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface Child {
  readonly process: ChildProcess
  readonly lines: Array<Line>
  /** All output so far, both streams. */
  readonly output: () => string
  /** Resolves with the first line (already seen or to come) that matches. */
  readonly waitFor: (pattern: RegExp) => Promise<Line>
  readonly exited: Promise<Exit>
  readonly signal: (signal: NodeJS.Signals) => void
}

const running = new Set<ChildProcess>()

/** Kills what a failed test left behind (call from `afterEach`). */
export const killAll = (): void => {
  for (const child of running) child.kill("SIGKILL")
  running.clear()
}

/** Runs `packages/node/test/fixtures/<name>.ts`. */
export const runFixture = (name: string, env: Record<string, string> = {}): Child =>
  runScript(`packages/node/test/fixtures/${name}.ts`, env)

/** Runs a TypeScript file given by its path from the repo root. */
export const runScript = (path: string, env: Record<string, string> = {}): Child => {
  const child = spawn(process.execPath, ["--import", "tsx", path], {
    cwd: repoRoot,
    env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1", LOG_LEVEL: "", LOG_FORMAT: "", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  running.add(child)
  const lines: Array<Line> = []
  const waiters: Array<{ pattern: RegExp; resolve: (line: Line) => void }> = []
  const exited = new Promise<Exit>((resolve) => {
    child.on("close", (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
    })
  })
  const follow = (stream: "stdout" | "stderr") => {
    let rest = ""
    child[stream]!.setEncoding("utf8")
    child[stream]!.on("data", (chunk: string) => {
      const parts = (rest + chunk).split("\n")
      rest = parts.pop()!
      for (const text of parts) {
        const line = { stream, text }
        lines.push(line)
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (waiters[i]!.pattern.test(text)) {
            waiters[i]!.resolve(line)
            waiters.splice(i, 1)
          }
        }
      }
    })
  }
  follow("stdout")
  follow("stderr")
  const output = () => lines.map((l) => l.text).join("\n")
  return {
    process: child,
    lines,
    output,
    exited,
    signal: (signal) => {
      process.kill(child.pid!, signal)
    },
    waitFor: (pattern) => {
      const seen = lines.find((l) => pattern.test(l.text))
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise<Line>((resolve, reject) => {
        waiters.push({ pattern, resolve })
        // A child that exits before printing the line fails the wait with its output.
        void exited.then((exit) =>
          setImmediate(() => {
            const i = waiters.findIndex((w) => w.pattern === pattern)
            if (i < 0) return
            waiters.splice(i, 1)
            reject(new Error(`exited (${exit.code ?? exit.signal}) before printing ${pattern}:\n${output()}`))
          })
        )
      })
    }
  }
}

/** The MARK lines of a fixture, in order. */
export const marks = (child: Child): Array<string> =>
  child.lines.filter((l) => l.text.startsWith("MARK ")).map((l) => l.text.slice(5))
