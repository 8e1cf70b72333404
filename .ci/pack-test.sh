#!/usr/bin/env bash
# The packages as a user gets them: build (tsc -b into dist/), `pnpm pack` @effect-mode/core
# and @effect-mode/node, install the tarballs with npm into a fresh project outside the
# workspace (with the effect versions the workspace is locked to), and run a Worker there
# with plain `node` (packages/node/test/pack/check.js: /livez answers, SIGTERM exits 0).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

pnpm build

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pnpm --filter @effect-mode/core pack --pack-destination "$work" >/dev/null
pnpm --filter @effect-mode/node pack --pack-destination "$work" >/dev/null

version() {
  node -p "require('$root/packages/node/node_modules/$1/package.json').version"
}
deps=("effect@$(version effect)" "@effect/platform@$(version @effect/platform)" "@effect/platform-node@$(version @effect/platform-node)")

app="$work/app"
mkdir "$app"
cp packages/node/test/pack/app.js packages/node/test/pack/check.js "$app/"
cd "$app"
echo '{ "name": "pack-test", "private": true, "type": "module" }' > package.json
echo "+ npm install ${work##*/}/effect-mode-{core,node}-*.tgz ${deps[*]}"
npm install --no-audit --no-fund --loglevel=error "$work"/effect-mode-core-*.tgz "$work"/effect-mode-node-*.tgz "${deps[@]}"
node check.js
