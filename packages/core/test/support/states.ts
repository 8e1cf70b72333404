import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { Service } from "@effect-mode/core"

/** Waits (without clock time) until `service` reaches `state`. */
export const untilState = (service: Service.Service, state: Service.State): Effect.Effect<void> =>
  service.stateChanges.pipe(Stream.takeUntil((s) => s === state), Stream.runDrain)
