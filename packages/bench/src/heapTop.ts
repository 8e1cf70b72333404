/**
 * What one running service holds in the heap, by constructor: a V8 heap snapshot before and
 * after starting N services (fan-out 10, as the tree scenario), the difference summed by
 * object kind and divided by N. The variant says what each service has: `none`, `task` (an
 * idle task), `timer` (a 1 s `Service.timer`) or `both` (the tree scenario's services).
 * Usage: `tsx src/heapTop.ts [n] [variant] [count]` (a snapshot of a large heap takes a while).
 *
 * @since 0.0.0
 */
import { Service } from "@effect-mode/core"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { writeHeapSnapshot } from "node:v8"
import { parentOf, variantTasks } from "./scenarios/tree.js"

interface Snapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: Array<string>; readonly node_types: [Array<string>] } }
  readonly nodes: Array<number>
  readonly strings: Array<string>
}

/** Count and bytes by object kind (`object:Name`, `closure:name`, or the V8 node type). */
const byKind = (): Map<string, { count: number; bytes: number }> => {
  const file = writeHeapSnapshot(join(tmpdir(), `heapTop-${process.pid}-${Date.now()}.heapsnapshot`))
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot
  rmSync(file)
  const fields = snap.snapshot.meta.node_fields
  const types = snap.snapshot.meta.node_types[0]
  const [type, name, size] = [fields.indexOf("type"), fields.indexOf("name"), fields.indexOf("self_size")]
  const kinds = new Map<string, { count: number; bytes: number }>()
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const t = types[snap.nodes[i + type]!]!
    const kind = t === "object" || t === "closure" ? `${t}:${snap.strings[snap.nodes[i + name]!]}` : t
    const entry = kinds.get(kind) ?? { count: 0, bytes: 0 }
    entry.count++
    entry.bytes += snap.nodes[i + size]!
    kinds.set(kind, entry)
  }
  return kinds
}

const main = async (): Promise<void> => {
  const [nArg, variant = "both", countArg] = process.argv.slice(2)
  const n = Number(nArg ?? 10_000)
  const tasks = variantTasks(variant, "heapTop")
  const program = Effect.gen(function*() {
    const before = byKind()
    const services: Array<Service.Service> = []
    for (let i = 0; i < n; i++) services.push(yield* Service.make(`s${i}`, { mundaneLevel: "debug", tasks }))
    for (let i = 1; i < n; i++) yield* services[parentOf(i)]!.addDependency(services[i]!)
    yield* services[0]!.start
    const after = byKind()
    yield* services[0]!.stop
    return { before, after }
  })
  const { after, before } = await Effect.runPromise(program.pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.Warning))))
  const rows = [...after].map(([kind, a]) => {
    const b = before.get(kind) ?? { count: 0, bytes: 0 }
    return { kind, count: (a.count - b.count) / n, bytes: (a.bytes - b.bytes) / n }
  }).sort((x, y) => y.bytes - x.bytes)
  console.log(`${n} services (${variant}): ${rows.reduce((sum, r) => sum + r.bytes, 0).toFixed(0)} bytes per service`)
  for (const r of rows.slice(0, Number(countArg ?? 30))) {
    console.log(`${r.bytes.toFixed(0).padStart(7)} B ${r.count.toFixed(2).padStart(7)}/svc  ${r.kind}`)
  }
}

if (process.argv[1]?.endsWith("heapTop.ts") === true) {
  main().then(() => process.exit(0), (error) => {
    console.error(error)
    process.exit(1)
  })
}
