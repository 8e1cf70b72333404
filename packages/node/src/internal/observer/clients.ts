/**
 * The pages connected to the observer's server-sent event stream: at most `max` at once
 * (one more is answered 503), and each one's unsent output bounded (a page that does not
 * read is disconnected instead of growing the process's memory). Every message is
 * serialized once for all of them.
 */
import type * as http from "node:http"

export interface Limits {
  /** Connected pages at most. */
  readonly max: number
  /** Unsent bytes per page at most; past it the page is disconnected (it reconnects and gets a fresh state). */
  readonly maxBuffered: number
}

/** One server-sent event: `event:` line, one `data:` line of JSON. */
export const encode = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`

export class Clients {
  private readonly open = new Set<http.ServerResponse>()

  constructor(readonly limits: Limits) {}

  get size(): number {
    return this.open.size
  }

  /**
   * Answers `res` as an event stream and sends it `first`; false (and nothing written)
   * when `max` pages are already connected.
   */
  add(res: http.ServerResponse, first: string): boolean {
    if (this.open.size >= this.limits.max) return false
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no"
    })
    res.write(`retry: 2000\n\n${first}`)
    this.open.add(res)
    res.once("close", () => this.open.delete(res))
    return true
  }

  /** Writes `chunk` to every page; drops the pages whose unsent output passed `maxBuffered`. */
  broadcast(chunk: string): void {
    for (const res of this.open) {
      if (res.writableLength > this.limits.maxBuffered) {
        this.open.delete(res)
        res.destroy()
      } else {
        res.write(chunk)
      }
    }
  }

  /** Ends every stream (the observer is closing). */
  closeAll(): void {
    for (const res of this.open) res.end()
    this.open.clear()
  }
}
