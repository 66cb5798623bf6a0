#!/usr/bin/env bash
# Fails when the committed dist/ is not the bundle of the committed src/.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
npx ncc build src/index.ts -o "$tmp" --license licenses.txt >/dev/null
if ! diff -r -q dist "$tmp" >/dev/null; then
  diff -r dist "$tmp" | head -40 >&2 || true
  echo "dist/ differs from a fresh bundle of src/: run 'npm run bundle' and commit dist/." >&2
  exit 1
fi
echo "dist/ matches a fresh bundle of src/"
