/**
 * The services a worker runs, read through the core's public read model (`ServiceGraph`):
 * one root for `runMain(effect)`, the top services of the layer's output for
 * `runMain(layer)`. Read by the dump, the blocking detector and the health endpoints;
 * empty until the root is made (or the layer built).
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { HealthCheck, Service, ServiceGraph } from "@effect-mode/core"

export class Roots {
  private list: ReadonlyArray<Service.Service> = []

  get all(): ReadonlyArray<Service.Service> {
    return this.list
  }

  /** Keeps the top of each service's tree, once. */
  set(services: ReadonlyArray<Service.Service>): Effect.Effect<void> {
    return Effect.map(Effect.forEach(services, ServiceGraph.root), (tops) => {
      this.list = tops.filter((top, i) => tops.indexOf(top) === i)
    })
  }

  /** A snapshot of every root. */
  get snapshots(): Effect.Effect<Array<ServiceGraph.Snapshot>> {
    return Effect.suspend(() => Effect.forEach(this.list, ServiceGraph.snapshot))
  }

  /** The results of the health checks declared on the running services of every tree. */
  get checks(): Effect.Effect<Array<HealthCheck.Result>> {
    return Effect.suspend(() =>
      Effect.map(Effect.forEach(this.list, HealthCheck.runTree, { concurrency: "unbounded" }), (all) => all.flat())
    )
  }

  /** Every service of every tree, depth first. */
  get services(): Effect.Effect<Array<Service.Service>> {
    return Effect.suspend(() => Effect.map(Effect.forEach(this.list, ServiceGraph.walk), (trees) => trees.flat()))
  }

  /** The first crash recorded on a root: where it started and why. */
  get crash(): Effect.Effect<ServiceGraph.CrashInfo | undefined> {
    return Effect.suspend(() =>
      Effect.map(Effect.forEach(this.list, ServiceGraph.crashOf), (crashes) => crashes.find((c) => c !== undefined))
    )
  }

  /**
   * The services that hold up a stop: each one still stopping none of whose children is
   * still stopping (the stuck step is its own hook, task or finalizer), with the phase.
   */
  get stuck(): Effect.Effect<Array<string>> {
    const busy = (s: ServiceGraph.Snapshot) => s.phase === "stopping" || s.phase === "starting"
    const walk = (s: ServiceGraph.Snapshot, out: Array<string>): Array<string> => {
      if (busy(s) && !s.children.some(busy)) out.push(`${s.path} (${s.phase})`)
      for (const c of s.children) walk(c, out)
      return out
    }
    return Effect.map(this.snapshots, (roots) => roots.flatMap((r) => walk(r, [])))
  }

  /** `humanTracebacks` of every root, one after the other. */
  get dump(): Effect.Effect<string> {
    return Effect.suspend(() =>
      Effect.map(
        Effect.forEach(this.list, (root) => root.humanTracebacks),
        (parts) => parts.length === 0 ? "(no services yet)" : parts.join("\n")
      )
    )
  }
}

/** The services a built layer exposes (the values of its output context that are services). */
export const servicesOf = (context: Context.Context<unknown>): Array<Service.Service> => {
  const out: Array<Service.Service> = []
  for (const value of context.unsafeMap.values()) {
    if (Service.isService(value)) out.push(value)
  }
  return out
}
