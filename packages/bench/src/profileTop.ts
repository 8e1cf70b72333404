/**
 * Prints the top frames of a V8 CPU profile (`node --cpu-prof`): by self time and by total
 * time. Usage: `tsx src/profileTop.ts FILE.cpuprofile [count]`.
 *
 * @since 0.0.0
 */
import { readFileSync } from "node:fs"

interface ProfileNode {
  readonly id: number
  readonly callFrame: {
    readonly functionName: string
    readonly url: string
    readonly lineNumber: number
  }
  readonly children?: ReadonlyArray<number>
}

interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/**
 * A frame's share of a profile.
 *
 * @example
 * ```ts
 * import type { Frame } from "@effect-mode/bench/profileTop"
 *
 * const f: Frame = { name: "runLoop effect/fiberRuntime.ts:1", selfMs: 10, totalMs: 50 }
 * ```
 *
 * @since 0.0.0
 */
export interface Frame {
  readonly name: string
  readonly selfMs: number
  readonly totalMs: number
}

const label = (n: ProfileNode): string => {
  const url = n.callFrame.url.replace(/^.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, "").replace(/^.*\/packages\//, "")
  return `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`
}

/**
 * The frames of a profile (merged by function and place), with self and total milliseconds;
 * a frame's total counts each sample once even under recursion.
 *
 * @example
 * ```ts
 * import { readFileSync } from "node:fs"
 * import { frames } from "@effect-mode/bench/profileTop"
 *
 * const top = frames(JSON.parse(readFileSync("CPU.cpuprofile", "utf8"))).slice(0, 10)
 * ```
 *
 * @since 0.0.0
 */
export const frames = (profile: Profile): Array<Frame> => {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000
    let id: number | undefined = profile.samples[i]!
    const leaf = label(byId.get(id)!)
    self.set(leaf, (self.get(leaf) ?? 0) + ms)
    const seen = new Set<string>()
    for (; id !== undefined; id = parent.get(id)) {
      const name = label(byId.get(id)!)
      if (seen.has(name)) continue
      seen.add(name)
      total.set(name, (total.get(name) ?? 0) + ms)
    }
  }
  return [...total.keys()].map((name) => ({ name, selfMs: self.get(name) ?? 0, totalMs: total.get(name)! }))
}

const main = (): void => {
  const [file, count] = process.argv.slice(2)
  if (file === undefined) throw new Error("usage: tsx src/profileTop.ts FILE.cpuprofile [count]")
  const top = Number(count ?? 30)
  const all = frames(JSON.parse(readFileSync(file, "utf8")) as Profile)
  const show = (title: string, list: Array<Frame>) => {
    console.log(`\n${title}`)
    for (const f of list.slice(0, top)) {
      console.log(`${f.selfMs.toFixed(1).padStart(9)} ${f.totalMs.toFixed(1).padStart(9)}  ${f.name}`)
    }
  }
  console.log("   self ms  total ms")
  show("by self time", [...all].sort((a, b) => b.selfMs - a.selfMs))
  show("by total time", [...all].sort((a, b) => b.totalMs - a.totalMs))
}

if (process.argv[1]?.endsWith("profileTop.ts") === true) main()
