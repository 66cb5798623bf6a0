#!/usr/bin/env bash
# `npm test`: every test, end-to-end ones included. On a fresh machine it installs what it needs first: npm
# dependencies, Node 24 (the runtime GitHub gives actions), and the local Docker engine, buildx, registries,
# base image and package index (scripts/e2e/up.sh, which needs root the first time).
# Arguments are passed to jest, e.g. `npm test -- --selectProjects unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_deps
NODE="$(node24)"
export PATH="$(dirname "$NODE"):$PATH"

run_e2e=1
case " $* " in *" --selectProjects unit "*) run_e2e=0 ;; esac
if [ "$run_e2e" = 1 ]; then
  bash scripts/e2e/up.sh
  # The end-to-end tests run the bundle, as the runner does: make sure it is the bundle of this source.
  npm run --silent bundle >/dev/null
fi

results="$(mktemp)"
status=0
node --experimental-vm-modules node_modules/jest/bin/jest.js --json --outputFile="$results" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`)
' "$results" || true
rm -f "$results"
exit "$status"
