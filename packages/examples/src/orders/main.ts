/**
 * The orders daemon (`pnpm orders`), written Layer-first:
 *
 *   Database         a connection pool (opened and closed by the service's lifecycle)
 *   PaymentGateway   depends on Database; flaky, supervised: restarted in place when it crashes
 *   Consumer         depends on Database and PaymentGateway: `lag`, `submit`; a poll task, a 5 s commit timer
 *   Producer         depends on Consumer: submits an order every 500 ms
 *   Reporter         depends on Consumer: a crontab at 02:30 Europe/Berlin
 *
 * The Worker finds every service through the layer graph: they start in dependency order
 * (Database, PaymentGateway, Consumer, then Producer and Reporter), and SIGTERM / Ctrl-C stops them in the
 * reverse order (the pool closes last). `kill -USR2 <pid>` prints every service with its
 * state and tasks. `ORDERS_CRASH=Consumer pnpm orders` crashes the consumer: exit 1.
 * `ORDERS_HEALTH_PORT=9090 pnpm orders` serves the health endpoints and the observer page
 * (`http://127.0.0.1:9090/observer`), which shows the layer graph's edges of each service.
 */
import { Layer } from "effect"
import { Worker } from "@effect-mode/node"
import { Producer } from "./Producer.js"
import { Reporter } from "./Reporter.js"

export const OrdersLive = Layer.mergeAll(Producer.Default, Reporter.Default)

const healthPort = process.env["ORDERS_HEALTH_PORT"]

Worker.runMain(OrdersLive, {
  shutdownTimeout: "20 seconds",
  ...(healthPort === undefined ? {} : { health: { port: Number(healthPort), host: "127.0.0.1", observer: true } })
})
