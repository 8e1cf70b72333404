/**
 * @since 0.1.0
 */

/**
 * Run a service tree as a Node process: signals, exit codes, shutdown deadline, task
 * dumps, event-loop block detection, logging and health endpoints.
 *
 * @since 0.1.0
 */
export * as Worker from "./Worker.js"
