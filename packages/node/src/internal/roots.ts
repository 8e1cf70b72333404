import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { asImpl, isService, type ServiceImpl } from "@effect-mode/core/internal/service"
import type { Service } from "@effect-mode/core"

/**
 * The services a worker runs: one root for `runMain(effect)`, the top services of the
 * layer's output for `runMain(layer)`. Read by the dump, the blocking detector and the
 * health endpoints; empty until the root is made (or the layer built).
 */
export class Roots {
  private list: ReadonlyArray<ServiceImpl> = []

  get all(): ReadonlyArray<ServiceImpl> {
    return this.list
  }

  set(services: ReadonlyArray<Service.Service>): void {
    const tops: Array<ServiceImpl> = []
    for (const service of services) {
      let top = asImpl(service)
      while (top.parent !== undefined) top = top.parent
      if (!tops.includes(top)) tops.push(top)
    }
    this.list = tops
  }

  /** Every service of every tree, depth first. */
  get services(): Array<ServiceImpl> {
    const out: Array<ServiceImpl> = []
    const walk = (s: ServiceImpl) => {
      out.push(s)
      for (const c of s.children) walk(c)
    }
    for (const root of this.list) walk(root)
    return out
  }

  /** The first crash recorded on a root: where it started and why. */
  get crash(): { readonly path: string; readonly cause: ServiceImpl["crashCause"] & {} } | undefined {
    for (const root of this.list) {
      if (root.crashCause !== undefined) return { path: root.crashOrigin ?? root.pathSync(), cause: root.crashCause }
    }
    return undefined
  }

  /**
   * The services that hold up a stop: each one still stopping none of whose children is
   * still stopping (the stuck step is its own hook, task or finalizer), with the phase.
   */
  get stuck(): Array<string> {
    const out: Array<string> = []
    for (const s of this.services) {
      if (s.phase === "stopping" || s.phase === "starting") {
        const busyChild = s.children.some((c) => c.phase === "stopping" || c.phase === "starting")
        if (!busyChild) out.push(`${s.pathSync()} (${s.phase})`)
      }
    }
    return out
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
    if (isService(value)) out.push(value)
  }
  return out
}
