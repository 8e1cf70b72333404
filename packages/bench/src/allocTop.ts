/**
 * Where the tree scenario's start or stop allocates, per service: V8's sampling heap profiler
 * (through `node:inspector`) around the start or the stop of N services (fan-out 10, the tree
 * scenario's services, after a small tree warmed the code up), summed by allocation site and
 * divided by N. `all` counts every object allocated, garbage included; `promoted` leaves out
 * what a scavenge collected: what was still alive at the end, or went to the old generation
 * first (what makes the heap grow until the next full GC).
 * Usage: `tsx src/allocTop.ts [start|stop] [n] [all|promoted] [count]`.
 *
 * @since 0.0.0
 */
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { Session } from "node:inspector/promises"
import { makeServiceTree } from "./scenarios/tree.js"

interface ProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly selfSize: number
  readonly children: ReadonlyArray<ProfileNode>
}

/** `function file:line`, with the package's path instead of the store's. */
const siteOf = (node: ProfileNode): string => {
  const { functionName, lineNumber, url } = node.callFrame
  const file = url.replace(/.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, "").replace(/.*\/packages\//, "")
  return `${functionName === "" ? "(anonymous)" : functionName} ${file}:${lineNumber + 1}`
}

/** Bytes by allocation site, and by the nearest effect-mode frame above it. */
const sum = (head: ProfileNode) => {
  const bySite = new Map<string, number>()
  const byOwnFrame = new Map<string, number>()
  let total = 0
  const walk = (node: ProfileNode, own: string | undefined): void => {
    const site = siteOf(node)
    const frame = site.includes("core/src/") || site.includes("core/dist/") ? site : own
    total += node.selfSize
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize)
    if (frame !== undefined) byOwnFrame.set(frame, (byOwnFrame.get(frame) ?? 0) + node.selfSize)
    for (const child of node.children) walk(child, frame)
  }
  walk(head, undefined)
  return { bySite, byOwnFrame, total }
}

const main = async (): Promise<void> => {
  const [phase = "start", nArg, mode = "all", countArg] = process.argv.slice(2)
  if (phase !== "start" && phase !== "stop") throw new Error(`allocTop: unknown phase ${JSON.stringify(phase)} (start, stop)`)
  if (mode !== "all" && mode !== "promoted") throw new Error(`allocTop: unknown mode ${JSON.stringify(mode)} (all, promoted)`)
  const n = Number(nArg ?? 10_000)
  const session = new Session()
  session.connect()
  // The two flags are V8's (Node's typings do not list them yet).
  const params = { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: mode === "all" }
  const sample = Effect.promise(() => session.post("HeapProfiler.startSampling", params))
  const collect = Effect.promise(async () => (await session.post("HeapProfiler.stopSampling")).profile.head as ProfileNode)
  const program = Effect.gen(function*() {
    const warm = yield* makeServiceTree(50)
    yield* warm[0]!.start
    yield* warm[0]!.stop
    const services = yield* makeServiceTree(n)
    if (phase === "start") yield* sample
    yield* services[0]!.start
    const started = phase === "start" ? yield* collect : undefined
    if (phase === "stop") yield* sample
    yield* services[0]!.stop
    return started ?? (yield* collect)
  })
  const head = await Effect.runPromise(program.pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.Warning))))
  const { bySite, byOwnFrame, total } = sum(head)
  const count = Number(countArg ?? 20)
  const print = (title: string, rows: Map<string, number>): void => {
    console.log(`\n${title}`)
    for (const [site, bytes] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, count)) {
      console.log(`${(bytes / n).toFixed(0).padStart(7)} B  ${site}`)
    }
  }
  console.log(`${n} services, ${phase} (${mode}): ${(total / n).toFixed(0)} bytes allocated per service`)
  print("by allocation site", bySite)
  print("by the nearest effect-mode frame above it", byOwnFrame)
}

if (process.argv[1]?.endsWith("allocTop.ts") === true) {
  main().then(() => process.exit(0), (error) => {
    console.error(error)
    process.exit(1)
  })
}
