/**
 * The pending sleeps of a virtual clock: a binary heap ordered by (due time, registration
 * order), so the clock wakes every sleep due at the next instant in the order they began.
 * A cancelled (interrupted) sleep is dropped lazily, and the heap is rebuilt when most of it is dead.
 */

/** One pending sleep; `wake` is cleared once it is woken or cancelled. */
export interface Sleep {
  readonly time: number
  readonly seq: number
  wake: (() => void) | undefined
}

const before = (a: Sleep, b: Sleep): boolean => a.time < b.time || (a.time === b.time && a.seq < b.seq)

/** @internal */
export class Sleeps {
  private heap: Array<Sleep> = []
  private seq = 0
  /** Sleeps neither woken nor cancelled. */
  live = 0

  add(time: number, wake: () => void): Sleep {
    const sleep: Sleep = { time, seq: this.seq++, wake }
    this.push(sleep)
    this.live++
    return sleep
  }

  cancel(sleep: Sleep): void {
    if (sleep.wake === undefined) return
    sleep.wake = undefined
    this.live--
    if (this.heap.length > 64 && this.live * 2 < this.heap.length) this.compact()
  }

  /** The earliest live sleep. */
  peek(): Sleep | undefined {
    while (this.heap.length > 0 && this.heap[0]!.wake === undefined) this.pop()
    return this.heap[0]
  }

  /** Removes every live sleep due at `time` (the earliest one's), in registration order, and returns their wake-ups. */
  takeDue(time: number): Array<() => void> {
    const due: Array<() => void> = []
    for (let next = this.peek(); next !== undefined && next.time === time; next = this.peek()) {
      this.pop()
      due.push(next.wake!)
      next.wake = undefined
      this.live--
    }
    return due
  }

  /** The due times of the live sleeps, earliest first. */
  times(): Array<number> {
    return this.heap.filter((s) => s.wake !== undefined).sort((a, b) => (before(a, b) ? -1 : 1)).map((s) => s.time)
  }

  private compact(): void {
    const kept = this.heap.filter((s) => s.wake !== undefined)
    this.heap = []
    for (const s of kept) this.push(s)
  }

  private push(sleep: Sleep): void {
    const heap = this.heap
    let i = heap.push(sleep) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(sleep, heap[parent]!)) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = sleep
  }

  private pop(): void {
    const heap = this.heap
    const last = heap.pop()!
    if (heap.length === 0) return
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= heap.length) break
      const right = left + 1
      const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left
      if (!before(heap[child]!, last)) break
      heap[i] = heap[child]!
      i = child
    }
    heap[i] = last
  }
}
