/**
 * The service core, as the rest of the package imports it: the handle implementation and
 * the types the supervisor and the read model use. The logic lives in ./service/*.ts (see
 * docs/architecture.md).
 *
 * @internal
 */
export { asImpl, isService, TypeId } from "./service/handle.js"
export { type Extension, ServiceImpl, type SupervisorLink } from "./service/impl.js"
export type { Phase } from "./service/lifecycle.js"
export { spreadCrash } from "./service/crash.js"
export { checkLabel } from "./service/validate.js"
export { isHandle, isProxyService, proxy, resolve, withMade } from "./service/proxy.js"
export { runsNoUserCode } from "./service/restart.js"
