/**
 * The worker's stop in a real process: a signal interrupts the making of the root, and
 * past the shutdown deadline what is left gets a bounded chance to finish, with what did
 * not finish named.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Worker } from "@effect-mode/node"
import { killAll, marks, runFixture } from "./support/child.js"

afterEach(killAll)

const T = 20_000

describe("Worker.runMain: stopping", () => {
  it("a signal during the root effect interrupts it, releases what it acquired and exits 0", async () => {
    const child = runFixture("making", { MAKE: "slow" })
    await child.waitFor(/^MARK making/)
    child.signal("SIGTERM")
    expect(await child.exited).toEqual({ code: 0, signal: null })
    expect(marks(child)).toEqual(["making", "make released"])
    expect(child.output()).toContain("[Worker] Stopped after SIGTERM; exiting with code 0")
    expect(child.output()).not.toContain("App")
  }, T)

  it("a root effect that cannot be interrupted is named by the deadline", async () => {
    const child = runFixture("making", { MAKE: "stuck" })
    await child.waitFor(/^MARK making/)
    child.signal("SIGTERM")
    expect((await child.exited).code).toBe(Worker.ExitCode.shutdownTimeout)
    const out = child.output()
    expect(out).toContain(
      "Shutdown did not finish within 1s; not stopped in time: (no service: the root effect, still making the root service);"
    )
    // Its scope is released in the grace, even though the make itself never ends.
    expect(marks(child)).toEqual(["making", "make released"])
    expect(out).toContain("Not finished within shutdownGrace 200ms: the root effect, still making the root service")
  }, T)

  it("past the deadline, the rest gets a bounded chance: other services stop, the root's resources are released", async () => {
    const child = runFixture("hung", { HUNG_TIMEOUT: "1 second" })
    await child.waitFor(/^MARK READY/)
    child.signal("SIGTERM")
    expect((await child.exited).code).toBe(Worker.ExitCode.shutdownTimeout)
    // Stuck is stopped first (reverse order) and hangs; once the deadline passed its onStop
    // is cut and the rest of its stop runs, Fine and the root's resource are taken care of.
    expect(marks(child).slice(0, 2)).toEqual(["READY", "onStop Stuck (hangs)"])
    expect(marks(child).slice(2).sort()).toEqual(["finalizer Stuck", "onShutdown Stuck", "onStop Fine", "root resources released"])
    const out = child.output()
    expect(out).toMatch(/Shutdown did not finish within 1s; not stopped in time: App\/Stuck \(stopping\); interrupting what is left \(shutdownGrace 2s\)/)
    expect(out).toMatch(/What was left finished within shutdownGrace 2s$/m)
  }, T)

  it("past the deadline, the stop that then finishes in the grace does not log an exit code of its own (the deadline's 124 is the one)", async () => {
    const child = runFixture("rootHung")
    await child.waitFor(/^MARK READY/)
    child.signal("SIGTERM")
    expect((await child.exited).code).toBe(Worker.ExitCode.shutdownTimeout)
    expect(marks(child)).toEqual(["READY", "onStop App (hangs)", "onShutdown App"])
    const out = child.output()
    expect(out).toMatch(/Shutdown did not finish within 1s; not stopped in time: App \(stopping\)/)
    expect(out).toMatch(/What was left finished within shutdownGrace 2s$/m)
    expect(out).not.toMatch(/exiting with code 0/)
    expect(out.match(/exiting with code/g)).toHaveLength(1)
  }, T)

  it("runMain(layer): past the deadline, a service queued behind the stuck one is stopped; what was left finished in the grace", async () => {
    const child = runFixture("layerHung")
    await child.waitFor(/^MARK READY/)
    child.signal("SIGTERM")
    expect((await child.exited).code).toBe(Worker.ExitCode.shutdownTimeout)
    expect(marks(child)).toEqual(["READY", "onStop Cache (hangs)", "onShutdown Db"])
    // Cache's hung onStop was cut at the deadline, so Cache stopped, then Db: the layer's
    // release finished in the grace (it used to be named as unfinished whatever happened).
    expect(child.output()).toMatch(/What was left finished within shutdownGrace 1s$/m)
    expect(child.output()).not.toMatch(/Not finished within shutdownGrace/)
  }, T)
})
