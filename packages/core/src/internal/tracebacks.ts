/**
 * `humanTracebacks`: the dump of a service and everything under it (state, uptime, and
 * each live task's status, age and span chain).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { formatAge, type TaskLine } from "./run.js"
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
          return [head, ...tasks.map(({ id, name, text }) => `${indent}  - ${name} #${id}: ${text}`)].join("\n")
        }))),
      (blocks) => blocks.join("\n")
    ))

/**
 * `tracebacks`: live task name → its status, age and span chain. A name two live tasks share
 * is told apart by the fiber id (`"worker #12"`, `"worker #13"`).
 */
export const tracebackMap = (lines: ReadonlyArray<TaskLine>): Map<string, string> => {
  const count = new Map<string, number>()
  for (const { name } of lines) count.set(name, (count.get(name) ?? 0) + 1)
  return new Map(lines.map(({ id, name, text }) => [count.get(name) === 1 ? name : `${name} #${id}`, text]))
}
