/**
 * @since 0.1.0
 */

/**
 * A live view of the service tree in the browser (Erlang's observer), on the Worker's
 * health server or a server of its own.
 *
 * @since 0.2.0
 */
export * as Observer from "./Observer.js"

/**
 * Run a service tree as a Node process: signals, exit codes, shutdown deadline, task
 * dumps, event-loop block detection, logging and health endpoints.
 *
 * @since 0.1.0
 */
export * as Worker from "./Worker.js"
