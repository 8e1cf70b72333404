/**
 * The demo (`pnpm demo`) as a real process: it prints its tree, runs, prints the dump on
 * SIGUSR2 and stops cleanly (in reverse order, exit 0) on Ctrl-C.
 */
import { afterEach, expect, it } from "vitest"
import { killAll, runScript } from "./support/child.js"

afterEach(killAll)

it("the demo prints its tree, dumps on SIGUSR2 and stops cleanly on SIGINT", async () => {
  const demo = runScript("packages/examples/src/demo.ts")
  await demo.waitFor(/\[\^--Flaky\]: Starting\.\.\./)
  const tree = demo.output()
  expect(tree).toContain(["Demo", "├─ Producer", "├─ Consumer", "├─ Committer", "├─ Reporter", "└─ FlakySupervisor", "   └─ Flaky"].join("\n"))
  demo.signal("SIGUSR2")
  await demo.waitFor(/^=== end of dump ===/)
  expect(demo.output()).toMatch(/^ {4}Flaky #\d+ \[running\]/m)
  expect(demo.output()).toMatch(/^ {4}- report #\d+: status=/m)
  demo.signal("SIGINT")
  expect(await demo.exited).toEqual({ code: 0, signal: null })
  const stops = demo.lines.map((l) => /\[\^-*(\w+)\]: -Stopped!/.exec(l.text)?.[1]).filter((s) => s !== undefined)
  expect(stops).toEqual(["Flaky", "FlakySupervisor", "Reporter", "Committer", "Consumer", "Producer", "Demo"])
  expect(demo.output()).toContain("final commit at offset")
}, 20_000)
