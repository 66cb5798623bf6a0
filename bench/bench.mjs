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

/** The figures, in the order they run: (d), (a), (b), (c), (e). */
const FIGURES = ['startup', 'exists', 'cold', 'rebuild', 'graph']

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
function runStep(workspace, inputs) {
  const { env, files } = stepEnv(workspace, inputs)
  const started = process.hrtime.bigint()
  const r = spawnSync(NODE, [BUNDLE], { cwd: workspace, env, encoding: 'utf8', maxBuffer: 256 << 20 })
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9
  const outputs = parseCommandFile(readFileSync(path.join(files, 'output'), 'utf8'))
  rmSync(files, { recursive: true, force: true })
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

  printTable(rows, { figures, notes, errors, loadBefore })
  if (errors.length) process.exitCode = 1
}

function printTable(rows, { figures, notes, errors, loadBefore }) {
  const cpu = os.cpus()[0]?.model?.replace(/\s+/g, ' ') ?? 'unknown CPU'
  const width = Math.max(...rows.map((r) => r.label.length))
  const line = (a, b, c, d, e) =>
    `${a.padEnd(width)}  ${b.padStart(10)}  ${c.padStart(10)}  ${d.padStart(4)}  ${e}`
  console.log('')
  console.log(`imagespec-action benchmark: ${RUNS} timed runs per figure, median and minimum wall time`)
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
  console.log(line('figure', 'median', 'min', 'runs', 'timer'))
  console.log(line('-'.repeat(width), '-'.repeat(10), '-'.repeat(10), '----', '-----'))
  for (const r of rows) {
    const [median, min] = r.text ?? [seconds(r.median), seconds(r.min)]
    console.log(line(r.label, median, min, String(r.runs), r.timer))
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
