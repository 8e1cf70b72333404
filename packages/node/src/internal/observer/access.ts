/**
 * Who may use the observer: loopback clients only unless `allowRemote`, and the actions
 * only when they were turned on, and then only with the token (the `x-observer-token`
 * header, `authorization: Bearer <token>`, or the `token` query parameter). Pure checks:
 * each answers the refusal's message, or undefined when allowed.
 */
import { createHash, timingSafeEqual } from "node:crypto"
import type * as http from "node:http"
import type { Config } from "./options.js"

const loopback = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/

/** `kubectl port-forward` connects from the pod's loopback, so it passes this check. */
export const checkClient = (config: Config, remoteAddress: string | undefined): string | undefined =>
  config.allowRemote || (remoteAddress !== undefined && loopback.test(remoteAddress))
    ? undefined
    : `the observer answers loopback clients only (got ${remoteAddress ?? "unknown"}); ` +
      "use kubectl port-forward or an SSH tunnel, or set allowRemote: true"

/** The token a request carries, wherever it carries it. */
export const tokenOf = (headers: http.IncomingHttpHeaders, url: URL): string | undefined => {
  const header = headers["x-observer-token"]
  if (typeof header === "string" && header.length > 0) return header
  const auth = headers["authorization"]
  if (typeof auth === "string") {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(auth)
    if (bearer !== null) return bearer[1]
  }
  return url.searchParams.get("token") ?? undefined
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest()

/** Compared in constant time (through digests, so that lengths do not leak either). */
const sameToken = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b))

export const checkAction = (config: Config, token: string | undefined): string | undefined => {
  if (config.actions === null) return "observer actions are off (turn them on with actions: { token })"
  if (token === undefined) return "this action needs the observer token (x-observer-token header or ?token=)"
  if (!sameToken(token, config.actions.token)) return "wrong observer token"
  return undefined
}
