/**
 * Nothing outlives a stop (SPEC section 8):
 * - in a real Node process, a stopped tree (tasks, a `Service.timer`, a crontab, an
 *   `itertimer`, a future, a context holding a real `setInterval`) holds no timer: the
 *   program exits by itself with code 0; a crashed one ends `Service.run` and exits by
 *   itself with code 1. A running tree, the control, does keep Node alive;
 * - every Effect test of this package runs under the leak-checked `it` (./support/it.js),
 *   which fails a test that leaves a fiber of its services alive.
 */
import { describe, expect } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { spawn } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Service, Testing } from "@effect-mode/core"
import { it } from "./support/it.js"

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = join(here, "..", "..", "..")
const fixture = join(here, "fixtures", "stoppedProgram.ts")

/** Far beyond what the program needs; only there so that a hang fails instead of blocking CI. */
const HANG_BOUND = "25 seconds"

interface Ended {
  readonly code: number | null
  readonly signal: string | null
  readonly result: {
    readonly mode: string
    readonly ticks: number
    readonly ended: string
    readonly state: string
    readonly resources: ReadonlyArray<string>
  } | undefined
  readonly stderr: string
}

/** Runs the fixture in `mode` and waits for the process to exit by itself. */
const runFixture = (mode: "stop" | "crash" | "running") =>
  Effect.async<Ended>((resume) => {
    const child = spawn(process.execPath, ["--import", "tsx", fixture, mode], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += String(chunk)))
    child.stderr.on("data", (chunk) => (stderr += String(chunk)))
    child.on("exit", (code, signal) => {
      const line = stdout.split("\n").find((l) => l.startsWith("RESULT "))
      resume(Effect.succeed({ code, signal, result: line === undefined ? undefined : JSON.parse(line.slice(7)), stderr }))
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  }).pipe(
    Effect.timeoutFail({
      duration: HANG_BOUND,
      onTimeout: () => new Error(`the ${mode} program did not exit by itself within ${HANG_BOUND}`)
    })
  )

/** What keeps the program alive once it returned, but its own stdout/stderr pipes. */
const handles = (ended: Ended): ReadonlyArray<string> =>
  (ended.result?.resources ?? ["no result"]).filter((r) => r !== "PipeWrap" && r !== "TTYWrap")

describe("a stopped program exits by itself", () => {
  it.live("stopped: no timer, socket or fiber keeps Node alive; exit code 0", () =>
    Effect.gen(function*() {
      const ended = yield* runFixture("stop")
      expect(ended.result).toMatchObject({ mode: "stop", ticks: 3, ended: "ok", state: "shutdown" })
      expect(handles(ended)).toEqual([])
      expect(ended).toMatchObject({ code: 0, signal: null })
    }))

  it.live("crashed: Service.run ends with the crash, the tree is stopped, exit code 1 set by the program", () =>
    Effect.gen(function*() {
      const ended = yield* runFixture("crash")
      expect(ended.result).toMatchObject({ mode: "crash", ended: "crashed", state: "crashed" })
      expect(handles(ended)).toEqual([])
      expect(ended).toMatchObject({ code: 1, signal: null })
    }))

  it.live("the control: a running tree does hold timers (so the two tests above prove something)", () =>
    Effect.gen(function*() {
      const ended = yield* runFixture("running")
      expect(ended.result?.state).toBe("running")
      expect(handles(ended)).toContain("Timeout")
    }))
})

describe("every Effect test is leak-checked", () => {
  it.plain("each test file of @effect-mode/core takes `it` from ./support/it.js, never straight from vitest", () => {
    const files = readdirSync(here).filter((f) => f.endsWith(".test.ts"))
    expect(files.length).toBeGreaterThan(10)
    const offenders = files.filter((f) => {
      const text = readFileSync(join(here, f), "utf8")
      const usesOurs = /import \{ it \} from "\.\/support\/it\.js"/.test(text)
      const usesTheirs = /import \{[^}]*\bit\b[^}]*\} from "(@effect\/vitest|vitest)"/.test(text)
      return !usesOurs || usesTheirs
    })
    expect(offenders).toEqual([])
  })

  it.effect("the leak check fails a program whose service is left running, and passes once it is stopped", () =>
    Effect.gen(function*() {
      const svc = yield* Service.make("Forgotten", { tasks: [Service.task(() => Effect.never)] })
      const error = yield* Effect.flip(Testing.leakFree(svc.start))
      expect(error._tag).toBe("LeakedFibers")
      yield* svc.stop // so this test itself leaks nothing
      yield* Testing.leakFree(Effect.zipRight(svc.start, svc.stop))
    }))
})

describe("the timer scheduler's driver belongs to the scheduler", () => {
  it.effect("leakFree does not count as its own a driver that goes on for another service's timer", () =>
    Effect.gen(function*() {
      const b = yield* Service.make("B", { tasks: [Service.timer("10 seconds", () => Effect.void)] })
      yield* b.start
      const checked = yield* Effect.either(Testing.leakFree(Effect.gen(function*() {
        // an earlier due instant than the driver's: a new driver replaces it, forked from here
        const a = yield* Service.make("A", { tasks: [Service.timer("1 second", () => Effect.void)] })
        yield* a.start
        yield* TestClock.adjust("2 seconds")
        yield* a.stop
      })))
      yield* b.stop
      expect(checked._tag).toBe("Right")
    }))
})
