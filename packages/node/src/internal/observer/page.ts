/**
 * The observer's page: one self-contained HTML document (markup, style and script; no
 * CDN, nothing fetched but its own event stream and actions). The script is in
 * `pageScript.ts`.
 */
import { createHash } from "node:crypto"
import { script } from "./pageScript.js"

const style = String.raw`
:root { --bg: #f7f7f5; --fg: #1d1f21; --mute: #6b6f76; --line: #e2e2de; --panel: #ffffff;
  --run: #1a7f37; --start: #9a6700; --stop: #6e7781; --crash: #cf222e; --sel: #ddf4ff; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg);
  height: 100vh; display: flex; flex-direction: column; }
header { display: flex; gap: 12px; align-items: center; padding: 8px 14px; background: #24292f; color: #f6f8fa; flex-wrap: wrap; }
header h1 { font-size: 15px; margin: 0 8px 0 0; font-weight: 600; }
header .conn { font-size: 12px; padding: 1px 8px; border-radius: 10px; background: #57606a; }
header .conn.live { background: var(--run); }
header .conn.down { background: var(--crash); }
header .counts span { margin-right: 10px; font-variant-numeric: tabular-nums; }
header .spacer { flex: 1; }
header input { font: inherit; padding: 2px 6px; border-radius: 4px; border: 1px solid #57606a; background: #32383f; color: #fff; width: 150px; }
button { font: inherit; padding: 2px 10px; border-radius: 4px; border: 1px solid #8c959f; background: #f6f8fa; cursor: pointer; }
button:hover { background: #eaeef2; }
button.danger { color: var(--crash); }
#notice { font-size: 12px; color: #ffd8b5; }
main { flex: 1; display: flex; min-height: 0; }
#tree { flex: 1; overflow: auto; padding: 8px 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
aside { width: 440px; border-left: 1px solid var(--line); display: flex; flex-direction: column; min-height: 0; background: var(--panel); }
#details { padding: 10px 14px; border-bottom: 1px solid var(--line); max-height: 62%; overflow: auto; }
#details h2 { font-size: 15px; margin: 0 0 2px; }
#details .path { color: var(--mute); font-family: ui-monospace, monospace; font-size: 12px; margin-bottom: 8px; word-break: break-all; }
#details table { border-collapse: collapse; width: 100%; margin: 4px 0 10px; font-size: 12px; }
#details th { text-align: left; color: var(--mute); font-weight: 500; padding: 2px 6px 2px 0; }
#details td { padding: 2px 6px 2px 0; font-family: ui-monospace, monospace; }
#details h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--mute); margin: 10px 0 2px; }
#details .crashbox { border-left: 3px solid var(--crash); background: #fff1f0; padding: 4px 8px; margin: 6px 0; font-family: ui-monospace, monospace; font-size: 12px; word-break: break-word; }
#details .acts:empty { display: none; }
#details .acts { display: flex; gap: 6px; margin-top: 6px; }
#feedbox { flex: 1; display: flex; flex-direction: column; min-height: 0; }
#feedbox h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--mute); margin: 8px 14px 4px; }
#feed { flex: 1; overflow: auto; padding: 0 14px 10px; font-size: 12px; }
.ev { padding: 3px 0; border-bottom: 1px solid #f0f0ec; word-break: break-word; }
.ev time { color: var(--mute); font-family: ui-monospace, monospace; margin-right: 6px; }
.ev b { display: inline-block; min-width: 68px; text-transform: uppercase; font-size: 10.5px; letter-spacing: .03em; }
.ev .p { font-family: ui-monospace, monospace; margin-right: 6px; }
.k-crash b, .k-escalation b { color: var(--crash); }
.k-restart b { color: var(--start); }
.k-start b { color: var(--run); }
.k-stop b { color: var(--stop); }
.node > .row { display: flex; align-items: center; gap: 8px; padding: 1px 14px 1px calc(14px + var(--d, 0) * 18px); cursor: pointer; white-space: nowrap; }
.node > .row:hover { background: #eef1f4; }
.node.sel > .row { background: var(--sel); }
.kids[hidden] { display: none; }
.tw { width: 12px; color: var(--mute); text-align: center; user-select: none; }
.label { font-weight: 600; }
.st { font-size: 11px; padding: 0 7px; border-radius: 9px; color: #fff; background: var(--stop); }
.s-running { background: var(--run); }
.s-starting, .s-stopping { background: var(--start); }
.s-crashed { background: var(--crash); }
.s-init { background: #8c959f; }
.sv { font-size: 10.5px; color: #8250df; }
.up, .rc, .tk { color: var(--mute); font-variant-numeric: tabular-nums; }
.rc { color: var(--start); }
.fl span { font-size: 10.5px; padding: 0 5px; border: 1px solid #d0d7de; border-radius: 3px; margin-right: 3px; background: #fff8c5; }
.flash > .row { animation: flash 1.2s ease-out; }
@keyframes flash { from { background: #ffcecb; } to { background: transparent; } }
dialog { width: min(900px, 90vw); max-height: 80vh; }
dialog pre { overflow: auto; max-height: 65vh; font-size: 12px; }
.empty { color: var(--mute); }
`

/** The page, served at `/observer`. */
export const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>effect-mode observer</title>
<link rel="icon" href="data:,">
<style>${style}</style>
</head>
<body>
<header>
  <h1>effect-mode observer</h1>
  <span id="conn" class="conn">connecting</span>
  <span id="counts" class="counts"></span>
  <span class="spacer"></span>
  <span id="notice"></span>
  <button id="expand" type="button">Expand all</button>
  <button id="collapse" type="button">Collapse all</button>
  <span id="actionbar" hidden>
    <input id="token" type="password" placeholder="action token" autocomplete="off">
    <button id="dump" type="button">Dump</button>
  </span>
</header>
<main>
  <section id="tree" aria-label="service tree"></section>
  <aside>
    <div id="details"><div id="info"></div><div id="acts" class="acts"></div></div>
    <div id="feedbox"><h3>Events</h3><div id="feed"></div></div>
  </aside>
</main>
<dialog id="dumpdlg"><form method="dialog"><button>Close</button></form><pre id="dumptext"></pre></dialog>
<script>${script}</script>
</body>
</html>
`

const hash = (source: string): string => `'sha256-${createHash("sha256").update(source).digest("base64")}'`

/**
 * The page may run its own script and style only, and talk to its own server only: what
 * "no network at run time" means, enforced by the browser.
 */
export const pageHeaders: Readonly<Record<string, string>> = {
  "content-security-policy": [
    "default-src 'none'",
    `script-src ${hash(script)}`,
    `style-src ${hash(style)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "frame-ancestors 'none'"
  ].join("; "),
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer"
}
