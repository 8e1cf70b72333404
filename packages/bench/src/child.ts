/**
 * The entry point of one bench child process: `node --expose-gc --import tsx src/child.ts
 * <scenario> <subject> <n>`. Runs the subject once and prints its row as one line
 * `@@row <json>` on stdout, then exits (whatever handles are left).
 *
 * @since 0.0.0
 */
import { ROW_MARK } from "./Row.js"
import { scenarios } from "./scenarios/index.js"

const main = async (): Promise<void> => {
  const [name, subject, size] = process.argv.slice(2)
  const scenario = scenarios.find((s) => s.name === name)
  if (scenario === undefined || subject === undefined || size === undefined) {
    throw new Error(`usage: child.ts <scenario> <subject> <n> (got ${process.argv.slice(2).join(" ")})`)
  }
  const row = await scenario.run(subject, Number(size))
  process.stdout.write(ROW_MARK + JSON.stringify(row) + "\n")
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
