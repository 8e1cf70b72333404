/**
 * @since 0.1.0
 */

/**
 * The tree of services (mode's beacon).
 *
 * @since 0.1.0
 */
export * as Beacon from "./Beacon.js"

/**
 * Cron expressions on Effect's `Cron`, in a time zone, read from `Clock`.
 *
 * @since 0.1.0
 */
export * as Crontab from "./Crontab.js"

/**
 * Diagnostic flags.
 *
 * @since 0.1.0
 */
export * as Diag from "./Diag.js"

/**
 * Health checks of your own (an Effect with a timeout) declared on services.
 *
 * @since 0.2.0
 */
export * as HealthCheck from "./HealthCheck.js"

/**
 * Services: lifecycle, tasks, timers, crontabs, dependencies, crashes.
 *
 * @since 0.1.0
 */
export * as Service from "./Service.js"

/**
 * Typed errors.
 *
 * @since 0.1.0
 */
export * as ServiceError from "./ServiceError.js"

/**
 * DOT, Mermaid and snapshots of a service tree.
 *
 * @since 0.1.0
 */
export * as ServiceGraph from "./ServiceGraph.js"

/**
 * Supervisors: restart strategies with Erlang/OTP semantics.
 *
 * @since 0.1.0
 */
export * as Supervisor from "./Supervisor.js"

/**
 * Test helpers (fiber leak checks).
 *
 * @since 0.1.0
 */
export * as Testing from "./Testing.js"

/**
 * mode's Timer.
 *
 * @since 0.1.0
 */
export * as Timer from "./Timer.js"
