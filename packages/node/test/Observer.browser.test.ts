/**
 * The observer page in a real browser (Debian's Chromium, driven by playwright-core) against
 * the demo run as a real process with its health server and observer on: every service
 * shows with its state, a crash asked for on the page shows in the feed followed by the
 * supervisor's restart, and the screenshot of docs/guide/observer.png is taken.
 */
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll, afterEach, beforeAll, expect, it } from "vitest"
import { killAll, runScript } from "./support/child.js"

const executablePath = "/usr/bin/chromium"
const screenshot = fileURLToPath(new URL("../../../docs/guide/observer.png", import.meta.url))
const token = "observer-test-token"
const tree = [
  "Demo",
  "Demo/Producer",
  "Demo/Consumer",
  "Demo/Committer",
  "Demo/Reporter",
  "Demo/FlakySupervisor",
  "Demo/FlakySupervisor/Flaky"
]
/** The bound of every wait on the page. */
const bound = { timeout: 15_000 }

let browser: Browser | undefined

beforeAll(async () => {
  if (!existsSync(executablePath)) throw new Error(`${executablePath} is missing: run .ci/install-chromium.sh`)
  browser = await chromium.launch({
    executablePath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync"
    ]
  })
})

afterAll(async () => {
  await browser?.close()
})

afterEach(killAll)

const states = (page: Page) =>
  page.$$eval(".node", (els) => els.map((e) => [(e as HTMLElement).dataset["path"], (e as HTMLElement).dataset["state"]]))

it("shows the demo's tree live, with a crash and its restart in the feed", async () => {
  const demo = runScript("packages/examples/src/demo.ts", { DEMO_HEALTH_PORT: "0", DEMO_OBSERVER_TOKEN: token })
  const line = await demo.waitFor(/Health endpoints on http:\/\/127\.0\.0\.1:\d+ .*\/observer/)
  const base = /http:\/\/127\.0\.0\.1:\d+/.exec(line.text)![0]
  await demo.waitFor(/\[\^--Flaky\]: Starting\.\.\./)

  const page = await browser!.newPage({ viewport: { width: 1360, height: 760 } })
  const errors: Array<string> = []
  page.on("pageerror", (e) => errors.push(String(e)))
  const requests: Array<string> = []
  page.on("request", (r) => requests.push(r.url()))
  await page.goto(`${base}/observer?token=${token}`)

  // Every service of the tree, running.
  await page.waitForFunction(
    (paths) => paths.every((p) => document.querySelector(`.node[data-path="${p}"]`)?.getAttribute("data-state") === "running"),
    tree,
    bound
  )
  expect((await states(page)).map(([p]) => p).sort()).toEqual([...tree].sort())
  await page.waitForFunction(() => document.getElementById("conn")?.textContent === "live", undefined, bound)
  // The token left the address bar (it stays in the tab's session storage).
  expect(page.url()).toBe(`${base}/observer`)

  // Diag flags and their last transition: the Committer sets COMMITTING every 2 seconds.
  await page.click('.node[data-path="Demo/Committer"] > .row')
  await page.waitForFunction(() => /COMMITTING\s*(set|unset)\s*\d+s ago/.test(document.getElementById("info")!.innerText), undefined, bound)
  expect(await page.textContent("#info")).toContain("commit")

  // A crash asked for on the page (with the token): the feed shows it, then the restart.
  await page.click('.node[data-path="Demo/FlakySupervisor/Flaky"] > .row')
  await page.waitForSelector('#info >> text=poll', bound)
  const restartsBefore = await page.$$eval('.ev[data-kind="restart"][data-path="Demo/FlakySupervisor/Flaky"]', (els) => els.length)
  await page.click('#acts button[data-action="crash"]')
  await page.waitForFunction(() => {
    const items = Array.from(document.querySelectorAll<HTMLElement>('#feed .ev[data-path="Demo/FlakySupervisor/Flaky"]'))
    const crash = items.findIndex((e) => e.dataset["kind"] === "crash" && e.textContent!.includes("crashed from the observer"))
    // Newest first: the restart after that crash is above it.
    return crash > 0 && items.slice(0, crash).some((e) => e.dataset["kind"] === "restart")
  }, undefined, bound)
  expect(await page.$$eval('.ev[data-kind="restart"][data-path="Demo/FlakySupervisor/Flaky"]', (els) => els.length))
    .toBeGreaterThan(restartsBefore)
  expect(await page.textContent("#notice")).toContain("crash of Demo/FlakySupervisor/Flaky requested")
  // The crashed service is running again, with its restart count on its row.
  await page.waitForFunction(
    () => document.querySelector('.node[data-path="Demo/FlakySupervisor/Flaky"]')?.getAttribute("data-state") === "running",
    undefined,
    bound
  )
  expect(await page.textContent('.node[data-path="Demo/FlakySupervisor/Flaky"] > .row .rc')).toMatch(/↻ \d+/)

  await page.screenshot({ path: screenshot })
  expect(errors).toEqual([])
  // Nothing but the observer's own server was asked for anything.
  expect(requests.filter((u) => !u.startsWith(base))).toEqual([])
  await page.close()

  demo.signal("SIGINT")
  expect(await demo.exited).toEqual({ code: 0, signal: null })
}, 60_000)
