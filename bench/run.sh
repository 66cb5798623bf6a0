#!/usr/bin/env bash
# `npm run bench`: brings up the local end-to-end environment (scripts/e2e/up.sh), bundles dist/ when it is
# missing or older than the source, then times the bundled action (bench/bench.mjs). Progress goes to stderr, the
# table to stdout. See bench/README.md.
#
#   bash bench/run.sh [--runs N] [--only FIGURE,...]   # or BENCH_RUNS=N, BENCH_ONLY=...; default 5 runs, all figures
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_deps
NODE="$(node24)"
export PATH="$(dirname "$NODE"):$PATH"

bash scripts/e2e/up.sh >&2

if ! [ -f dist/index.js ] || [ -n "$(find src package.json package-lock.json -newer dist/index.js -print -quit)" ]; then
  echo "[bench] bundling dist/ (missing or older than src/)" >&2
  npm run --silent bundle >/dev/null
fi

exec node bench/bench.mjs "$@"
