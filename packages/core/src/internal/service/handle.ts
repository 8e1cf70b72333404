/**
 * The brands of a service handle and of a proxy handle, and the service behind a handle:
 * what every module that is given a `Service.Service` narrows it with.
 *
 * @internal
 */
import type * as Service from "../../Service.js"
import type { ServiceImpl } from "./impl.js"

/** @internal */
export const TypeId: unique symbol = Symbol.for("@effect-mode/core/Service")

/**
 * The mark of a `Service.proxy` handle (proxy.ts): its value holds the service once made.
 *
 * @internal
 */
export const ProxyTypeId: unique symbol = Symbol.for("@effect-mode/core/Service/Proxy")

/** @internal */
export interface ProxyTarget {
  readonly made: ServiceImpl | undefined
}

/** @internal */
export const isService = (u: unknown): u is ServiceImpl => typeof u === "object" && u !== null && TypeId in u

/**
 * The service behind a handle: the handle itself, or a proxy's service once made. The entry
 * points that take a handle make a proxy's service first (proxy.ts `withMade`).
 *
 * @internal
 */
export const asImpl = (service: Service.Service): ServiceImpl => {
  if (!isService(service)) {
    if (typeof service === "object" && service !== null && ProxyTypeId in service) {
      const made = (service as { readonly [ProxyTypeId]: ProxyTarget })[ProxyTypeId].made
      if (made !== undefined) return made
      throw new TypeError(`Service.proxy ${String((service as Service.Service).label)} is used before its service was made`)
    }
    throw new TypeError(`Not an effect-mode service: ${String(service)}`)
  }
  return service
}
