/**
 * `humanTracebacks`: the dump of a service and everything under it (state, uptime, and
 * each live task's status, age and span chain).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { formatAge } from "./run.js"
import { collect } from "./graph.js"
import type { ServiceImpl } from "./service.js"

/**
 * The human-readable dump of a subtree (the Worker prints it on SIGUSR2): every service
 * with its state, Diag flags and uptime, and under it each live task with its status,
 * age and span chain.
 */
export const renderTracebacks = (root: ServiceImpl): Effect.Effect<string> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.map(
      Effect.forEach(collect(root), (service) =>
        Effect.all([
          service.diag.flags,
          service.run === undefined ? Effect.succeed([]) : service.run.describe(now)
        ]).pipe(Effect.map(([flags, tasks]) => {
          const indent = "  ".repeat(service.depthSync() - 1)
          const uptime = service.startedAt === undefined ? "-" : formatAge(now - service.startedAt)
          const head = `${indent}${service.label} #${service.id} [${service.stateSync()}] uptime=${uptime}` +
            (flags.size > 0 ? ` flags=${Array.from(flags).join(",")}` : "")
          return [head, ...tasks.map(([name, text]) => `${indent}  - ${name}: ${text}`)].join("\n")
        }))),
      (blocks) => blocks.join("\n")
    ))
