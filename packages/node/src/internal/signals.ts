import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Queue from "effect/Queue"
import { constants } from "node:os"

/** The signals that start a graceful stop (mode: SIGINT and SIGTERM; SIGHUP as SIGTERM). */
export const stopSignals = ["SIGINT", "SIGTERM", "SIGHUP"] as const

export type StopSignal = typeof stopSignals[number]

/** 128 + the signal number: what a shell reports for a process killed by that signal. */
export const exitCodeOf = (signal: NodeJS.Signals): number => 128 + (constants.signals[signal] ?? 0)

/**
 * The process-level half of the Worker: plain Node listeners that only record what
 * happened and hand it to fibers (a Deferred for the first stop signal, a queue for dump
 * requests). A second stop signal is the one thing handled right here: it exits at once.
 */
export class Signals {
  /** The first stop signal received, if any. */
  received: StopSignal | undefined = undefined
  /** Completed by the first stop signal. */
  readonly stopRequested: Deferred.Deferred<StopSignal> = Deferred.unsafeMake(FiberId.none)
  private installed = false

  private constructor(
    private readonly forceExitOnSecondSignal: boolean,
    private readonly dumpSignal: NodeJS.Signals | null,
    private readonly stderr: (text: string) => void,
    /** One element per dump signal received. */
    readonly dumps: Queue.Queue<NodeJS.Signals>,
    /** Second signals ignored because `forceExitOnSecondSignal` is false. */
    readonly ignored: Queue.Queue<StopSignal>
  ) {}

  static make(
    forceExitOnSecondSignal: boolean,
    dumpSignal: NodeJS.Signals | null,
    stderr: (text: string) => void
  ): Effect.Effect<Signals> {
    return Effect.map(
      Effect.all([Queue.unbounded<NodeJS.Signals>(), Queue.unbounded<StopSignal>()]),
      ([dumps, ignored]) => new Signals(forceExitOnSecondSignal, dumpSignal, stderr, dumps, ignored)
    )
  }

  private readonly onStop = (signal: StopSignal): void => {
    if (this.received === undefined) {
      this.received = signal
      Deferred.unsafeDone(this.stopRequested, Exit.succeed(signal))
      return
    }
    if (!this.forceExitOnSecondSignal) {
      this.ignored.unsafeOffer(signal)
      return
    }
    const code = exitCodeOf(signal)
    this.stderr(`[Worker] ${signal} received while stopping (after ${this.received}): exiting at once with code ${code}\n`)
    process.exit(code)
  }

  private readonly onDump = (signal: NodeJS.Signals): void => {
    this.dumps.unsafeOffer(signal)
  }

  install(): void {
    if (this.installed) return
    this.installed = true
    for (const signal of stopSignals) process.on(signal, this.onStop)
    if (this.dumpSignal !== null) process.on(this.dumpSignal, this.onDump)
  }

  /** Idempotent: called when the worker's scope closes and again when its fiber ends. */
  uninstall(): void {
    if (!this.installed) return
    this.installed = false
    for (const signal of stopSignals) process.removeListener(signal, this.onStop)
    if (this.dumpSignal !== null) process.removeListener(this.dumpSignal, this.onDump)
  }
}
