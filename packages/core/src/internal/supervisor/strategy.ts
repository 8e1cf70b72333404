/**
 * The six supervisor strategies as data (as Effect's pool strategies are objects, not a
 * string switched on): what a crash leads to, which slots a restart covers, and whether
 * normal stops are handled by restart type. `decide.ts` reads them; nothing else does.
 *
 * @internal
 */
import type { Strategy } from "../../Supervisor.js"

/** @internal */
export interface StrategyData {
  readonly name: Strategy
  /** What a crash of a slot leads to: a restart, giving up on it (forfeit), or escalating at once. */
  readonly onCrash: "restart" | "forfeit" | "escalate"
  /** The slots a restart (or forfeit) of one slot covers: that one, all, or it and those after it. */
  readonly group: "one" | "all" | "rest"
  /** Normal stops are handled by restart type (permanent restarted, temporary released). */
  readonly restartTypes: boolean
}

const table: Record<Strategy, StrategyData> = {
  oneForOne: { name: "oneForOne", onCrash: "restart", group: "one", restartTypes: true },
  oneForAll: { name: "oneForAll", onCrash: "restart", group: "all", restartTypes: true },
  restForOne: { name: "restForOne", onCrash: "restart", group: "rest", restartTypes: true },
  forfeitOneForOne: { name: "forfeitOneForOne", onCrash: "forfeit", group: "one", restartTypes: false },
  forfeitOneForAll: { name: "forfeitOneForAll", onCrash: "forfeit", group: "all", restartTypes: false },
  crashing: { name: "crashing", onCrash: "escalate", group: "one", restartTypes: false }
}

/** The data of a strategy; throws a `TypeError` naming a value that is not one. */
export const strategyOf = (name: unknown, label: string): StrategyData => {
  const data = typeof name === "string" && Object.hasOwn(table, name) ? table[name as Strategy] : undefined
  if (data === undefined) {
    throw new TypeError(
      `Invalid strategy of supervisor ${label}: ${JSON.stringify(String(name))} (expected one of ${Object.keys(table).join(", ")})`
    )
  }
  return data
}

/** The slots (by index) a restart of slot `index` covers out of `count`. */
export const groupOf = (strategy: StrategyData, index: number, count: number): Array<number> => {
  switch (strategy.group) {
    case "one":
      return [index]
    case "all":
      return Array.from({ length: count }, (_, i) => i)
    case "rest":
      return Array.from({ length: count - index }, (_, i) => index + i)
  }
}
