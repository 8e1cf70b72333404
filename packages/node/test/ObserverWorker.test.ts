/**
 * The observer mounted on the Worker's health server (the demo as a real process, with
 * `health.observer: true`): under `/observer` beside the health endpoints, which keep
 * answering; actions off unless a token is given.
 */
import { afterEach, expect, it } from "vitest"
import { killAll, runScript } from "./support/child.js"

afterEach(killAll)

it("the demo's health server serves the observer under /observer, the health endpoints as before", async () => {
  const demo = runScript("packages/examples/src/demo.ts", { DEMO_HEALTH_PORT: "0" })
  const line = await demo.waitFor(/Health endpoints on http:\/\/127\.0\.0\.1:\d+ \(\/livez \/readyz \/healthz \/debug \/observer\)/)
  const base = /http:\/\/127\.0\.0\.1:\d+/.exec(line.text)![0]
  await demo.waitFor(/\[\^--Flaky\]: Starting\.\.\./)
  expect((await fetch(`${base}/livez`)).status).toBe(200)
  const page = await fetch(`${base}/observer`)
  expect(page.status).toBe(200)
  expect(await page.text()).toContain("<title>effect-mode observer</title>")
  const state = await (await fetch(`${base}/observer/state`)).json() as { actions: boolean; nodes: Array<{ path: string }> }
  expect(state.actions).toBe(false)
  expect(state.nodes.map((n) => n.path)).toEqual([
    "Demo",
    "Demo/Producer",
    "Demo/Consumer",
    "Demo/Committer",
    "Demo/Reporter",
    "Demo/FlakySupervisor",
    "Demo/FlakySupervisor/Flaky"
  ])
  const refused = await fetch(`${base}/observer/actions/dump`, { method: "POST" })
  expect(refused.status).toBe(403)
  // Outside /observer the health server answers as before.
  expect((await fetch(`${base}/observers`)).status).toBe(404)
  expect((await fetch(`${base}/livez`, { method: "POST" })).status).toBe(405)
  demo.signal("SIGINT")
  expect(await demo.exited).toEqual({ code: 0, signal: null })
}, 20_000)
