/**
 * The observer as a request handler that any `node:http` server can mount (the Worker's
 * health server does, under `/observer`): its state and the fibers of its actions are
 * owned by the scope it is made in.
 */
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import type * as Scope from "effect/Scope"
import type * as http from "node:http"
import type { Service } from "@effect-mode/core"
import type { Config } from "./options.js"
import { handle, owns } from "./routes.js"
import { yielding } from "../health.js"
import { make } from "./state.js"

export interface Handler {
  /** Whether the request's target is the observer's (`/observer` or under it). */
  readonly owns: (url: string | undefined) => boolean
  /** Answers the request; never fails, never waits on a service. */
  readonly handle: (req: http.IncomingMessage, res: http.ServerResponse) => Effect.Effect<void>
}

export const makeHandler = (
  roots: Effect.Effect<ReadonlyArray<Service.Service>>,
  config: Config
): Effect.Effect<Handler, never, Scope.Scope> =>
  Effect.gen(function*() {
    const state = yield* make(roots, config)
    const running = yield* FiberSet.make()
    // Its work yields to the event loop, as its rounds do.
    return { owns, handle: (req, res) => Effect.withScheduler(handle(state, running, req, res), yielding) }
  })
