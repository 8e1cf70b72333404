/**
 * The demo (`pnpm demo`): a small pipeline run by `Worker.runMain`.
 *
 *   Demo
 *   ├── Producer          a timer puts a message on the queue every 300 ms
 *   ├── Consumer          a task takes messages off the queue
 *   ├── Committer         a timer commits the consumer's offset (Diag flag COMMITTING)
 *   ├── Reporter          a crontab prints the throughput every 10 seconds
 *   └── FlakySupervisor   one-for-one supervisor
 *       └── Flaky         crashes on every 4th poll; restarted each time
 *
 * Try: Ctrl-C (a graceful stop, in reverse order; twice exits at once),
 * `kill -USR2 <pid>` (the task dump), `LOG_FORMAT=json pnpm demo`,
 * `DEMO_HEALTH_PORT=9090 pnpm demo` (the health endpoints and the observer page at
 * http://127.0.0.1:9090/observer; `DEMO_OBSERVER_TOKEN=<8+ characters>` turns its actions on).
 */
import { Effect, Queue, Ref } from "effect"
import { Beacon, Service, Supervisor } from "@effect-mode/core"
import { Worker } from "@effect-mode/node"

/** The tree as indented lines, as `tree` prints directories. */
const renderTree = (node: Beacon.Node, prefix = "", last = true, root = true): Effect.Effect<string> =>
  Effect.flatMap(node.children, (children) =>
    Effect.map(
      Effect.forEach(children, (child, i) =>
        renderTree(child, root ? "" : `${prefix}${last ? "   " : "│  "}`, i === children.length - 1, false)),
      (lines) => [root ? node.service.label : `${prefix}${last ? "└─ " : "├─ "}${node.service.label}`, ...lines].join("\n")
    ))

const demo = Effect.gen(function*() {
  const queue = yield* Queue.bounded<number>(100)
  const produced = yield* Ref.make(0)
  const consumed = yield* Ref.make(0)
  const committed = yield* Ref.make(0)

  const producer = yield* Service.make("Producer", {
    tasks: [
      Service.timer("300 millis", () =>
        Effect.flatMap(Ref.updateAndGet(produced, (n) => n + 1), (n) => Queue.offer(queue, n)), { name: "produce" })
    ]
  })

  const consumer = yield* Service.make("Consumer", {
    tasks: [
      Service.task(() =>
        Effect.forever(
          Effect.flatMap(Queue.take(queue), (message) =>
            Effect.zipRight(
              Ref.set(consumed, message),
              message % 10 === 0 ? Effect.log(`consumed message ${message}`) : Effect.void
            ))
        ), { name: "consume" })
    ]
  })

  const committer = yield* Service.make("Committer", {
    tasks: [
      Service.timer(
        "2 seconds",
        Service.transitionsTo("COMMITTING", () =>
          Effect.gen(function*() {
            const offset = yield* Ref.get(consumed)
            yield* Effect.sleep("150 millis") // the broker's round trip
            yield* Ref.set(committed, offset)
            yield* Effect.log(`committed offset ${offset}`)
          })),
        { name: "commit" }
      )
    ],
    // The last commit on the way out.
    onStop: () => Effect.flatMap(Ref.get(consumed), (offset) => Effect.log(`final commit at offset ${offset}`))
  })

  const reporter = yield* Service.make("Reporter", {
    tasks: [
      Service.crontab("*/10 * * * * *", () =>
        Effect.gen(function*() {
          const [p, c, k] = yield* Effect.all([Ref.get(produced), Ref.get(consumed), Ref.get(committed)])
          yield* Effect.log(`report: produced ${p}, consumed ${c}, committed ${k}`)
        }), { name: "report" })
    ]
  })

  let polls = 0
  const flaky = yield* Service.make("Flaky", {
    onStart: (self) => Effect.flatMap(self.restartCount, (n) => n > 0 ? Effect.log(`back after restart #${n}`) : Effect.void),
    tasks: [
      Service.timer("1 second", () => {
        polls++
        return polls % 4 === 0
          ? Effect.fail(new Error(`upstream returned 503 (poll ${polls})`))
          : Effect.logDebug(`poll ${polls} ok`)
      }, { name: "poll" })
    ]
  })
  const supervisor = yield* Supervisor.oneForOne("FlakySupervisor", [flaky], { maxRestarts: 10, within: "1 minute" })

  const root = yield* Service.make("Demo")
  for (const child of [producer, consumer, committer, reporter, supervisor]) yield* root.addDependency(child)
  yield* Effect.sync(() => console.log(""))
  const tree = yield* renderTree(root.beacon)
  yield* Effect.sync(() =>
    console.log(
      `${tree}\n\npid ${process.pid}: Ctrl-C stops gracefully (twice: at once); kill -USR2 ${process.pid} prints the task dump\n`
    )
  )
  return root
})

const healthPort = process.env["DEMO_HEALTH_PORT"]
const token = process.env["DEMO_OBSERVER_TOKEN"]
Worker.runMain(demo, {
  shutdownTimeout: "10 seconds",
  blockingTimeout: "500 millis",
  ...(healthPort === undefined ? {} : {
    health: { port: Number(healthPort), host: "127.0.0.1", observer: token === undefined ? true : { actions: { token } } }
  })
})
