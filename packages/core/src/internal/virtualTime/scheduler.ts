/**
 * The scheduler of a virtual-time world: an Effect `Scheduler` that runs every task of the
 * world's fibers from one queue on microtasks and says when that queue has stayed empty
 * (quiescence), so the clock knows when it may move time. It never waits on real time; idleness
 * also waits for one turn of the event loop, so that promise chains of any length (an in-memory
 * fake client's awaits) settle first, the world's first one included.
 */
import * as Scheduler from "effect/Scheduler"

// The core is platform-free (built with no ambient types): the few host functions it needs,
// present in Node, Deno, Bun and browsers alike.
declare const queueMicrotask: (f: () => void) => void
declare const setTimeout: (f: () => void, ms: number) => unknown
declare const setImmediate: ((f: () => void) => unknown) | undefined

/** Microtask hops the queue must stay empty before the world counts as idle (lets resolved promise chains land). */
const settleHops = 4

/** Tasks run without giving the event loop a turn; past it the next drain goes through a macrotask. */
const tasksPerTurn = 20_000

/** Runs `f` on the next turn of the event loop (a macrotask, not a timer wait). */
export const nextTurn: (f: () => void) => void = typeof setImmediate === "function"
  ? (f) => void setImmediate(f)
  : (f) => void setTimeout(f, 0)

/** @internal */
export class VirtualScheduler implements Scheduler.Scheduler {
  private tasks = new Scheduler.PriorityBuckets()
  /** A drain is queued or running. */
  private draining = false
  private sinceTurn = 0
  /** Bumped by every settle, so only the latest one may report idleness. */
  private generation = 0
  /** Tasks run so far: the world's progress counter (it changes whenever any fiber of the world runs). */
  ticks = 0

  /** Worlds running inside this one (a nested `virtualTime`): while one runs, it watches for stalls, not this one. */
  nested = 0

  /** Tasks run since the world was last idle. */
  private sinceIdle = 0

  /**
   * @param onIdle called when the queue has stayed empty (every fiber is idle)
   * @param busyTasks tasks run with no idle moment after which `onBusy` is called (and again
   *   after as many more): a fiber that never waits (a polling loop) keeps the world from
   *   ever being idle, and time must move all the same
   */
  constructor(
    private readonly onIdle: () => void,
    private readonly busyTasks: number = Infinity,
    private readonly onBusy: () => void = () => {}
  ) {}

  shouldYield(fiber: Parameters<Scheduler.Scheduler["shouldYield"]>[0]): number | false {
    return Scheduler.defaultShouldYield(fiber)
  }

  scheduleTask(task: Scheduler.Task, priority: number): void {
    this.tasks.scheduleTask(task, priority)
    if (!this.draining) {
      this.draining = true
      queueMicrotask(this.drain)
    }
  }

  /** True while a task is queued or running. */
  get busy(): boolean {
    return this.draining
  }

  /** Checks for idleness even if no task arrives (after something outside a task changed what is due). */
  kick(): void {
    if (!this.draining) this.settle()
  }

  private drain = (): void => {
    if (this.sinceTurn >= tasksPerTurn) {
      // keep the event loop alive (test timeouts, output, I/O) during long runs; order is unchanged
      this.sinceTurn = 0
      nextTurn(this.drain)
      return
    }
    try {
      while (this.tasks.buckets.length > 0) {
        const buckets = this.tasks.buckets
        this.tasks.buckets = []
        for (const [, run] of buckets) {
          for (let i = 0; i < run.length; i++) {
            this.ticks++
            this.sinceTurn++
            run[i]()
            if (++this.sinceIdle >= this.busyTasks) {
              this.sinceIdle = 0
              this.onBusy()
            }
          }
        }
        if (this.sinceTurn >= tasksPerTurn) break
      }
    } finally {
      if (this.tasks.buckets.length > 0) {
        queueMicrotask(this.drain)
      } else {
        this.draining = false
        this.settle()
      }
    }
  }

  /**
   * Calls `onIdle` once the queue has stayed empty for `settleHops` microtasks and one more
   * turn of the event loop (a macrotask, which runs only once every pending microtask has run:
   * no timer, no real-time wait). Waiting for the turn only once a promise had woken a fiber
   * let the world's first chain of five awaits or more see time move first.
   */
  private settle(): void {
    const generation = ++this.generation
    const still = () => !this.draining && this.generation === generation
    const idle = (): void => {
      if (!still()) return
      this.sinceIdle = 0
      this.onIdle()
    }
    const hop = (left: number): void => {
      if (!still()) return
      if (left > 0) queueMicrotask(() => hop(left - 1))
      else nextTurn(idle)
    }
    hop(settleHops)
  }
}
