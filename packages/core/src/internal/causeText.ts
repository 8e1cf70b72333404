/**
 * Short renderings of a `Cause` for log lines and lists: its first line, without the
 * stack frames (the whole cause is a debug log away).
 *
 * @internal
 */
import * as Cause from "effect/Cause"

/** The first line of a cause's pretty rendering: enough for a list, the whole is a debug log away. */
export const shortCause = (cause: Cause.Cause<unknown>): string => {
  const pretty = Cause.pretty(cause)
  const line = pretty.split("\n").find((l) => l.trim().length > 0) ?? pretty
  return line.trim()
}
