/**
 * Checks and decodes what a service is declared with (its label and options), once, when it
 * is declared: bad input fails there with a message that names the option and the value.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import type * as Service from "../../Service.js"
import { decodeDuration, decodePositiveDuration } from "../duration.js"

const defaultShutdownTimeout = Duration.seconds(60)

/** The options of a service, decoded. */
export interface Decoded {
  readonly stopTimeout: Duration.Duration | undefined
  readonly shutdownTimeout: Duration.Duration
}

/**
 * A label is one segment of a path ("App/Consumer"): not empty, without "/".
 *
 * @internal
 */
export const checkLabel = (label: unknown, what: string): string => {
  if (typeof label !== "string" || label.length === 0 || label.includes("/")) {
    throw new TypeError(
      `Invalid label of ${what}: ${JSON.stringify(String(label))} (a label is a non-empty string without "/")`
    )
  }
  return label
}

/** The options of a service declared with neither timeout: one object for all of them. */
const defaults: Decoded = { stopTimeout: undefined, shutdownTimeout: defaultShutdownTimeout }

/** @internal */
export const decodeServiceOptions = (
  label: string,
  options: {
    readonly stopTimeout?: Service.Options<any, any>["stopTimeout"] | undefined
    readonly shutdownTimeout?: Service.Options<any, any>["shutdownTimeout"] | undefined
  }
): Decoded => {
  checkLabel(label, "service")
  if (options.stopTimeout === undefined && options.shutdownTimeout === undefined) return defaults
  return {
    stopTimeout: options.stopTimeout === undefined
      ? undefined
      : decodePositiveDuration(options.stopTimeout, `stopTimeout of service ${label}`),
    shutdownTimeout: options.shutdownTimeout === undefined
      ? defaultShutdownTimeout
      : decodeDuration(options.shutdownTimeout, `shutdownTimeout of service ${label}`)
  }
}
