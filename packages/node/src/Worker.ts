/**
 * mode's Worker for Node: runs a service tree as the process's main program, with the
 * signals, exit codes, shutdown deadline, task dump, event-loop block detector, logging
 * and health endpoints a production process needs. See `docs/guide/worker.md`.
 *
 * @since 0.1.0
 */
import { makeRunMain, type Teardown } from "@effect/platform/Runtime"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { constVoid } from "effect/Function"
import * as Layer from "effect/Layer"
import type * as LogLevel from "effect/LogLevel"
import type * as Scope from "effect/Scope"
import { Service, type ServiceGraph } from "@effect-mode/core"
import { resolve } from "./internal/options.js"
import type * as Observer from "./Observer.js"
import { ExitCode as internalExitCode, type ProcessState, program } from "./internal/worker.js"

/**
 * The console log formats: Effect's pretty logger, its JSON logger, or its logfmt logger.
 *
 * @example
 * ```ts
 * import type { Worker } from "@effect-mode/node"
 *
 * const format: Worker.LogFormat = process.stdout.isTTY ? "pretty" : "json"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type LogFormat = "pretty" | "json" | "logfmt"

/**
 * The options of `runMain`. Every one is checked when `runMain` is called: a bad value
 * throws a `TypeError` naming it.
 *
 * @example
 * ```ts
 * import type { Worker } from "@effect-mode/node"
 *
 * const options: Worker.Options = {
 *   shutdownTimeout: "20 seconds",
 *   blockingTimeout: "2 seconds",
 *   logFormat: "json",
 *   health: { port: 9090 }
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Deadline of the whole graceful stop, from the first signal (or from the moment the
   * tree stopped or crashed by itself). Past it, the services still stopping are named,
   * the dump is printed, what is left is interrupted and given `shutdownGrace`, and the
   * process exits with code 124. Above zero. Default "25 seconds" (with the grace, under
   * Kubernetes' default grace period of 30 seconds).
   */
  readonly shutdownTimeout?: Duration.DurationInput
  /**
   * Once `shutdownTimeout` has passed, how long what is left gets to finish before the
   * exit with 124: the body is interrupted, the services not yet stopped are stopped and
   * the root's resources (the root effect's scope, the root layer) are released; what
   * still did not finish is logged by name. Default "2 seconds"; 0 skips it.
   */
  readonly shutdownGrace?: Duration.DurationInput
  /** A second SIGINT/SIGTERM/SIGHUP during the stop exits at once with 128 + its number. Default true. */
  readonly forceExitOnSecondSignal?: boolean
  /** The signal that prints the task dump to stderr. Default "SIGUSR2"; null: none. */
  readonly dumpSignal?: "SIGUSR2" | "SIGUSR1" | null
  /** Warn when the event loop is held longer than this, naming the service tasks that held it. Default null: off. */
  readonly blockingTimeout?: Duration.DurationInput | null
  /** The minimum log level. Default: the `LOG_LEVEL` environment variable, else Effect's (Info). */
  readonly logLevel?: LogLevel.LogLevel | LogLevel.Literal
  /** The console log format. Default: the `LOG_FORMAT` environment variable, else "pretty". */
  readonly logFormat?: LogFormat
  /** Serve `/livez`, `/readyz`, `/healthz` and `/debug/*` over HTTP (see `HealthOptions`). */
  readonly health?: HealthOptions
}

/**
 * Which services `/readyz` follows:
 *
 * - `"all"` (default): every service of every tree; not ready while any of them is
 *   starting, stopping (restarting), crashed (a supervised child waiting out its backoff
 *   too) or not started yet. A service that stopped for good (`shutdown`) does not count.
 * - `"roots"`: only the top services of the trees must be `running`.
 * - a function of the snapshots of the roots, returning the reasons not to be ready
 *   (empty: ready).
 *
 * Whatever the policy, a failing critical `HealthCheck` and a stop in progress make it not ready.
 *
 * @example
 * ```ts
 * import type { Worker } from "@effect-mode/node"
 *
 * // Ready while the roots run, whatever their children do, unless App/Db is not running.
 * const policy: Worker.Readiness = (roots) =>
 *   roots.flatMap((r) => [r, ...r.children]).filter((s) => s.path === "App/Db" && s.state !== "running").map((s) => s.path)
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Readiness =
  | "all"
  | "roots"
  | ((roots: ReadonlyArray<ServiceGraph.Snapshot>) => ReadonlyArray<string>)

/**
 * The options of the health endpoints.
 *
 * @example
 * ```ts
 * import type { Worker } from "@effect-mode/node"
 *
 * const health: Worker.HealthOptions = { port: 9090, host: "0.0.0.0", readiness: "all" }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface HealthOptions {
  /** 0 picks a free port (the log line gives it). */
  readonly port: number
  /** Default: every interface. */
  readonly host?: string
  /** Default "all": see `Readiness`. */
  readonly readiness?: Readiness
  /**
   * Also serve the live view of the tree at `/observer` (see `Observer`), to loopback
   * clients only (`kubectl port-forward`) unless `allowRemote`; actions only with
   * `actions: { token }`. Default off.
   */
  readonly observer?: boolean | Observer.Options
}

/**
 * The exit codes of a worker: `ok` (0) after a graceful stop, `failure` (1) after a crash,
 * a failed start or a root that could not be built, `shutdownTimeout` (124) when the stop
 * outlived `shutdownTimeout`, `internal` (70) for a defect in the worker itself. A second
 * stop signal exits with 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
 *
 * @example
 * ```ts
 * import { Worker } from "@effect-mode/node"
 *
 * const crashed = (code: number) => code === Worker.ExitCode.failure
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const ExitCode: {
  readonly ok: 0
  readonly failure: 1
  readonly shutdownTimeout: 124
  readonly internal: 70
} = internalExitCode

/**
 * What `runMain` runs: an effect that makes the root service (it is then started here, as
 * `Service.run` does; an effect that already started it, such as `Service.scoped`, is
 * fine too), or a layer whose output holds services (built with `Service.layer`).
 *
 * @example
 * ```ts
 * import { Service } from "@effect-mode/core"
 * import type { Worker } from "@effect-mode/node"
 *
 * const root: Worker.Root<never> = Service.make("App")
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Root<E> =
  | Effect.Effect<Service.Service, E, Scope.Scope>
  | Layer.Layer<any, E, never>
  // A layer that provides nothing (its services are reached through the tree only); `Layer`'s
  // output is contravariant, so `Layer<never>` is not a `Layer<any>`.
  | Layer.Layer<never, E, never>

const isRoot = (u: unknown): u is Root<unknown> => Effect.isEffect(u) || Layer.isLayer(u)

const teardown: Teardown = (exit, onExit) => {
  onExit(Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : internalExitCode.internal)
}

/** A root that is neither an effect nor a layer fails at the call, naming it. */
const checkRoot = (root: unknown): void => {
  if (isRoot(root)) return
  const why = Service.isService(root)
    ? "a service handle, not a root: give runMain the effect that makes it (Service.make(...)) or a layer"
    : "not an Effect that makes the root service, nor a Layer"
  throw new TypeError(`Invalid root of Worker.runMain: ${showValue(root)} is ${why}`)
}

const showValue = (u: unknown): string => {
  if (Service.isService(u)) return `service ${u.label}`
  try {
    return JSON.stringify(String(u))
  } catch {
    return typeof u
  }
}

const run = (root: Root<unknown>, options: Options | undefined): void => {
  checkRoot(root)
  const resolved = resolve(options, process.env)
  const state: ProcessState = { signals: undefined }
  const runner = makeRunMain(({ fiber, teardown }) => {
    const keepAlive = setInterval(constVoid, 2 ** 31 - 1)
    fiber.addObserver((exit) => {
      clearInterval(keepAlive)
      const signals = state.signals
      signals?.uninstall()
      teardown(exit, (code) => {
        // As NodeRuntime: after a clean stop that no signal asked for, let Node exit by
        // itself once nothing is left (a stopped tree holds no timer).
        if (signals?.received !== undefined || code !== 0) process.exit(code)
      })
    })
  })
  runner(program(root, resolved, state), { disableErrorReporting: true, disablePrettyLogger: true, teardown })
}

/**
 * Runs a service tree as the main program of a Node process (mode's Worker):
 *
 * - `runMain(effect)`: makes the root service, starts it, waits until it stops or
 *   crashes, stops it (children in reverse). `runMain(layer)`: builds the layer (which
 *   starts its services), runs until a signal, a crash or a failed build (as
 *   `Service.launch`: a layer service that stops by itself does not end it), then
 *   releases the layer (which stops them in reverse order).
 * - The first SIGINT, SIGTERM or SIGHUP starts a graceful stop (interrupting the root
 *   effect or the layer's build if it is still running); a second one exits at once with
 *   128 + its number (unless `forceExitOnSecondSignal: false`). The whole stop is bounded
 *   by `shutdownTimeout`; then what is left gets `shutdownGrace`, and what did not finish
 *   is named.
 * - Exit code 0 after a graceful stop, 1 after a crash or a failed start (the cause is
 *   logged with the path of the service it came from), 124 after the shutdown deadline.
 *   After a stop that no signal asked for and no failure, the process is left to exit by
 *   itself (like `NodeRuntime.runMain`).
 * - `dumpSignal` (SIGUSR2) prints `Service.humanTracebacks` of the root to stderr.
 * - `health` serves `/livez`, `/readyz` (every service, or the policy in `readiness`, and
 *   the critical `HealthCheck`s of the core), `/healthz` and `/debug/*`, concurrently.
 * - Logging: Effect's default logger (only that one) is replaced by a console logger in
 *   `logFormat`, which also steps aside in any fiber where another logger is installed.
 *
 * Bad options throw a `TypeError` at once. Also usable data-last: `runMain(options)(root)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Service } from "@effect-mode/core"
 * import { Worker } from "@effect-mode/node"
 *
 * const app = Service.make("App", {
 *   tasks: [Service.task((self) => Effect.forever(Effect.zipRight(Effect.log("tick"), self.sleep("1 second"))))],
 *   onStop: () => Effect.log("bye")
 * })
 *
 * Worker.runMain(app, { shutdownTimeout: "10 seconds", logFormat: "json" })
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const runMain: {
  (options?: Options): <E>(root: Root<E>) => void
  <E>(root: Root<E>, options?: Options): void
} = function(this: unknown, ...args: ReadonlyArray<unknown>) {
  if (isRoot(args[0])) return run(args[0], args[1] as Options | undefined)
  // A service handle or another non-root first, with or without options after it: not options.
  if (args.length > 1 || Service.isService(args[0])) checkRoot(args[0])
  const options = args[0] as Options | undefined
  resolve(options, process.env)
  return (root: Root<unknown>) => run(root, options)
} as any
