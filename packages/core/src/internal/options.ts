/**
 * The options object of a public function: `undefined` is no options; anything else must be a
 * plain object (not null, not an array, not a string), and, where the function lists the
 * options it knows, hold no other key. A key nobody reads (`{ timeZone }` for `{ timezone }`)
 * would otherwise be dropped without a word: a crontab would run in UTC.
 *
 * @internal
 */

/** @internal */
export const show = (value: unknown): string => {
  try {
    return typeof value === "bigint" ? `${value}n` : JSON.stringify(String(value))
  } catch {
    return typeof value
  }
}

/**
 * `options` as an object, or a `TypeError` naming `what` (the function, and whose) and the
 * value; with `known`, a key outside it is one too.
 *
 * @internal
 */
export const checkOptions = <O extends object>(
  options: O | undefined,
  what: string,
  known?: ReadonlyArray<string>
): O => {
  if (options === undefined) return {} as O
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`Invalid options of ${what}: ${show(options)} (expected an object)`)
  }
  if (known !== undefined) {
    for (const key of Object.keys(options)) {
      if (!known.includes(key)) {
        throw new TypeError(`Unknown option ${JSON.stringify(key)} of ${what} (known: ${known.join(", ")})`)
      }
    }
  }
  return options
}
