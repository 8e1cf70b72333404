/**
 * `Service.Current`: the tag of the lifecycle handle of the service whose code is running
 * (its `scoped`, hooks and tasks, for a `Service.Tag` service).
 *
 * @internal
 */
import * as Context from "effect/Context"
import type * as Service from "../../Service.js"

/** The identifier of `Service.Current` (declared in `Service.ts`, so declarations name the public module). */
export type Current = Service.Current

/** @internal */
export const Current: Context.Tag<Current, Service.Service> = Context.GenericTag<Current, Service.Service>(
  "@effect-mode/core/Service/Current"
)
