/**
 * The supervisor handle: a service (made with the hooks of its supervision) that also
 * answers the `Supervisor` members by handing them to its `Supervision`. All supervisor
 * logic is in ./supervisor/*.ts and reaches the service through the narrow `Host`.
 *
 * @internal
 */
import type * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Service from "../Service.js"
import type { ChildSpec, Intensity, RestartType, Strategy } from "../Supervisor.js"
import { show } from "./options.js"
import { asImpl, isHandle, ServiceImpl, withMade } from "./service.js"
import { Supervision } from "./supervisor/supervision.js"
import { strategyOf } from "./supervisor/strategy.js"
import type { Policy } from "./supervisorPolicy.js"

export { childSpec } from "./supervisor/entries.js"

/** Throws a `TypeError` naming a strategy that is not one (when the supervisor is declared). */
export const checkStrategy = (strategy: unknown, label: string): void => {
  strategyOf(strategy, label)
}

/**
 * A supervisor's services: an array of services (or `Supervisor.child` specs), checked when
 * the supervisor is declared.
 *
 * @internal
 */
export const checkServices = (services: unknown, label: string): void => {
  const invalid = (value: unknown, expected: string) =>
    new TypeError(`Invalid services of supervisor ${show(label)}: ${show(value)} (expected ${expected})`)
  if (!Array.isArray(services)) throw invalid(services, "an array of services")
  services.forEach((s: unknown, i) => {
    const spec = typeof s === "object" && s !== null && (s as { _tag?: unknown })._tag === "ChildSpec"
    const service = spec ? (s as { service: unknown }).service : s
    if (!isHandle(service)) {
      throw new TypeError(
        `Invalid services[${i}] of supervisor ${show(label)}: ${show(s)} (expected a service or Supervisor.child(service, options))`
      )
    }
  })
}
export { escalations, restarts } from "./supervisor/metrics.js"

const hooks: Service.Options<never, never> = {
  onStart: (self) => (self as SupervisorImpl).supervision.beginRun,
  onStarted: (self) => (self as SupervisorImpl).supervision.startLoop,
  onStop: (self) => (self as SupervisorImpl).supervision.stopLoop
}

/** @internal */
export class SupervisorImpl extends ServiceImpl {
  readonly supervision: Supervision

  constructor(
    label: string,
    strategy: Strategy,
    policy: Policy,
    context: Context.Context<never>
  ) {
    super(label, hooks, context as Context.Context<any>)
    this.supervision = new Supervision(this, this, strategyOf(strategy, label), policy)
    this.extension = { removeDependency: (child) => this.supervision.removeChild(child) }
  }

  get strategy(): Strategy {
    return this.supervision.strategy.name
  }
  get policy(): Policy {
    return this.supervision.policy
  }
  get services(): Effect.Effect<ReadonlyArray<Service.Service>> {
    return this.supervision.entries.services
  }
  get intensity(): Effect.Effect<Intensity> {
    return this.supervision.intensity
  }
  restartTypeOf(service: Service.Service): RestartType | undefined {
    return this.supervision.entries.get(asImpl(service))?.restart
  }
  addSync(inputs: ReadonlyArray<Service.Service | ChildSpec>): void {
    this.supervision.entries.add(inputs)
  }
  add(...services: ReadonlyArray<Service.Service | ChildSpec>): Effect.Effect<void> {
    return withMade(services, this.supervision.add(services))
  }
  discard(...services: ReadonlyArray<Service.Service>): Effect.Effect<void> {
    return withMade(services, this.supervision.discard(services))
  }
  insert(index: number, input: Service.Service | ChildSpec): Effect.Effect<void> {
    return withMade(input, this.supervision.insert(index, input))
  }
}

/** @internal */
export const isSupervisor = (u: unknown): u is SupervisorImpl => u instanceof SupervisorImpl
