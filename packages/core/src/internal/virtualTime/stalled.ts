/**
 * The error of a virtual-time run that can make no progress: every fiber idle, nothing that
 * can move time, and the program not finished. Its message says why and what to do.
 */
import * as Data from "effect/Data"

const describeTime = (millis: number): string => {
  const date = new Date(millis)
  return Number.isNaN(date.getTime()) ? `${millis}ms` : date.toISOString()
}

/** @internal */
export class VirtualTimeStalled extends Data.TaggedError("VirtualTimeStalled")<{
  /** The virtual time when it stalled (epoch millis). */
  readonly virtualTime: number
  /** Due times of the pending sleeps, earliest first (at most 10). */
  readonly pendingSleeps: ReadonlyArray<number>
  /** Whether the run auto-advanced time. */
  readonly autoAdvance: boolean
  /** Event-loop turns waited with no progress. */
  readonly idleRounds: number
}> {
  override get message(): string {
    const at = `virtual time stalled at ${describeTime(this.virtualTime)}: every fiber is idle and the program has not ended after ${this.idleRounds} event-loop turns`
    const outside = "a fiber waits on something outside Effect's scheduler (a promise, a real timer, a socket, " +
      "a fiber forked before virtualTime) or on something that never happens"
    if (this.pendingSleeps.length > 0 && !this.autoAdvance) {
      return `${at}, with ${this.pendingSleeps.length === 10 ? "10 or more" : this.pendingSleeps.length} sleep(s) pending ` +
        `(next at ${describeTime(this.pendingSleeps[0]!)}) but nothing advancing the clock. ` +
        "Advance it with TestClock.adjust from a fiber that is not waiting (fork the waiting part first), " +
        "or run with Testing.virtualTime(effect, { autoAdvance: true }). Otherwise " + outside +
        ": replace it with an Effect fake or move it out of virtualTime."
    }
    const sleeps = this.pendingSleeps.length === 0 ? "no sleep is pending" : "no pending sleep ever comes due"
    return `${at} and ${sleeps}, so ${outside}. Replace that call with an Effect fake, ` +
      "move it out of virtualTime, or pass { onStall: \"warn\" } to keep waiting for it."
  }
}
