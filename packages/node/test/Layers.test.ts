/**
 * Layer-first programs as real processes: the orders example (`pnpm orders`) and a service
 * hidden by the user's own layer. The Worker finds every service through the layer graph.
 */
import { afterEach, describe, expect, it } from "vitest"
import { type Child, killAll, runFixture, runScript } from "./support/child.js"

afterEach(killAll)

const T = 30_000
const orders = "packages/examples/src/orders/main.ts"
const services = ["Worker", "Database", "PaymentGatewaySupervisor", "PaymentGateway", "Consumer", "Producer", "Reporter"]

/** Asks for dumps until one shows every service running; returns that dump. */
const dumpWhenRunning = async (child: Child): Promise<string> => {
  for (let attempt = 0; attempt < 50; attempt++) {
    const seen = child.lines.length
    child.signal("SIGUSR2")
    await child.waitFor(/^=== end of dump ===/)
    while (!child.lines.slice(seen).some((l) => /^=== end of dump ===/.test(l.text))) {
      await child.waitFor(/^=== end of dump ===/)
    }
    const dump = child.lines.slice(seen).filter((l) => l.stream === "stderr").map((l) => l.text).join("\n")
    if (services.every((s) => new RegExp(`^\\s*${s} #\\d+ \\[running\\]`, "m").test(dump))) return dump
  }
  throw new Error(`the services never all ran:\n${child.output()}`)
}

/** The services that logged "-Stopped!", in order (after the first line containing `after`). */
const stopped = (child: Child, after?: string): Array<string> => {
  const from = after === undefined ? 0 : child.lines.findIndex((l) => l.text.includes(after))
  return child.lines.slice(Math.max(0, from)).map((l) => /\[\^-*(\w+)\]: -Stopped!/.exec(l.text)?.[1])
    .filter((s) => s !== undefined)
}

describe("the orders example", () => {
  it("SIGUSR2 lists every service with its state; SIGTERM stops them in reverse dependency order, the pool last, exit 0", async () => {
    const child = runScript(orders)
    await child.waitFor(/pool open/)
    const dump = await dumpWhenRunning(child)
    expect(dump).toMatch(/^Worker #\d+ \[running\]/m)
    for (const s of services.slice(1)) {
      const indent = s === "PaymentGateway" ? 4 : 2 // under its supervisor
      expect(dump).toMatch(new RegExp(`^ {${indent}}${s} #\\d+ \\[running\\] uptime=`, "m"))
    }
    expect(dump).toMatch(/^ {4}- future-\d+ #\d+: .*spans=poll$/m)
    expect(dump).toMatch(/^ {4}- nightly #\d+: /m)
    child.signal("SIGTERM")
    expect(await child.exited).toEqual({ code: 0, signal: null })
    const order = stopped(child, "Signal received")
    expect(order.slice(0, 2).sort()).toEqual(["Producer", "Reporter"])
    expect(order.slice(2)).toEqual(["Consumer", "PaymentGateway", "PaymentGatewaySupervisor", "Database"])
    const text = child.output()
    expect(text.indexOf("pool open")).toBeGreaterThan(-1)
    expect(text.indexOf("pool closed")).toBeGreaterThan(text.indexOf("[^-Consumer]: -Stopped!"))
    expect(text).toContain("Stopped after SIGTERM; exiting with code 0")
  }, T)

  it("the flaky payment gateway is restarted in place and the consumer keeps working through it", async () => {
    const child = runScript(orders)
    await child.waitFor(/PaymentGateway.*connected \(connection #2\)/)
    await child.waitFor(/committed offset (1[1-9]|[2-9]\d)\b/) // orders past the 10th, charged after the restart
    expect(child.output()).toMatch(/Restarting Worker\/PaymentGatewaySupervisor\/PaymentGateway/)
    child.signal("SIGTERM")
    expect(await child.exited).toEqual({ code: 0, signal: null })
  }, T)

  it("a crash injected in the consumer exits 1 naming the service's path, the pool still closed", async () => {
    const child = runScript(orders, { ORDERS_CRASH: "Consumer" })
    expect((await child.exited).code).toBe(1)
    const text = child.output()
    expect(text).toContain("[Worker] Service Worker/Consumer crashed; exiting with code 1")
    expect(text).toContain("PoisonOrder")
    expect(text).toMatch(/pool closed/)
    expect(stopped(child).at(-1)).toBe("Database")
  }, T)
})

describe("a service hidden by the user's own layer", () => {
  it("is in the dump", async () => {
    const child = runFixture("wrapped")
    await child.waitFor(/^MARK READY/)
    child.signal("SIGUSR2")
    await child.waitFor(/^=== end of dump ===/)
    expect(child.output()).toMatch(/^ {2}Cache #\d+ \[(running|starting)\]/m)
    child.signal("SIGTERM")
    expect((await child.exited).code).toBe(0)
  }, T)

  it("its crash is seen: exit 1 with its path", async () => {
    const child = runFixture("wrapped", { WRAPPED_CRASH: "1" })
    expect((await child.exited).code).toBe(1)
    expect(child.output()).toContain(`message="[Worker] Service Worker/Cache crashed; exiting with code 1" cause="Error: cache corrupted"`)
  }, T)
})
