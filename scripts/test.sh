#!/usr/bin/env bash
# `npm test`: every test, end-to-end ones included. On a fresh machine it installs what it needs first: npm
# dependencies, Node 24 (the runtime GitHub gives actions), and the local Docker engine, buildx, registries,
# base image and package index (scripts/e2e/up.sh, which needs root the first time).
# `npm test -- unit` runs only the unit tests, `npm test -- e2e` only the end-to-end ones; other arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_deps
NODE="$(node24)"
export PATH="$(dirname "$NODE"):$PATH"

projects=(unit e2e)
if [ "${1:-}" = unit ] || [ "${1:-}" = e2e ]; then projects=("$1"); shift; fi

if [[ " ${projects[*]} " == *" e2e "* ]]; then
  # When the tests end, the machine's /etc/hosts and trust stores go back to how they were (the engine keeps
  # running, so the next run starts in seconds).
  trap 'bash scripts/e2e/down.sh --keep-docker >/dev/null 2>&1 || echo "scripts/e2e/down.sh did not finish" >&2' EXIT
  bash scripts/e2e/up.sh
  # The end-to-end tests run the bundle, as the runner does: make sure it is the bundle of this source.
  npm run --silent bundle >/dev/null
fi

status=0
passed=0 failed=0 skipped=0
for project in "${projects[@]}"; do
  results="$(mktemp)"
  # End-to-end tests share one Docker engine and build cache: one file at a time.
  band=()
  [ "$project" = e2e ] && band=(--runInBand)
  node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects "$project" "${band[@]}" \
    --json --outputFile="$results" "$@" || status=$?
  read -r p f s < <(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
    console.log(r.numPassedTests, r.numFailedTests + r.numRuntimeErrorTestSuites, r.numPendingTests)
  ' "$results" 2>/dev/null || echo "0 1 0")
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  rm -f "$results"
done
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
