/**
 * The observer page in a real browser (Debian's Chromium, driven by playwright-core) against
 * the demo run as a real process with its health server and observer on: every service
 * shows with its state, a crash asked for on the page shows in the feed followed by the
 * supervisor's restart, and the screenshot of docs/guide/observer.png is taken. And against
 * a tree of 2,001 services: the page shows them all (subtrees collapsed) and a change to one
 * service rewrites that service's row only.
 */
import { existsSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll, afterEach, beforeAll, expect, it as base } from "vitest"
import { killAll, runScript } from "./support/child.js"

// The browser's globals, for the functions that run in the page (the package is compiled without the DOM lib).
declare const document: any
declare const window: any
declare const MutationObserver: any
declare const Element: any

const executablePath = "/usr/bin/chromium"
// The docs' screenshot is rewritten only on request (OBSERVER_SCREENSHOT=1), so that a test run
// leaves the working tree as it was; otherwise it goes to the temp folder (and is still taken).
const screenshot = process.env.OBSERVER_SCREENSHOT === "1"
  ? fileURLToPath(new URL("../../../docs/guide/observer.png", import.meta.url))
  : path.join(os.tmpdir(), `observer-${process.pid}.png`)
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

/**
 * Without Chromium the tests are skipped on a developer's machine (the README asks only
 * for Node) and fail under CI (`.ci/run` installs it: `.ci/install-chromium.sh`).
 */
const present = existsSync(executablePath)
if (!present && process.env["CI"] !== undefined) throw new Error(`${executablePath} is missing: run .ci/install-chromium.sh`)
const it = present ? base : base.skip

let browser: Browser | undefined

beforeAll(async () => {
  if (!present) return
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
  page.$$eval(".node", (els) => els.map((e: any) => [e.dataset["path"], e.dataset["state"]]))

it("shows the demo's tree live, with a crash and its restart in the feed", async () => {
  const demo = runScript("packages/examples/src/demo.ts", { DEMO_HEALTH_PORT: "0", DEMO_OBSERVER_TOKEN: token })
  const line = await demo.waitFor(/Health endpoints on http:\/\/127\.0\.0\.1:\d+ .*\/observer/)
  const base = /http:\/\/127\.0\.0\.1:\d+/.exec(line.text)![0]
  await demo.waitFor(/\[\^--Flaky\]: Starting\.\.\./)

  const page = await browser!.newPage({ viewport: { width: 1280, height: 720 } })
  const errors: Array<string> = []
  page.on("pageerror", (e) => errors.push(String(e)))
  // A script error or a violation of the page's content security policy shows here.
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()))
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
  // Its timer's statistics, from the core's metrics.
  await page.waitForFunction(() => /commit\s*\d+\s*\d+\s*[\d.]+ ms/.test(document.getElementById("info")!.innerText), undefined, bound)

  // A supervisor's strategy and figures.
  await page.click('.node[data-path="Demo/FlakySupervisor"] > .row')
  await page.waitForFunction(() => /strategy\s*oneForOne/.test(document.getElementById("info")!.innerText), undefined, bound)
  expect(await page.textContent('.node[data-path="Demo/FlakySupervisor"] > .row .sv')).toBe("oneForOne")
  // The supervisor's restart intensity now: restarts in the current window, of its maximum.
  await page.waitForFunction(() => /in the window\d+ of \d+ restarts in/.test(document.getElementById("details")!.textContent!), undefined, bound)

  // A crash asked for on the page (with the token): the feed shows it, then the restart.
  await page.click('.node[data-path="Demo/FlakySupervisor/Flaky"] > .row')
  await page.waitForSelector('#info >> text=poll', bound)
  const restartsBefore = await page.$$eval('.ev[data-kind="restart"][data-path="Demo/FlakySupervisor/Flaky"]', (els) => els.length)
  await page.click('#acts button[data-action="crash"]')
  await page.waitForFunction(() => {
    const items = Array.from<any>(document.querySelectorAll('#feed .ev[data-path="Demo/FlakySupervisor/Flaky"]'))
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

  // For the screenshot: one of Flaky's own crashes (every 4th poll) in the feed too.
  await page.waitForFunction(() => document.getElementById("feed")!.innerText.includes("upstream returned 503"), undefined, bound)
  await page.screenshot({ path: screenshot, animations: "disabled" })
  expect(errors).toEqual([])
  // Nothing but the observer's own server was asked for anything.
  expect(requests.filter((u) => !u.startsWith(base))).toEqual([])
  await page.close()

  demo.signal("SIGINT")
  expect(await demo.exited).toEqual({ code: 0, signal: null })
}, 60_000)

it("a 2,001-service tree: every service shows, and a crash and restart rewrite only that service's row", async () => {
  const big = runScript("packages/node/test/fixtures/observer-big.ts", { OBSERVER_TOKEN: token })
  const line = await big.waitFor(/Health endpoints on http:\/\/127\.0\.0\.1:\d+ .*\/observer/)
  const base = /http:\/\/127\.0\.0\.1:\d+/.exec(line.text)![0]
  await big.waitFor(/^MARK READY/)

  const page = await browser!.newPage({ viewport: { width: 1360, height: 760 } })
  const errors: Array<string> = []
  page.on("pageerror", (e) => errors.push(String(e)))
  await page.goto(`${base}/observer?token=${token}`)
  await page.waitForFunction(() => {
    const all = document.querySelectorAll(".node")
    return all.length === 2001 && Array.from<any>(all).every((e) => e.getAttribute("data-state") === "running")
  }, undefined, { timeout: 30_000 })
  const shownRows = () => page.$$eval(".node > .row", (rows) => rows.filter((r: any) => r.offsetParent !== null).length)
  // A big tree opens with the subtrees under the supervisors collapsed: Big and its 20 groups.
  expect(await shownRows()).toBe(21)

  // From here on, record which service rows the page rewrites (the uptime counters aside).
  await page.evaluate(() => {
    const touched = new Set<string>()
    ;window.touched = touched
    new MutationObserver((records: Array<any>) => {
      for (const r of records) {
        const target = r.target instanceof Element ? r.target : r.target.parentElement
        if (target === null || target.closest(".up") !== null) continue
        const node = target.closest(".node")
        if (node !== null) touched.add(node.dataset["path"]!)
      }
    }).observe(document.getElementById("tree")!, { subtree: true, childList: true, attributes: true, characterData: true })
  })
  await page.click('.node[data-path="Big/Group-7"] > .row .tw')
  expect(await shownRows()).toBe(21 + 99)
  const leaf = "Big/Group-7/Leaf-7-42"
  await page.click(`.node[data-path="${leaf}"] > .row`)
  await page.click('#acts button[data-action="crash"]')
  await page.waitForFunction((path) => {
    const items = Array.from<any>(document.querySelectorAll(`#feed .ev[data-path="${path}"]`))
    const crash = items.findIndex((e) => e.dataset["kind"] === "crash")
    return crash > 0 && items.slice(0, crash).some((e) => e.dataset["kind"] === "restart") &&
      document.querySelector(`.node[data-path="${path}"]`)?.getAttribute("data-state") === "running"
  }, leaf, { timeout: 30_000 })
  const touched: Array<string> = await page.evaluate(() => Array.from<string>(window.touched).sort())
  // The group (expanded), the leaf (selected, crashed, restarted): not the 1,999 others.
  expect(touched).toContain(leaf)
  expect(touched.filter((p) => p !== leaf && p !== "Big/Group-7")).toEqual([])
  expect(errors).toEqual([])
  await page.close()

  big.signal("SIGTERM")
  expect(await big.exited).toEqual({ code: 0, signal: null })
}, 90_000)

it("the orders daemon (layers): a service's details show the layer graph's edges", async () => {
  const orders = runScript("packages/examples/src/orders/main.ts", { ORDERS_HEALTH_PORT: "0" })
  const line = await orders.waitFor(/Health endpoints on http:\/\/127\.0\.0\.1:\d+ .*\/observer/)
  const base = /http:\/\/127\.0\.0\.1:\d+/.exec(line.text)![0]

  const page = await browser!.newPage({ viewport: { width: 1280, height: 720 } })
  const errors: Array<string> = []
  page.on("pageerror", (e) => errors.push(String(e)))
  await page.goto(`${base}/observer`)
  await page.waitForFunction(
    () => document.querySelector('.node[data-path="Worker/Consumer"]')?.getAttribute("data-state") === "running",
    undefined,
    bound
  )
  await page.click('.node[data-path="Worker/Consumer"] > .row')
  const details = async () => (await page.textContent("#details")) ?? ""
  await page.waitForFunction(() => document.getElementById("details")!.textContent!.includes("depends on"), undefined, bound)
  expect(await details()).toMatch(/depends on.*PaymentGateway/)
  expect(await details()).toMatch(/used by.*Worker\/Producer/)
  await page.click('.node[data-path="Worker/Database"] > .row')
  await page.waitForFunction(() => document.getElementById("details")!.textContent!.includes("used by"), undefined, bound)
  expect(await details()).toMatch(/used by.*PaymentGateway/)
  expect(await details()).not.toContain("depends on")
  expect(errors).toEqual([])
  await page.close()

  orders.signal("SIGTERM")
  expect(await orders.exited).toEqual({ code: 0, signal: null })
}, 60_000)
