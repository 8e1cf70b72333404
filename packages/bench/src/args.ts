/**
 * Parsing of the bench's command line.
 *
 * @since 0.0.0
 */

/**
 * The parsed command line of `pnpm bench`.
 *
 * @example
 * ```ts
 * import type { Args } from "@effect-mode/bench/args"
 *
 * const args: Args = { scenarios: ["tree"], sizes: [1000], runs: 3, subjects: undefined, json: undefined, cpuProf: undefined, source: false, help: false }
 * ```
 *
 * @since 0.0.0
 */
export interface Args {
  /** Scenario names, in order. */
  readonly scenarios: ReadonlyArray<string>
  /** Sizes given with `--n`, overriding each scenario's defaults. */
  readonly sizes: ReadonlyArray<number> | undefined
  readonly runs: number | undefined
  /** Subjects given with `--subject`, restricting each scenario's list. */
  readonly subjects: ReadonlyArray<string> | undefined
  readonly json: string | undefined
  /** Directory for `node --cpu-prof` profiles of every child. */
  readonly cpuProf: string | undefined
  /**
   * Measure the TypeScript sources through tsx instead of the built packages (`dist`, what a
   * user installs), and build nothing first.
   */
  readonly source: boolean
  readonly help: boolean
}

/**
 * The usage text.
 *
 * @example
 * ```ts
 * import { usage } from "@effect-mode/bench/args"
 *
 * console.log(usage)
 * ```
 *
 * @since 0.0.0
 */
export const usage = `usage: pnpm bench [--scenario tree|restart|timers|shutdown|soak|steps|virtual-time|all] [--n N[,N...]] [--runs K]
                  [--subject S[,S...]] [--json FILE] [--cpu-prof DIR] [--source]

  --scenario   which scenario(s) to run, comma-separated (default: all)
  --n          size(s) instead of the scenario's defaults (tree: services; restart/soak: restarts;
               timers: timers; shutdown: services; virtual-time: services)
  --runs       runs per subject and size (default: per scenario); the table shows medians
  --subject    only these subjects (e.g. effect-mode,baseline-effect)
  --json       write the rows (medians) as a JSON array to FILE
  --cpu-prof   write a V8 CPU profile of every child process into DIR
  --source     measure effect-mode's TypeScript sources (through tsx) instead of its built
               packages; by default the bench first builds them (pnpm build) and measures dist/`

const positiveInt = (flag: string, value: string): number => {
  const n = Number(value.replace(/_/g, ""))
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} expects a positive integer, got ${JSON.stringify(value)}`)
  return n
}

/**
 * Parses the arguments after the script name. Unknown flags, missing values and bad numbers
 * throw an `Error` naming them; `known` lists the valid scenario names.
 *
 * @example
 * ```ts
 * import { parseArgs } from "@effect-mode/bench/args"
 *
 * parseArgs(["--scenario", "tree", "--n", "1000"], ["tree"]).sizes // [1000]
 * ```
 *
 * @since 0.0.0
 */
export const parseArgs = (argv: ReadonlyArray<string>, known: ReadonlyArray<string>): Args => {
  let scenarios: ReadonlyArray<string> = known
  let sizes: ReadonlyArray<number> | undefined
  let runs: number | undefined
  let subjects: ReadonlyArray<string> | undefined
  let json: string | undefined
  let cpuProf: string | undefined
  let source = false
  let help = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--") continue
    const eq = arg.indexOf("=")
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg
    const value = (): string => {
      if (arg.startsWith("--") && eq > 0) return arg.slice(eq + 1)
      const next = argv[++i]
      if (next === undefined) throw new Error(`${flag} expects a value`)
      return next
    }
    switch (flag) {
      case "--scenario": {
        const v = value()
        const names = v === "all" ? known : v.split(",")
        for (const name of names) {
          if (!known.includes(name)) throw new Error(`unknown scenario ${JSON.stringify(name)} (known: ${known.join(", ")}, all)`)
        }
        scenarios = names
        break
      }
      case "--n":
        sizes = value().split(",").map((s) => positiveInt("--n", s))
        break
      case "--runs":
        runs = positiveInt("--runs", value())
        break
      case "--subject":
        subjects = value().split(",")
        break
      case "--json":
        json = value()
        break
      case "--cpu-prof":
        cpuProf = value()
        break
      case "--source":
        source = true
        break
      case "--help":
      case "-h":
        help = true
        break
      default:
        throw new Error(`unknown argument ${JSON.stringify(arg)}\n${usage}`)
    }
  }
  return { scenarios, sizes, runs, subjects, json, cpuProf, source, help }
}
