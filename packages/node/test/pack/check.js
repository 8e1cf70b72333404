// Runs `node app.js` (the packed packages, plain node), checks that /livez and /readyz
// answer and that SIGTERM stops it with exit code 0; also that the packages are sealed
// (their internals cannot be imported). Exits non-zero, with the app's output, otherwise.
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"

const fail = (why, output = "") => {
  console.error(`pack test: ${why}\n${output}`)
  process.exit(1)
}

for (const pkg of ["core", "node"]) {
  const types = new URL(`node_modules/@effect-mode/${pkg}/dist/index.d.ts`, import.meta.url)
  if (!existsSync(types)) fail(`@effect-mode/${pkg} has no declarations (dist/index.d.ts)`)
}

for (const internal of ["@effect-mode/core/internal/service", "@effect-mode/node/internal/worker"]) {
  const sealed = await import(internal).then(() => false, (e) => e.code === "ERR_PACKAGE_PATH_NOT_EXPORTED")
  if (!sealed) fail(`${internal} can be imported`)
}

const child = spawn(process.execPath, ["app.js"], { stdio: ["ignore", "pipe", "pipe"] })
let output = ""
const exited = new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal })))
const guard = setTimeout(() => {
  child.kill("SIGKILL")
  fail("timed out", output)
}, 60_000)

let ready = false
const port = await new Promise((resolve) => {
  let seen
  const onData = (chunk) => {
    output += chunk
    seen ??= /Health endpoints on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]
    if (!ready && seen !== undefined && /^MARK READY$/m.test(output)) {
      ready = true
      resolve(Number(seen))
    }
  }
  child.stdout.setEncoding("utf8").on("data", onData)
  child.stderr.setEncoding("utf8").on("data", onData)
  void exited.then(({ code }) => ready || fail(`app.js exited (${code}) before it was ready`, output))
})

for (const [path, body] of [["/livez", "ok\n"], ["/readyz", "ready\n"]]) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  const text = await res.text()
  if (res.status !== 200 || text !== body) fail(`${path} answered ${res.status} ${JSON.stringify(text)}`, output)
}

child.kill("SIGTERM")
const { code, signal } = await exited
clearTimeout(guard)
if (code !== 0) fail(`exit code ${code ?? signal} after SIGTERM (expected 0)`, output)
if (!output.includes("MARK onStop Db")) fail("Db was not stopped", output)
console.log(`pack test: node app.js started, answered /livez and /readyz on port ${port}, stopped on SIGTERM with exit code 0`)
