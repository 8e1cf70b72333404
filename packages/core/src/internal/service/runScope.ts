/**
 * The `Scope` a service's own code runs with when it needs one: the run scope for the start
 * hooks, `onStop` and the tasks (what they acquire or fork with it is released by the matching
 * stop), a scope of the hook's own for `onShutdown` and `onRestart`, which run outside a run
 * (released when the hook ends). `Service.Tag` runs its code so; `Service.make` does when it is
 * made inside a scope (a layer, `Effect.scoped`), where that code would otherwise get the scope
 * around the make, which lives across restarts (what each run acquired piled up until it closed).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Service from "../../Service.js"
import { hookNames } from "./validate.js"

type Body = (self: Service.Service) => Effect.Effect<void, any, any>

/** @internal */
export const inRunScope = (effect: Body): Body => (self) => self.addContext(effect(self))

/** @internal */
export const inOwnScope = (effect: Body): Body => (self) => Effect.scoped(effect(self))

/** @internal */
export const runScopedHooks: ReadonlySet<string> = new Set(["onFirstStart", "onStart", "onStarted", "onStop"])

/** A declared task as the start sees it. */
interface Runnable extends Service.Task<any, any> {
  readonly runAs?: (self: Service.Service, name: string) => Effect.Effect<void, any, any>
  readonly scheduleOn?: unknown
}

/**
 * A task whose body runs in the run scope, through `wrap` (a Tag's gives it `Service.Current`).
 * A timer or crontab registered by the start with no fiber of its own (`scheduleOn`) would run
 * its ticks with the starting fiber's context: without it, it is registered from a task fiber,
 * which has the wrapped context, as every tick's fiber then has.
 *
 * @internal
 */
export const taskInRunScope = (task: Runnable, wrap: (body: Body) => Body = (body) => body): Service.Task<any, any> => {
  const { runAs, scheduleOn: _, ...rest } = task
  const wrapped: Runnable = { ...rest, run: inRunScope(wrap(task.run)) }
  if (runAs === undefined) return wrapped
  const withName: Runnable = {
    ...wrapped,
    runAs: (self: Service.Service, name: string) => inRunScope(wrap((s) => runAs(s, name)))(self)
  }
  return withName
}

/** Options whose code already runs in the right scopes (a Tag's): not wrapped again. */
const wrappedOptions = new WeakSet<object>()

/** @internal */
export const markRunScoped = <O extends object>(options: O): O => {
  wrappedOptions.add(options)
  return options
}

/**
 * `options` with every hook and task in its scope (see above); the same object when it has
 * neither, or when they are wrapped already.
 *
 * @internal
 */
export const inRunScopes = <O extends Service.Options<any, any>>(options: O): O => {
  if (wrappedOptions.has(options)) return options
  const out: Record<string, unknown> = { ...(options as Record<string, unknown>) }
  let changed = false
  for (const name of hookNames) {
    const hook = options[name] as Body | undefined
    if (hook === undefined) continue
    out[name] = (runScopedHooks.has(name) ? inRunScope : inOwnScope)(hook)
    changed = true
  }
  if (options.tasks !== undefined && options.tasks.length > 0) {
    out["tasks"] = options.tasks.map((task) => taskInRunScope(task as Runnable))
    changed = true
  }
  return changed ? markRunScoped(out as O) : options
}
