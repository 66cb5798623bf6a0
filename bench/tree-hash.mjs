/**
 * What hashing a large tree costs: the `copy` and `source_root` digests of a generated tree (by default 10,000
 * files, about 118 MB) against Python's plain walk + md5 of the same tree, measured in the same run.
 *
 *   node bench/tree-hash.mjs [--dir DIR] [--runs N]
 *
 * Generates DIR (default /tmp/imagespec-tree-bench) once, then prints the median and minimum seconds of:
 *   - python: `os.walk` + one md5 over every file's bytes (the floor: reading the bytes once);
 *   - action: `node dist/index.js` with `dry-run: true` and a spec that copies the tree (the whole action:
 *     Node start, the tag with the copy digest, the dry-run report; no registry is asked);
 *   - action, source_root: the same with `source_root: proj` and `source_copy_mode: ALL`.
 * dist/ must be bundled (npm run bundle). No thresholds: nothing passes or fails on a number.
 *
 * For bench/bench.mjs, the functions are exported:
 *   makeTree(dir, { files, bytes })  writes the tree under DIR/proj (skipped when DIR/proj/.complete exists)
 *   pythonWalkMd5Seconds(dir)         one timed Python walk + md5 of dir (seconds, timed inside Python)
 *   actionDryRunSeconds(workspace, specYaml, bundle)  one timed dry run of the bundled action (seconds)
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/**
 * A tree of `files` files under `dir/proj`, `bytes` in all: 100 folders (nested three deep) of small files from
 * a few bytes to ~24 kB, plus ten files over 1 MiB (the streamed path). Contents are random, names partly non-ASCII.
 */
export function makeTree(dir, { files = 10_000, bytes = 118_000_000 } = {}) {
  const proj = path.join(dir, 'proj')
  if (existsSync(path.join(proj, '.complete'))) return proj
  rmSync(proj, { recursive: true, force: true })
  const large = 10
  const largeSize = 2_500_000
  const smallAverage = Math.floor((bytes - large * largeSize) / (files - large))
  let written = 0
  for (let i = 0; i < files; i++) {
    const folder = path.join(proj, `d${i % 4}`, `sub${i % 25}`, `leaf-é${i % 100}`)
    mkdirSync(folder, { recursive: true })
    const size = i < large ? largeSize : Math.floor((((i * 7919) % 2000) / 1000) * smallAverage)
    writeFileSync(path.join(folder, `f${i}${i % 10 === 0 ? '-ü' : ''}.dat`), randomBytes(size))
    written += size
  }
  writeFileSync(path.join(proj, '.complete'), `${files} files, ${written} bytes\n`)
  return proj
}

const PY_WALK_MD5 = `
import hashlib, os, sys, time
t = time.perf_counter()
h = hashlib.md5()
for root, dirs, files in os.walk(sys.argv[1]):
    for name in sorted(files):
        with open(os.path.join(root, name), "rb") as f:
            h.update(f.read())
print(time.perf_counter() - t)
`

export function pythonWalkMd5Seconds(dir) {
  const r = spawnSync('python3', ['-c', PY_WALK_MD5, dir], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`)
  return Number(r.stdout.trim())
}

export function actionDryRunSeconds(workspace, specYaml, bundle = path.join(ROOT, 'dist/index.js')) {
  const files = mkdtempSync(path.join(os.tmpdir(), 'tree-hash-step-'))
  const spec = path.join(workspace, 'tree-hash-spec.yaml')
  writeFileSync(spec, specYaml)
  const env = { ...process.env, GITHUB_WORKSPACE: workspace, RUNNER_TEMP: path.join(files, 'tmp') }
  for (const name of ['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY']) {
    env[name] = path.join(files, name)
    writeFileSync(env[name], '')
  }
  env['INPUT_SPEC'] = 'tree-hash-spec.yaml'
  env['INPUT_DRY-RUN'] = 'true'
  const started = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [bundle], { cwd: workspace, env, encoding: 'utf8' })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  rmSync(files, { recursive: true, force: true })
  if (r.status !== 0) throw new Error(`the action failed (${r.status}):\n${r.stdout}${r.stderr}`)
  return seconds
}

function stats(xs) {
  const sorted = [...xs].sort((a, b) => a - b)
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0] }
}

function main() {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name)
    return i >= 0 ? process.argv[i + 1] : fallback
  }
  const dir = arg('--dir', '/tmp/imagespec-tree-bench')
  const runs = Number(arg('--runs', '3'))
  const proj = makeTree(dir)
  const base = 'name: tree-hash\nregistry: 127.0.0.1:5000\npython_version: "3.12"\n'
  const figures = {
    'python walk + md5': () => pythonWalkMd5Seconds(proj),
    'action dry run, copy: [proj]': () => actionDryRunSeconds(dir, `${base}copy:\n  - proj\n`),
    'action dry run, source_root ALL': () =>
      actionDryRunSeconds(dir, `${base}source_root: proj\nsource_copy_mode: ALL\n`),
  }
  // Warm the page cache once, so that every figure reads from memory alike.
  pythonWalkMd5Seconds(proj)
  for (const [name, run] of Object.entries(figures)) {
    const { median, min } = stats(Array.from({ length: runs }, run))
    console.log(`${name.padEnd(34)} median ${median.toFixed(3)} s  min ${min.toFixed(3)} s`)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main()
