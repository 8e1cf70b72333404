/**
 * Short renderings of a cause: the first line of its pretty form, for one-line logs and
 * lists (the whole cause is a debug log away).
 *
 * @internal
 */
import * as Cause from "effect/Cause"

/** The first line of a cause's pretty rendering. */
export const shortCause = (cause: Cause.Cause<unknown>): string => {
  const pretty = Cause.pretty(cause)
  const line = pretty.split("\n").find((l) => l.trim().length > 0) ?? pretty
  return line.trim()
}
