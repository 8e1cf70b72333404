import { describe, expect } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { Service } from "@effect-mode/core"
import { it } from "./support/it.js"
import { captureLogs, type Captured } from "./support/logs.js"

describe("logging", () => {
  it.effect("lifecycle lines carry the mode prefix (one dash per level below the root) at mundaneLevel", () =>
    Effect.gen(function*() {
      const lines: Array<Captured> = []
      const root = yield* Service.make("App")
      yield* root.addDependency(yield* Service.make("Consumer", { mundaneLevel: "debug" }))
      yield* captureLogs(Effect.zipRight(root.start, root.stop), lines)
      const summary = lines.map((l) => `${l.level} ${l.message}`)
      expect(summary).toEqual([
        "INFO [^App]: Starting...",
        "DEBUG [^-Consumer]: Starting...",
        "INFO [^App]: Stopping...",
        "DEBUG [^-Consumer]: Stopping...",
        "DEBUG [^-Consumer]: -Stopped!",
        "INFO [^App]: -Stopped!"
      ])
      expect(lines[1]!.annotations).toEqual({ service: "Consumer", servicePath: "App/Consumer" })
    }))

  it.effect("logs written by hooks and tasks carry the service's label and path (and the task name)", () =>
    Effect.gen(function*() {
      const lines: Array<Captured> = []
      const root = yield* Service.make("App")
      const consumer = yield* Service.make("Consumer", {
        onStart: () => Effect.log("subscribing"),
        tasks: [Service.task(() => Effect.log("polling"), { name: "poll" })]
      })
      yield* root.addDependency(consumer)
      yield* captureLogs(
        Effect.gen(function*() {
          yield* root.start
          yield* Effect.yieldNow()
          yield* root.stop
        }),
        lines
      )
      const subscribing = lines.find((l) => l.message === "subscribing")!
      expect(subscribing.annotations).toEqual({ service: "Consumer", servicePath: "App/Consumer" })
      const polling = lines.find((l) => l.message === "polling")!
      expect(polling.annotations).toEqual({ service: "Consumer", servicePath: "App/Consumer", task: "poll" })
    }))

  it.effect("a task's annotations are those of the start that forked it, start after start", () =>
    Effect.gen(function*() {
      const lines: Array<Captured> = []
      const svc = yield* Service.make("Worker", {
        tasks: [Service.task(() => Effect.log("working"), { name: "work" })]
      })
      const startAs = (request: number) =>
        Effect.gen(function*() {
          yield* Effect.annotateLogs(svc.start, "request", request)
          yield* Effect.yieldNow()
          yield* svc.stop
        })
      yield* captureLogs(Effect.zipRight(startAs(1), startAs(2)), lines)
      const working = lines.filter((l) => l.message === "working").map((l) => l.annotations)
      expect(working).toEqual([
        { request: 1, service: "Worker", servicePath: "Worker", task: "work" },
        { request: 2, service: "Worker", servicePath: "Worker", task: "work" }
      ])
    }))

  it.effect("a timer's and a crontab's ticks log with the annotations of the start that registered them", () =>
    Effect.gen(function*() {
      const lines: Array<Captured> = []
      const root = yield* Service.make("App")
      const svc = yield* Service.make("Poller", {
        tasks: [
          Service.timer("1 second", () => Effect.log("tick"), { name: "tick" }),
          Service.crontab("* * * * *", () => Effect.log("cron"), { name: "cron" })
        ]
      })
      yield* root.addDependency(svc)
      yield* captureLogs(
        Effect.gen(function*() {
          yield* Effect.annotateLogs(root.start, "request", 7)
          yield* TestClock.adjust("2 minutes")
          yield* root.stop
        }),
        lines
      )
      const ticks = lines.filter((l) => l.message === "tick").map((l) => l.annotations)
      expect(ticks.length).toBeGreaterThan(1)
      for (const annotations of ticks) {
        expect(annotations).toEqual({ request: 7, service: "Poller", servicePath: "App/Poller", task: "tick" })
      }
      const crons = lines.filter((l) => l.message === "cron").map((l) => l.annotations)
      expect(crons).toEqual([
        { request: 7, service: "Poller", servicePath: "App/Poller", task: "cron" },
        { request: 7, service: "Poller", servicePath: "App/Poller", task: "cron" }
      ])
    }))
})
