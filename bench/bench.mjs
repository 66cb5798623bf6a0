/**
 * Times the bundled action (dist/index.js) against the local environment of scripts/e2e/up.sh, run the way the
 * runner runs it: a fresh `node dist/index.js` process with INPUT_* variables and GITHUB_OUTPUT / GITHUB_STATE /
 * GITHUB_STEP_SUMMARY files. Prints a table of medians and minimums; nothing passes or fails on a threshold.
 *
 *   node bench/bench.mjs [--runs N] [--only FIGURE,…]
 *
 * (bench/run.sh brings the environment up and bundles first.)
 *
 * BENCH_RUNS=N sets the runs per figure too, BENCH_ONLY=FIGURE,… the figures (startup, exists, cold, rebuild,
 * graph; default all); BENCH_TIMER=node times processes with Node even when hyperfine is installed. See
 * bench/README.md for what each figure means.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import * as real from './realistic.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BUNDLE = path.join(ROOT, 'dist/index.js')
const NODE = process.execPath
const STATE_FILE = `${process.env.IMAGESPEC_E2E_STATE ?? '/tmp/imagespec-e2e'}/env`

function runsSetting() {
  const i = process.argv.indexOf('--runs')
  const raw = i >= 0 ? process.argv[i + 1] : (process.env.BENCH_RUNS ?? '5')
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > 50)
    fail(`--runs / BENCH_RUNS must be a whole number from 1 to 50, not '${raw}'`)
  return n
}

/** The figures, in the order they run: (d), (a), (b), (c), (e), then the realistic ones (f), (g), (h). */
const FIGURES = ['startup', 'exists', 'cold', 'rebuild', 'graph', 'fresh', 'specs', 'tree']

function onlySetting() {
  const i = process.argv.indexOf('--only')
  const raw = i >= 0 ? (process.argv[i + 1] ?? '') : (process.env.BENCH_ONLY ?? FIGURES.join(','))
  const names = raw
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean)
  if (names.length === 0 || names.some((n) => !FIGURES.includes(n)))
    fail(`--only / BENCH_ONLY takes figure names separated by commas (${FIGURES.join(', ')}), not '${raw}'`)
  return new Set(names)
}

function fail(message) {
  console.error(`bench: ${message}`)
  process.exit(1)
}

function readE2eEnv() {
  let text
  try {
    text = readFileSync(STATE_FILE, 'utf8')
  } catch {
    fail(`${STATE_FILE} is missing: run 'bash scripts/e2e/up.sh' first (bench/run.sh does)`)
  }
  const env = {}
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=')
    if (/^E2E_\w+=/.test(line)) env[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return env
}

const RUNS = runsSetting()
/** fresh and specs: several ~100 MB builds per run, so fewer runs by default (BENCH_SLOW_RUNS; --runs when given). */
const SLOW_RUNS =
  process.argv.includes('--runs') || process.env.BENCH_RUNS
    ? RUNS
    : Math.max(1, Math.min(50, Number(process.env.BENCH_SLOW_RUNS ?? '2') || 2))
const ONLY = onlySetting()
const E2E = readE2eEnv()
const RUN_ID = `${Date.now().toString(36)}-${process.pid}`
const TMP = mkdtempSync(path.join(os.tmpdir(), 'imagespec-bench-'))
const HYPERFINE = process.env.BENCH_TIMER === 'node' ? null : hyperfineVersion()
const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ')
/** Every image this run pushed, removed from the registry and the engine at the end. */
const pushed = new Map()

function hyperfineVersion() {
  const r = spawnSync('hyperfine', ['--version'], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : null
}

function progress(message) {
  process.stderr.write(`[bench] ${message}\n`)
}

// --- Statistics and formatting -------------------------------------------------------------------------------

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

function seconds(x) {
  if (x === undefined || Number.isNaN(x)) return '-'
  return x < 1 ? `${(x * 1000).toFixed(1)} ms` : `${x.toFixed(2)} s`
}

function row(label, samples, timer) {
  return { label, median: median(samples), min: Math.min(...samples), runs: samples.length, timer }
}

/** A ratio of two figures' samples: median over median, minimum over minimum. */
function ratioRow(label, numerator, denominator) {
  const times = (x) => `${x.toFixed(2)}x`
  return {
    label,
    text: [
      times(median(numerator) / median(denominator)),
      times(Math.min(...numerator) / Math.min(...denominator)),
    ],
    runs: Math.min(numerator.length, denominator.length),
    timer: 'ratio',
  }
}

/** A figure with no number: a run of it failed (the error is printed below the table). */
function failedRow(label, timer) {
  return { label, text: ['FAILED', 'FAILED'], runs: 0, timer }
}

// --- Running the bundle as the runner does ---------------------------------------------------------------------

/** The runner's environment for one step: the caller's, without INPUT_/STATE_ leftovers, plus fresh command files. */
function stepEnv(workspace, inputs) {
  const files = mkdtempSync(path.join(TMP, 'step-'))
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('INPUT_') && !k.startsWith('STATE_')),
  )
  for (const name of ['output', 'state', 'summary']) writeFileSync(path.join(files, name), '')
  Object.assign(env, {
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: path.join(files, 'runner-temp'),
    GITHUB_OUTPUT: path.join(files, 'output'),
    GITHUB_STATE: path.join(files, 'state'),
    GITHUB_STEP_SUMMARY: path.join(files, 'summary'),
    GITHUB_REPOSITORY: 'example-org/flyte-project',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_ACTOR: 'octocat',
    GITHUB_EVENT_NAME: 'push',
  })
  // The runner upper-cases input names and keeps dashes: INPUT_NO-CACHE.
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v
  return { env, files }
}

/** The `name<<delimiter` / `name=value` format of GITHUB_OUTPUT. */
function parseCommandFile(text) {
  const out = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const value = []
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i])
      out[heredoc[1]] = value.join('\n')
    } else if (lines[i].includes('=')) {
      out[lines[i].slice(0, lines[i].indexOf('='))] = lines[i].slice(lines[i].indexOf('=') + 1)
    }
  }
  return out
}

/** One main step, timed from spawn to exit. */
function runStep(workspace, inputs, { keepFiles = false } = {}) {
  const { env, files } = stepEnv(workspace, inputs)
  const started = process.hrtime.bigint()
  const r = spawnSync(NODE, [BUNDLE], { cwd: workspace, env, encoding: 'utf8', maxBuffer: 256 << 20 })
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9
  const outputs = parseCommandFile(readFileSync(path.join(files, 'output'), 'utf8'))
  // A dry run's Dockerfile and context stay under RUNNER_TEMP when the caller builds them (recipe (b)).
  if (!keepFiles) rmSync(files, { recursive: true, force: true })
  const log = `${r.stdout ?? ''}${r.stderr ?? ''}`
  if (outputs.image && outputs.digest) pushed.set(outputs.image, outputs.digest)
  return { seconds: elapsed, status: r.status, log, outputs }
}

function expectBuilt(result, built, what) {
  if (result.status !== 0 || result.outputs.built !== String(built)) {
    const tail = result.log.split('\n').slice(-40).join('\n')
    throw new Error(
      `${what}: expected exit 0 and built=${built}, got exit ${result.status} and built=${result.outputs.built}\n${tail}`,
    )
  }
}

/** Times a command as a fresh process, RUNS times after one warm-up run: hyperfine when present, else Node. */
function timeProcess(argv, { env = process.env, cwd = ROOT, mayFail = false } = {}) {
  if (HYPERFINE) {
    const json = path.join(TMP, `hyperfine-${Date.now()}.json`)
    const command = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
    const args = ['-N', '--style', 'none', '--warmup', '1', '--runs', String(RUNS), '--export-json', json]
    const r = spawnSync('hyperfine', [...args, ...(mayFail ? ['-i'] : []), command], {
      env,
      cwd,
      encoding: 'utf8',
    })
    if (r.status !== 0) throw new Error(`hyperfine failed on ${command}:\n${r.stderr}`)
    return { samples: JSON.parse(readFileSync(json, 'utf8')).results[0].times, timer: 'hyperfine' }
  }
  const samples = []
  for (let i = 0; i <= RUNS; i++) {
    const started = process.hrtime.bigint()
    const r = spawnSync(argv[0], argv.slice(1), { env, cwd, stdio: 'ignore' })
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9
    if (r.status !== 0 && !mayFail) throw new Error(`${argv.join(' ')} exited with ${r.status}`)
    if (i > 0) samples.push(elapsed)
  }
  return { samples, timer: 'node' }
}

// --- Registry ---------------------------------------------------------------------------------------------------

function manifestUrl(image, reference) {
  const m = /^([^/]+)\/(.+):([^:/]+)$/.exec(image)
  if (!m) throw new Error(`cannot split ${image}`)
  return { host: m[1], path: `/v2/${m[2]}/manifests/${reference ?? m[3]}` }
}

/** One HEAD of the image's manifest on a new TCP connection, as the existence check sends it. */
function headOnce(image) {
  const { host, path: urlPath } = manifestUrl(image)
  const [hostname, port] = host.split(':')
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const req = http.request(
      { method: 'HEAD', hostname, port, path: urlPath, agent: false, headers: { accept: MANIFEST_TYPES } },
      (res) => {
        res.resume()
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`HEAD ${urlPath}: HTTP ${res.statusCode}`))
          else resolve(Number(process.hrtime.bigint() - started) / 1e9)
        })
      },
    )
    req.on('error', reject)
    req.end()
  })
}

async function cleanUp() {
  for (const [image, digest] of pushed) {
    const { host, path: urlPath } = manifestUrl(image, digest)
    try {
      await fetch(`http://${host}${urlPath}`, { method: 'DELETE' })
    } catch {
      // the registry keeps it; harmless
    }
  }
  if (pushed.size) spawnSync('docker', ['image', 'rm', '--force', ...pushed.keys()], { stdio: 'ignore' })
  rmSync(TMP, { recursive: true, force: true })
}

// --- The workspaces -------------------------------------------------------------------------------------------

const SPEC = `# A small flytekit ImageSpec; base_image, pip_index and registry come from inputs.
name: bench-app
packages:
  - ispec-demo-b==1.0
requirements: requirements.txt
env:
  APP_MODE: bench
copy:
  - data/settings.txt
`

function workspace(name, requirements) {
  const dir = path.join(TMP, name)
  mkdirSync(path.join(dir, 'data'), { recursive: true })
  writeFileSync(path.join(dir, 'imagespec.yaml'), SPEC)
  writeFileSync(path.join(dir, 'requirements.txt'), requirements)
  writeFileSync(path.join(dir, 'data/settings.txt'), 'mode = bench\n')
  return dir
}

function inputs(registry, extra = {}) {
  return {
    spec: 'imagespec.yaml',
    registry,
    'base-image': E2E.E2E_BASE_IMAGE,
    'pip-index': E2E.E2E_PIP_INDEX,
    installer: 'pip',
    network: 'host',
    ...extra,
  }
}

// --- The figures ----------------------------------------------------------------------------------------------

/** (d) start-up, first: nothing else has run in this process tree yet. */
function figureStartup() {
  progress('start-up: node -e 0, node dist/index.js without inputs, import of the bundle')
  const floorNode = timeProcess([NODE, '-e', '0'])
  const noInputs = stepEnv(TMP, {})
  const check = spawnSync(NODE, [BUNDLE], { cwd: TMP, env: noInputs.env, encoding: 'utf8' })
  if (check.status === 0 || !check.stdout.includes('no ImageSpec given'))
    throw new Error(
      `the bundle without inputs should fail with "no ImageSpec given":\n${check.stdout}${check.stderr}`,
    )
  const startup = timeProcess([NODE, BUNDLE], { env: noInputs.env, cwd: TMP, mayFail: true })
  const importSamples = []
  const importCode = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(BUNDLE).href)});
process.stderr.write('\\nBENCH_IMPORT_SECONDS=' + (performance.now() - t) / 1000 + '\\n')`
  for (let i = 0; i <= RUNS; i++) {
    const r = spawnSync(NODE, ['--input-type=module', '-e', importCode], {
      cwd: TMP,
      env: noInputs.env,
      encoding: 'utf8',
    })
    const m = /BENCH_IMPORT_SECONDS=([\d.e-]+)/.exec(r.stderr)
    if (!m) throw new Error(`import timing printed nothing:\n${r.stdout}${r.stderr}`)
    if (i > 0) importSamples.push(Number(m[1]))
  }
  return { floorNode, startup, importSamples }
}

/** (a) the image exists: build it once (untimed), then time the runs that find it. */
async function figureExists(registryBase, startup) {
  const existsWs = workspace('exists', 'ispec-demo-a==1.0\nispec-demo-c==0.1\n')
  const existsInputs = inputs(`${registryBase}-exists`)
  progress(`exists: first build of ${existsInputs.registry}/bench-app (not timed)`)
  const first = runStep(existsWs, existsInputs)
  expectBuilt(first, true, 'first build')
  const image = first.outputs.image
  const exists = runStep(existsWs, existsInputs)
  expectBuilt(exists, false, 'run with the image in the registry')
  progress(`exists: ${RUNS} runs of node dist/index.js finding ${image}`)
  let existsTiming
  if (HYPERFINE) {
    const { env } = stepEnv(existsWs, existsInputs)
    existsTiming = timeProcess([NODE, BUNDLE], { env, cwd: existsWs })
    expectBuilt(runStep(existsWs, existsInputs), false, 'run after hyperfine')
  } else {
    const samples = []
    for (let i = 0; i <= RUNS; i++) {
      const r = runStep(existsWs, existsInputs)
      expectBuilt(r, false, 'run with the image in the registry')
      if (i > 0) samples.push(r.seconds)
    }
    existsTiming = { samples, timer: 'node' }
  }
  await headOnce(image) // warm-up
  const headSamples = []
  for (let i = 0; i < RUNS; i++) headSamples.push(await headOnce(image))
  return [
    row('(a) action run, image already in the registry', existsTiming.samples, existsTiming.timer),
    // The Node floor is measured with (d); without it, no floor row.
    ...(startup ? [row('    floor: node -e 0', startup.floorNode.samples, startup.floorNode.timer)] : []),
    row(`    floor: one HTTP HEAD to ${E2E.E2E_REGISTRY} (new connection)`, headSamples, 'node'),
  ]
}

/** (b) cold builds: a registry path nobody pushed to, and --no-cache. */
function figureCold(registryBase) {
  const coldWs = workspace('cold', 'ispec-demo-a==1.0\nispec-demo-c==0.1\n')
  const cold = []
  const coldBuildx = []
  let pipCacheHits = 0
  for (let i = 0; i < RUNS; i++) {
    const r = runStep(coldWs, inputs(`${registryBase}-cold${i}`, { 'no-cache': 'true' }))
    expectBuilt(r, true, `cold build ${i + 1}`)
    pipCacheHits += (r.log.match(/Using cached/g) ?? []).length
    cold.push(r.seconds)
    coldBuildx.push(Number(JSON.parse(r.outputs.metadata)['build-seconds']))
    progress(`cold build ${i + 1}/${RUNS}: ${seconds(r.seconds)}`)
  }
  return {
    rows: [
      row('(b) cold build and push', cold, 'node'),
      row('    of which docker buildx build (output build-seconds)', coldBuildx, 'node'),
    ],
    pipCacheHits,
  }
}

/**
 * (c) one requirement changes, cache warm: each run edits requirements.txt, so the tag and the install layer are
 * new while the earlier layers and the base image are cached.
 */
function figureRebuild(registryBase, notes) {
  const rebuildWs = workspace('rebuild', 'ispec-demo-a==1.0\nispec-demo-c==0.1\n')
  const rebuildInputs = inputs(`${registryBase}-rebuild`)
  progress('rebuild: first build (not timed)')
  expectBuilt(runStep(rebuildWs, rebuildInputs), true, 'first build before the rebuilds')
  const rebuild = []
  const rebuildBuildx = []
  let pipCacheHits = 0
  for (let i = 0; i < RUNS; i++) {
    const version = i % 2 === 0 ? '2.0' : '1.0'
    writeFileSync(
      path.join(rebuildWs, 'requirements.txt'),
      `ispec-demo-a==${version}\nispec-demo-c==0.1\n# bench ${RUN_ID} run ${i + 1}\n`,
    )
    const r = runStep(rebuildWs, rebuildInputs)
    expectBuilt(r, true, `rebuild ${i + 1}`)
    if (!/\bCACHED\b/.test(r.log)) notes.push(`rebuild ${i + 1} reused no cached step (unexpected)`)
    pipCacheHits += (r.log.match(/Using cached/g) ?? []).length
    rebuild.push(r.seconds)
    rebuildBuildx.push(Number(JSON.parse(r.outputs.metadata)['build-seconds']))
    progress(`rebuild ${i + 1}/${RUNS}: ${seconds(r.seconds)}`)
  }
  return {
    rows: [
      row('(c) rebuild after one requirement changes', rebuild, 'node'),
      row('    of which docker buildx build (output build-seconds)', rebuildBuildx, 'node'),
    ],
    pipCacheHits,
  }
}

// --- (e) five independent specs: one step against five steps ----------------------------------------------------

const GRAPH_SPECS = 5

/**
 * Spec k of the five: its own name, env and `commands`, so five different images; everything else equal. `round`
 * (run id, variant, run number) is in `env`, which flytekit hashes, so every variant of every run has new tags.
 */
function graphSpec(k, registry, round) {
  return `# Spec ${k} of ${GRAPH_SPECS} independent ImageSpecs of the bench's figure (e).
name: bench-graph-${k}
base_image: ${E2E.E2E_BASE_IMAGE}
registry: ${registry}
pip_index: ${E2E.E2E_PIP_INDEX}
packages:
  - ispec-demo-b==1.0
env:
  BENCH_IMAGE: "${k}"
  BENCH_ROUND: "${round}"
commands:
  - echo "bench-graph-${k} ${round}" > /root/bench-graph.txt
`
}

/** A workspace with the five spec files, for one variant of one run. */
function graphWorkspace(name, registry) {
  const dir = path.join(TMP, name)
  mkdirSync(dir, { recursive: true })
  const files = []
  for (let k = 1; k <= GRAPH_SPECS; k++) {
    files.push(`graph-${k}.yaml`)
    writeFileSync(path.join(dir, files.at(-1)), graphSpec(k, registry, `${RUN_ID}-${name}`))
  }
  return { dir, files }
}

/** The same build settings for both variants: a cold build (no layer reused) as in (b). */
function graphInputs(spec) {
  return { spec, installer: 'pip', network: 'host', 'no-cache': 'true' }
}

/** HEAD of an image's manifest: the HTTP status and, when it exists, its digest. */
async function manifestHead(image) {
  const { host, path: urlPath } = manifestUrl(image)
  const res = await fetch(`http://${host}${urlPath}`, { method: 'HEAD', headers: { accept: MANIFEST_TYPES } })
  return { status: res.status, digest: res.headers.get('docker-content-digest') ?? '' }
}

function logTail(log, lines = 25) {
  return log
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((l) => `    | ${l}`)
    .join('\n')
}

/**
 * One variant of one run, timed as a whole: 'one' is one process with the five files in `spec` (one per line),
 * 'separate' five processes one after the other, one file each. Both build the same five specs into a registry
 * path of their own. Before: a dry run of each spec alone (not timed) names its image, which must not exist yet;
 * after: every step exited 0 and all five images are in the registry. Anything else throws.
 */
async function graphVariant(variant, run) {
  const name = `graph-${variant}${run}`
  const ws = graphWorkspace(name, `${E2E.E2E_REGISTRY}/bench-${RUN_ID}-${name}`)
  const images = ws.files.map((file) => {
    const r = runStep(ws.dir, { ...graphInputs(file), 'dry-run': 'true' })
    if (r.status !== 0 || !r.outputs.image)
      throw new Error(`dry run of ${file} alone: exit ${r.status}, no image output\n${logTail(r.log)}`)
    return r.outputs.image
  })
  for (const image of images) {
    const { status } = await manifestHead(image)
    if (status !== 404) throw new Error(`${image} answered HTTP ${status} before the build (expected 404)`)
  }
  const steps = variant === 'one' ? [ws.files.join('\n')] : ws.files
  const results = []
  const started = process.hrtime.bigint()
  for (const spec of steps) {
    const r = runStep(ws.dir, graphInputs(spec))
    results.push(r)
    if (r.status !== 0) break
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9
  const what = variant === 'one' ? `one step with ${GRAPH_SPECS} specs` : 'step'
  for (const [j, r] of results.entries()) {
    const spec = steps[j].split('\n').join(', ')
    if (r.status !== 0)
      throw new Error(
        `${what} (spec: ${spec}) exited with ${r.status} after ${seconds(r.seconds)}\n${logTail(r.log)}`,
      )
    if (variant === 'separate' && (r.outputs.built !== 'true' || r.outputs.image !== images[j]))
      throw new Error(
        `step (spec: ${spec}): built=${r.outputs.built} image=${r.outputs.image}, expected built=true ${images[j]}`,
      )
  }
  for (const image of images) {
    const { status, digest } = await manifestHead(image)
    if (status !== 200 || !digest)
      throw new Error(`${what}: exit 0, but ${image} answered HTTP ${status} after it (expected 200)`)
    pushed.set(image, digest)
  }
  const log = results.map((r) => r.log).join('\n')
  return {
    seconds: elapsed,
    pipCacheHits: (log.match(/Using cached/g) ?? []).length,
    cachedRunSteps: cachedRunSteps(log),
  }
}

/**
 * RUN steps BuildKit took from its cache, in `--progress=plain` logs (`#7 [stage-0 2/10] RUN …`, later `#7
 * CACHED`). With no-cache there should be none; the FROM and BuildKit's internal steps show CACHED either way.
 */
function cachedRunSteps(log) {
  const titles = new Map()
  let count = 0
  for (const line of log.split('\n')) {
    const title = /^#(\d+) \[[^\]]*\] (.*)$/.exec(line)
    if (title) titles.set(title[1], title[2])
    const cached = /^#(\d+) CACHED$/.exec(line.trim())
    if (cached && titles.get(cached[1])?.startsWith('RUN ')) count++
  }
  return count
}

/**
 * (e) the same five cold builds as one step and as five steps, alternating which goes first. A variant that fails
 * once is not run again and prints no number; the error is printed below the table.
 */
async function figureGraph(notes, errors) {
  // Not timed: the base image in the engine and the pip cache mount warm for both variants alike.
  progress(`graph: warm-up, one spec as one step (not timed)`)
  const warm = graphWorkspace('graph-warmup', `${E2E.E2E_REGISTRY}/bench-${RUN_ID}-graph-warmup`)
  const w = runStep(warm.dir, graphInputs(warm.files[0]))
  expectBuilt(w, true, 'graph warm-up build')

  const samples = { separate: [], one: [] }
  const failed = {}
  const cache = { separate: { pip: 0, cached: 0 }, one: { pip: 0, cached: 0 } }
  for (let i = 0; i < RUNS; i++) {
    for (const variant of i % 2 === 0 ? ['separate', 'one'] : ['one', 'separate']) {
      if (failed[variant]) continue
      try {
        const r = await graphVariant(variant, i)
        samples[variant].push(r.seconds)
        cache[variant].pip += r.pipCacheHits
        cache[variant].cached += r.cachedRunSteps
        progress(
          `graph ${i + 1}/${RUNS}: ${variant === 'one' ? 'one step' : `${GRAPH_SPECS} steps`} ${seconds(r.seconds)}`,
        )
      } catch (err) {
        failed[variant] = err instanceof Error ? err.message : String(err)
        progress(`graph ${i + 1}/${RUNS}: ${variant === 'one' ? 'one step' : `${GRAPH_SPECS} steps`} FAILED`)
      }
    }
  }
  const label = {
    separate: `    ${GRAPH_SPECS} steps, one spec each, one after the other`,
    one: `    one step, spec: ${GRAPH_SPECS} files (one image graph)`,
  }
  const rows = []
  const ratioLabel = `(e) ${GRAPH_SPECS} independent specs: ${GRAPH_SPECS} steps / one step`
  if (failed.separate || failed.one) rows.push(failedRow(ratioLabel, 'ratio'))
  else rows.push(ratioRow(ratioLabel, samples.separate, samples.one))
  for (const variant of ['separate', 'one']) {
    if (failed[variant]) {
      rows.push(failedRow(label[variant], 'node'))
      errors.push(`(e) ${label[variant].trim()}: ${failed[variant]}`)
    } else rows.push(row(label[variant], samples[variant], 'node'))
  }
  for (const variant of ['separate', 'one'])
    if (cache[variant].cached > 0)
      notes.push(
        `(e) ${label[variant].trim()}: ${cache[variant].cached} RUN steps CACHED despite no-cache (unexpected)`,
      )
  return { rows, cache }
}

// --- (f), (g), (h): the realistic workload on a fresh runner, against the status quo ----------------------------

const BENCH_START = Date.now()
let benchBase = null
/** Images of this bench run and its own base image: what a fresh runner does not have. */
const freshPrefixes = () => [`${E2E.E2E_REGISTRY}/bench-${RUN_ID}`, `${E2E.E2E_REGISTRY}/bench-base/`]
function fresh() {
  real.freshRunner(freshPrefixes(), BENCH_START)
}

function realWorkspace(name, { files = 200, requirements = real.WORKLOAD_REQUIREMENTS } = {}) {
  const dir = path.join(TMP, name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, 'imagespec.yaml'), real.workloadSpec('bench-real'))
  writeFileSync(path.join(dir, 'requirements.txt'), [...requirements, 'ispec-bench-util==1.0', ''].join('\n'))
  real.writeProjectTree(path.join(dir, 'src'), files)
  writeFileSync(
    path.join(dir, 'Dockerfile.handwritten'),
    real.handWrittenDockerfile(benchBase, E2E.E2E_PIP_INDEX),
  )
  return dir
}

function realInputs(registry, extra = {}) {
  return { ...inputs(registry), 'base-image': benchBase, ...extra }
}

/** The action, one step: time, step timings, and a check that it built. */
function recipeAction(ws, registry, what, extra = {}) {
  const r = runStep(ws, realInputs(registry, extra))
  expectBuilt(r, true, what)
  return { seconds: r.seconds, parts: real.stepTimes(r.log) }
}

/** Recipe (a): the hand-written Dockerfile, `docker buildx build --push` with no cache settings. */
function recipeBuildPush(ws, image) {
  pushed.set(image, '')
  const r = real.timed([
    'docker',
    'buildx',
    'build',
    '--progress=plain',
    '--network',
    'host',
    '--push',
    '-t',
    image,
    '-f',
    path.join(ws, 'Dockerfile.handwritten'),
    ws,
  ])
  return { seconds: r.seconds, parts: real.stepTimes(r.log) }
}

/** Recipe (b)'s Dockerfile and context: the action's dry run writes flytekit's (pip installer). Not timed. */
function pyflyteContext(ws, registry, spec = 'imagespec.yaml') {
  const r = runStep(ws, { ...realInputs(registry), spec, 'dry-run': 'true' }, { keepFiles: true })
  if (r.status !== 0 || !r.outputs.dockerfile || !r.outputs.image)
    throw new Error(`dry run for recipe (b) (${spec}): exit ${r.status}\n${logTail(r.log)}`)
  return { context: path.dirname(r.outputs.dockerfile), image: r.outputs.image }
}

/** Recipe (b): `docker build` (buildx --load: the legacy builder cannot run RUN --mount) then `docker push`. */
function recipePyflyte(contexts) {
  let seconds = 0
  let parts = {}
  for (const { context, image } of contexts) {
    pushed.set(image, '')
    const b = real.timed([
      'docker',
      'buildx',
      'build',
      '--progress=plain',
      '--network',
      'host',
      '--load',
      '-t',
      image,
      context,
    ])
    const p = real.timed(['docker', 'push', image])
    seconds += b.seconds + p.seconds
    parts = real.addTimes(real.addTimes(parts, real.stepTimes(b.log)), { push: p.seconds })
  }
  return { seconds, parts }
}

const RECIPES = ['action', 'a', 'b']
const RECIPE_LABEL = {
  action: 'action',
  a: '(a) build-push',
  b: '(b) pyflyte',
}

function emptySamples() {
  return Object.fromEntries(RECIPES.map((k) => [k, { samples: [], parts: {} }]))
}

function record(into, recipe, result) {
  into[recipe].samples.push(result.seconds)
  into[recipe].parts = real.addTimes(into[recipe].parts, result.parts)
}

/**
 * (f) cold build, then one requirement changed, then one source file changed, each on a fresh runner, by the
 * action and both recipes, all pushing to their own registry path of this run (kept between the three builds).
 */
function figureFresh() {
  const scen = { cold: emptySamples(), req: emptySamples(), src: emptySamples() }
  for (let i = 0; i < SLOW_RUNS; i++) {
    const ws = realWorkspace(`fresh${i}`)
    const reg = (k) => `${E2E.E2E_REGISTRY}/bench-${RUN_ID}-fresh${i}-${k}`
    const steps = [
      ['cold', () => {}],
      [
        'req',
        () =>
          writeFileSync(
            path.join(ws, 'requirements.txt'),
            [...real.WORKLOAD_REQUIREMENTS, 'ispec-bench-util==1.1', ''].join('\n'),
          ),
      ],
      [
        'src',
        () =>
          writeFileSync(path.join(ws, 'src/pkg0/mod0/f0.py'), `VALUE = ${i}  # changed in run ${RUN_ID}\n`),
      ],
    ]
    for (const [name, change] of steps) {
      change()
      const ctx = pyflyteContext(ws, reg('b'))
      fresh()
      record(scen[name], 'action', recipeAction(ws, reg('action'), `(f) ${name} ${i + 1}`))
      fresh()
      record(scen[name], 'a', recipeBuildPush(ws, `${reg('a')}/bench-real:${name}`))
      fresh()
      record(scen[name], 'b', recipePyflyte([ctx]))
      progress(
        `fresh ${i + 1}/${SLOW_RUNS} ${name}: ` +
          RECIPES.map((k) => `${RECIPE_LABEL[k]} ${seconds(scen[name][k].samples.at(-1))}`).join(', '),
      )
    }
  }
  fresh()
  return scen
}

const SPEC_SETS = [
  ['ispec-bench-arrays==1.0', 'ispec-bench-frames==1.0'],
  ['ispec-bench-learn==1.0'],
  ['ispec-bench-plots==1.0'],
  ['ispec-bench-http==1.0'],
  ['ispec-bench-frames==1.0'],
]

/**
 * (g) 5 specs (the same base and apt package, different packages; the first is the largest) built cold on a fresh
 * runner: by the action in one step, by the action with the largest alone, and by recipe (b) one after another.
 */
function figureSpecs() {
  const out = { one: [], largest: [], b: [], parts: { one: {}, largest: {}, b: {} } }
  for (let i = 0; i < SLOW_RUNS; i++) {
    const ws = realWorkspace(`specs${i}`, { requirements: [] })
    // Several spec files in one step take registry, base image and index from the files, not from inputs.
    const specFiles = (variant) =>
      SPEC_SETS.map((reqs, k) => {
        writeFileSync(path.join(ws, `req-${k + 1}.txt`), `${reqs.join('\n')}\n`)
        const file = `spec-${variant}-${k + 1}.yaml`
        const spec = real
          .workloadSpec(`bench-spec-${k + 1}`)
          .replace('requirements.txt', `req-${k + 1}.txt`)
          .concat(
            `base_image: ${benchBase}\nregistry: ${E2E.E2E_REGISTRY}/bench-${RUN_ID}-specs${i}-${variant}\n` +
              `pip_index: ${E2E.E2E_PIP_INDEX}\n`,
          )
        writeFileSync(path.join(ws, file), spec)
        return file
      })
    const stepInputs = (spec) => ({ spec, installer: 'pip', network: 'host' })
    const contexts = specFiles('b').map((file) => {
      const r = runStep(ws, { ...stepInputs(file), 'dry-run': 'true' }, { keepFiles: true })
      if (r.status !== 0 || !r.outputs.dockerfile)
        throw new Error(`dry run of ${file}: exit ${r.status}\n${logTail(r.log)}`)
      return { context: path.dirname(r.outputs.dockerfile), image: r.outputs.image }
    })
    const actionRun = (spec, what) => {
      const r = runStep(ws, stepInputs(spec))
      if (r.status !== 0) throw new Error(`${what}: exit ${r.status}\n${logTail(r.log)}`)
      return { seconds: r.seconds, parts: real.stepTimes(r.log) }
    }
    fresh()
    const one = actionRun(specFiles('one').join('\n'), `(g) one step ${i + 1}`)
    fresh()
    const largest = actionRun(specFiles('largest')[0], `(g) largest alone ${i + 1}`)
    fresh()
    const b = recipePyflyte(contexts)
    for (const [k, r] of Object.entries({ one, largest, b })) {
      out[k].push(r.seconds)
      out.parts[k] = real.addTimes(out.parts[k], r.parts)
    }
    progress(
      `specs ${i + 1}/${SLOW_RUNS}: one step ${seconds(one.seconds)}, largest alone ${seconds(largest.seconds)}, (b) ${seconds(b.seconds)}`,
    )
  }
  fresh()
  return out
}

const TREE_FILES = 10000

/**
 * (h) the image exists, with `copy` of a 10,000-file tree and of a 1-file tree (same spec otherwise), and a plain
 * Python walk + md5 of the same 10,000 files (timed inside Python, so without its start-up).
 */
async function figureTree() {
  const out = {}
  for (const [key, files] of [
    ['small', 1],
    ['tree', TREE_FILES],
  ]) {
    const ws = path.join(TMP, `tree-${key}`)
    mkdirSync(ws, { recursive: true })
    writeFileSync(
      path.join(ws, 'imagespec.yaml'),
      real.workloadSpec('bench-tree').replace(/apt_packages:\n.*\n/, ''),
    )
    writeFileSync(path.join(ws, 'requirements.txt'), 'ispec-demo-b==1.0\n')
    real.writeProjectTree(path.join(ws, 'src'), files)
    const wsInputs = inputs(`${E2E.E2E_REGISTRY}/bench-${RUN_ID}-tree-${key}`)
    progress(`tree: first build with ${files} file(s) in copy (not timed)`)
    expectBuilt(runStep(ws, wsInputs), true, `(h) first build (${files} files)`)
    const samples = []
    for (let i = 0; i <= RUNS; i++) {
      const r = runStep(ws, wsInputs)
      expectBuilt(r, false, `(h) image exists (${files} files)`)
      if (i > 0) samples.push(r.seconds)
    }
    out[key] = samples
    if (key === 'tree') {
      const code = `import hashlib, os, sys, time
t = time.perf_counter()
for root, dirs, names in os.walk(sys.argv[1]):
    dirs.sort()
    for n in sorted(names):
        with open(os.path.join(root, n), 'rb') as f:
            hashlib.md5(f.read()).hexdigest()
print(time.perf_counter() - t)`
      out.python = []
      for (let i = 0; i <= RUNS; i++) {
        const r = spawnSync('python3', ['-c', code, path.join(ws, 'src')], { encoding: 'utf8' })
        if (r.status !== 0) throw new Error(`python walk: ${r.stderr}`)
        if (i > 0) out.python.push(Number(r.stdout.trim()))
      }
    }
  }
  return out
}

function sampleRow(label, samples, extra) {
  return { ...row(label, samples, 'node'), extra }
}

function ratioText(num, den) {
  if (!num?.length || !den?.length) return '-'
  return `${(median(num) / median(den)).toFixed(2)}x (min ${(Math.min(...num) / Math.min(...den)).toFixed(2)}x)`
}

function goal(text, ok) {
  return `${ok ? 'met    ' : 'NOT met'}  ${text}`
}

/** The rows and the goals of (f), (g), (h), and of (a) when measured. */
function realisticRows(figures) {
  const rows = []
  const goals = []
  const f = figures.fresh
  if (f) {
    const names = {
      cold: '(f) cold build',
      req: '(f) one requirement changed, fresh runner',
      src: '(f) one source file changed, fresh runner',
    }
    for (const [k, label] of Object.entries(names)) {
      for (const r of RECIPES) {
        const x = f[k][r]
        const ratios =
          r === 'action'
            ? `vs (a) ${ratioText(x.samples, f[k].a.samples)}, vs (b) ${ratioText(x.samples, f[k].b.samples)}`
            : ''
        rows.push(
          sampleRow(
            r === 'action' ? label : `    ${RECIPE_LABEL[r]}`,
            x.samples,
            `${ratios}${ratios ? '; ' : ''}${real.dominated(x.parts)}`,
          ),
        )
      }
    }
    const req = f.req.action.samples
    const r1 = median(req) / median(f.cold.action.samples)
    const r2 = median(req) / median(f.req.a.samples)
    goals.push(
      goal(`requirement changed, fresh runner <= 0.4x the action's cold build: ${r1.toFixed(2)}x`, r1 <= 0.4),
    )
    goals.push(
      goal(
        `requirement changed, fresh runner <= 0.5x (a) build-push (same change): ${r2.toFixed(2)}x`,
        r2 <= 0.5,
      ),
    )
  }
  if (figures.exists) {
    const ex = figures.exists[0]
    goals.push(goal(`image exists <= 0.25 s: median ${seconds(ex.median)}`, ex.median <= 0.25))
    if (f)
      rows.push({
        label: '(a) image exists, vs the recipes on a fresh runner',
        text: ['', ''],
        runs: ex.runs,
        timer: 'ratio',
        extra: `vs (a) ${(ex.median / median(f.cold.a.samples)).toFixed(3)}x, vs (b) ${(ex.median / median(f.cold.b.samples)).toFixed(3)}x (recipes rebuild: their cold build)`,
      })
  }
  const g = figures.specs
  if (g) {
    rows.push(
      sampleRow(
        '(g) 5 specs, one step, fresh runner',
        g.one,
        `vs largest alone ${ratioText(g.one, g.largest)}, vs (b) ${ratioText(g.one, g.b)}; ${real.dominated(g.parts.one)}`,
      ),
    )
    rows.push(sampleRow('    action, the largest spec alone', g.largest, real.dominated(g.parts.largest)))
    rows.push(sampleRow('    (b) pyflyte, 5 specs one after another', g.b, real.dominated(g.parts.b)))
    const r = median(g.one) / median(g.largest)
    goals.push(goal(`5 specs in one step <= 1.5x the largest alone: ${r.toFixed(2)}x`, r <= 1.5))
  }
  const h = figures.tree
  if (h) {
    rows.push(sampleRow(`(h) image exists, copy of ${TREE_FILES} files`, h.tree, ''))
    rows.push(sampleRow('    image exists, copy of 1 file', h.small, ''))
    const hashing = h.tree.map((x, i) => x - h.small[i])
    rows.push(
      sampleRow(
        '    difference: hashing the tree',
        hashing.map((x) => Math.max(x, 0)),
        `vs Python ${ratioText(hashing, h.python)}`,
      ),
    )
    rows.push(sampleRow(`    Python os.walk + md5 of the ${TREE_FILES} files (in-process)`, h.python, ''))
    const r = median(hashing) / median(h.python)
    goals.push(goal(`tree hashing <= 2x a plain Python walk + md5: ${r.toFixed(2)}x`, r <= 2))
  }
  return { rows, goals }
}

async function main() {
  const loadBefore = os.loadavg()[0]
  const notes = []
  const errors = []
  const registryBase = `${E2E.E2E_REGISTRY}/bench-${RUN_ID}`
  const figures = {}

  if (ONLY.has('startup')) figures.startup = figureStartup()
  if (ONLY.has('exists')) figures.exists = await figureExists(registryBase, figures.startup)
  if (ONLY.has('cold')) figures.cold = figureCold(registryBase)
  if (ONLY.has('rebuild')) figures.rebuild = figureRebuild(registryBase, notes)
  if (ONLY.has('graph')) figures.graph = await figureGraph(notes, errors)
  if (ONLY.has('fresh') || ONLY.has('specs')) {
    benchBase = real.ensureBenchBase(E2E, TMP, progress)
    fresh()
  }
  if (ONLY.has('fresh')) figures.fresh = figureFresh()
  if (ONLY.has('specs')) figures.specs = figureSpecs()
  if (ONLY.has('tree')) figures.tree = await figureTree()

  const rows = []
  if (figures.exists) rows.push(...figures.exists)
  if (figures.cold) rows.push(...figures.cold.rows)
  if (figures.rebuild) rows.push(...figures.rebuild.rows)
  if (figures.startup) {
    const { startup, importSamples } = figures.startup
    rows.push(row('(d) start-up: node dist/index.js, no inputs, to exit', startup.samples, startup.timer))
    rows.push(row('    import of dist/index.js in a running Node', importSamples, 'node'))
  }
  if (figures.graph) rows.push(...figures.graph.rows)
  const realistic = realisticRows(figures)
  rows.push(...realistic.rows)

  printTable(rows, { figures, notes, errors, loadBefore, goals: realistic.goals })
  if (errors.length) process.exitCode = 1
}

function printTable(rows, { figures, notes, errors, loadBefore, goals }) {
  const cpu = os.cpus()[0]?.model?.replace(/\s+/g, ' ') ?? 'unknown CPU'
  const width = Math.max(...rows.map((r) => r.label.length))
  const line = (a, b, c, d, e) =>
    `${a.padEnd(width)}  ${b.padStart(10)}  ${c.padStart(10)}  ${d.padStart(4)}  ${e}`
  console.log('')
  console.log(
    `imagespec-action benchmark: ${RUNS} timed runs per figure (${SLOW_RUNS} for fresh, specs), median and minimum wall time`,
  )
  console.log(
    `Node ${process.versions.node}, Docker ${E2E.E2E_DOCKER_VERSION}, buildx ${E2E.E2E_BUILDX_VERSION}, ` +
      `${os.cpus().length} x ${cpu}; process timer: ${HYPERFINE ?? 'node (hyperfine not installed)'}`,
  )
  // Other builds on the same engine or CPU skew every figure: the 1-minute load average says whether there were any.
  console.log(
    `load average (1 min): ${loadBefore.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end`,
  )
  if (ONLY.size < FIGURES.length) console.log(`figures: ${[...ONLY].join(', ')} (--only)`)
  console.log('')
  console.log(line('figure', 'median', 'min', 'runs', 'timer') + '  ratios (median, min); what dominated')
  console.log(line('-'.repeat(width), '-'.repeat(10), '-'.repeat(10), '----', '-----'))
  for (const r of rows) {
    const [median, min] = r.text ?? [seconds(r.median), seconds(r.min)]
    console.log(line(r.label, median, min, String(r.runs), r.timer) + (r.extra ? `  ${r.extra}` : ''))
  }
  if (goals.length) {
    console.log('')
    console.log('Goals (reported, never failed on):')
    for (const g of goals) console.log(`  ${g}`)
  }
  console.log('')
  if (figures.exists) {
    console.log(
      '(a) process start to exit of `node dist/index.js` (Node start included): read the spec, compute the',
    )
    console.log(
      '    tag, one registry HEAD, outputs; the image was pushed beforehand. The floors are what no action',
    )
    console.log('    run can go below: Node starting and exiting, and one HEAD on a new connection.')
  }
  if (figures.cold) {
    console.log(
      '(b) cold: each run pushes to a registry path never used before (nothing to find or reuse there) with',
    )
    console.log(
      '    no-cache: true (buildx --no-cache: every step runs again, no layer is reused). Still local: the',
    )
    console.log('    base image layers in the engine, and the wheels come from a loopback index.')
    console.log(`    pip cache hits over the cold builds: ${figures.cold.pipCacheHits}.`)
  }
  if (figures.rebuild) {
    console.log(
      '(c) each run changes ispec-demo-a between 1.0 and 2.0 in requirements.txt (a new tag), cache warm: the',
    )
    console.log(
      '    steps before the install are cached, the install and later steps run; a run marker comment keeps',
    )
    console.log('    BuildKit from finding the install layer of an earlier run.')
    console.log(`    pip cache hits over the rebuilds: ${figures.rebuild.pipCacheHits}.`)
  }
  if (figures.startup) {
    console.log(
      '(d) `node dist/index.js` with no inputs fails fast with "no ImageSpec given": Node start plus loading',
    )
    console.log(
      '    the bundle. The import figure is the same load measured inside Node, without Node start.',
    )
  }
  if (figures.graph) {
    const { cache } = figures.graph
    const foot = [
      `(e) ${GRAPH_SPECS} independent specs (each its own name, env and commands line; the same base image), each built`,
      '    cold (no-cache: true; new tags and registry path in every run) and pushed, two ways: one step with',
      `    the ${GRAPH_SPECS} files in spec, one per line (one image graph), and ${GRAPH_SPECS} steps one after the other, one spec each;`,
      '    which goes first alternates. Ratio: the steps over the one step (median over median, min over min).',
      "    The runner's own time between steps is in neither.",
    ]
    for (const l of foot) console.log(l)
    console.log(
      `    pip cache hits: ${cache.separate.pip} in the ${GRAPH_SPECS} steps, ${cache.one.pip} in the one step.`,
    )
  }
  for (const n of notes) console.log(`note: ${n}`)
  for (const e of errors) console.log(`\nerror: ${e}`)
}

try {
  await main()
} catch (err) {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
} finally {
  await cleanUp()
}
