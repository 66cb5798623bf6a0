/**
 * The realistic figures of `npm run bench` (bench/README.md, "Realistic workload"): a base image, one apt package,
 * ~100 MB of Python packages from the local index and a `copy` of a project tree, built on a "fresh runner" (the
 * bench's images removed from the engine and the builder's cache emptied of the bench's records before each timed
 * run; the registry keeps what was pushed), by the action and by the two status-quo recipes:
 *
 *   (a) build-push: a hand-written Dockerfile for the spec, `docker buildx build --push` as docker/build-push-action
 *       runs it with no cache settings (its default);
 *   (b) pyflyte: the Dockerfile flytekit writes for the spec with the pip installer (the action's dry run writes it
 *       to its `dockerfile` output), `docker buildx build --load` then `docker push`, as `pyflyte register` does
 *       with `docker build` + `docker push` (the legacy builder cannot run its `RUN --mount` lines), spec after spec.
 *
 * Every figure is printed with its ratio to each recipe measured in the same run, and with what dominated it, from
 * buildx's `--progress=plain` step timings.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/** The packages of the workload (scripts/e2e/up.sh, BENCH_PACKAGES): about 100 MB installed. */
export const WORKLOAD_REQUIREMENTS = [
  'ispec-bench-arrays==1.0',
  'ispec-bench-frames==1.0',
  'ispec-bench-learn==1.0',
  'ispec-bench-plots==1.0',
  'ispec-bench-http==1.0',
]
export const APT_PACKAGE = 'jq'

/** A project tree for `copy`: `files` Python modules of a few hundred bytes in nested packages. */
export function writeProjectTree(dir, files, marker = '') {
  for (let i = 0; i < files; i++) {
    const sub = path.join(dir, `pkg${i % 20}`, `mod${Math.floor(i / 20) % 25}`)
    if (i % 500 === 0 || i < 500) mkdirSync(sub, { recursive: true })
    writeFileSync(
      path.join(sub, `f${i}.py`),
      `"""Module ${i} of the bench project${marker}."""\n\n\ndef value_${i}(x):\n    return x * ${i} + ${i % 7}\n`,
    )
  }
}

/** The spec of the workload; `registry` etc. come from inputs, as in the other figures. */
export function workloadSpec(name) {
  return `# The benchmark's realistic workload (bench/README.md).
name: ${name}
apt_packages:
  - ${APT_PACKAGE}
requirements: requirements.txt
copy:
  - src
`
}

/** What teams write by hand for the same spec (recipe (a)). */
export function handWrittenDockerfile(base, pipIndex) {
  return `FROM ${base}
RUN apt-get update && apt-get install -y --no-install-recommends ${APT_PACKAGE} && rm -rf /var/lib/apt/lists/*
WORKDIR /root
COPY requirements.txt .
RUN pip install --no-cache-dir --index-url ${pipIndex} -r requirements.txt
COPY src /root/src
ENV PYTHONPATH=/root
`
}

// --- Where the time went ----------------------------------------------------------------------------------------

/**
 * Seconds per kind of step in buildx `--progress=plain` output: the `#N [..] FROM`/`load metadata` steps (pull),
 * RUN steps with apt-get (apt) or pip (install), other RUN steps, COPY, `exporting to image` split into its
 * `exporting …`/`pushing …` lines (export, push), and `exporting cache` (cache). Steps may overlap, so the parts
 * can add up to more than the wall time; they say what dominated, not an exact split.
 */
export function stepTimes(log) {
  const kind = new Map()
  const parts = { pull: 0, apt: 0, install: 0, run: 0, copy: 0, export: 0, push: 0, cache: 0 }
  const exportSub = new Map()
  for (const raw of log.split('\n')) {
    const line = raw.trim()
    let m = /^#(\d+) (.*)$/.exec(line)
    if (!m) continue
    const [, id, rest] = m
    if (!kind.has(id)) {
      const title = rest.replace(/^\[[^\]]*\] /, '')
      let k = null
      if (/^FROM |^\[internal\] load metadata|^resolve image config/.test(rest) || /^FROM /.test(title))
        k = 'pull'
      else if (/^RUN .*apt-get/.test(title)) k = 'apt'
      else if (/^RUN .*pip install/.test(title)) k = 'install'
      else if (/^RUN /.test(title)) k = 'run'
      else if (/^COPY /.test(title)) k = 'copy'
      else if (/^exporting to (image|docker image format|oci image format)/.test(rest)) k = 'export'
      else if (/^exporting cache|^preparing build cache|^writing cache/.test(rest)) k = 'cache'
      else if (/^importing cache/.test(rest)) k = 'cache'
      kind.set(id, k)
      continue
    }
    const k = kind.get(id)
    m = /^DONE ([\d.]+)s$/.exec(rest)
    if (m && k) {
      if (k === 'export') {
        const sub = exportSub.get(id) ?? { push: 0, other: 0 }
        const total = Number(m[1])
        parts.push += sub.push
        parts.export += Math.max(0, total - sub.push)
      } else parts[k] += Number(m[1])
      continue
    }
    m = /^(\S+).* ([\d.]+)s done$/.exec(rest)
    if (m && k === 'export') {
      const sub = exportSub.get(id) ?? { push: 0, other: 0 }
      if (m[1] === 'pushing') sub.push += Number(m[2])
      exportSub.set(id, sub)
    }
  }
  return parts
}

export function addTimes(a, b) {
  const out = { ...a }
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v
  return out
}

/** "install 41% · push 22% · export 15%": the three largest parts, as shares of their sum. */
export function dominated(parts) {
  const total = Object.values(parts).reduce((s, v) => s + v, 0)
  if (!total) return '-'
  return Object.entries(parts)
    .filter(([, v]) => v > 0)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 3)
    .map(([k, v]) => `${k} ${Math.round((100 * v) / total)}%`)
    .join(' · ')
}

// --- Fresh runner ------------------------------------------------------------------------------------------------

/**
 * A new GitHub-hosted runner has no build cache and none of the images: removes the engine's images whose name
 * starts with one of `prefixes` (the bench's images and its own base image) and prunes from the builder's cache
 * the records created since `since` (the bench's builds) and the cache mounts (the apt and pip caches of
 * flytekit's Dockerfile). Records of other builds on the same engine that are older stay, so the bench does not
 * throw away other people's caches; records in use by a running build are kept by BuildKit anyway.
 */
export function freshRunner(prefixes, since) {
  const images = spawnSync('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], {
    encoding: 'utf8',
  })
  const names = images.stdout
    .split('\n')
    .filter((n) => prefixes.some((p) => n.startsWith(p)))
    .map((n) => n.replace(/:<none>$/, ''))
  if (names.length) spawnSync('docker', ['image', 'rm', '--force', ...names], { stdio: 'ignore' })
  const du = spawnSync('docker', ['buildx', 'du', '--format', '{{json .}}'], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  })
  const ids = []
  for (const line of du.stdout.split('\n')) {
    if (!line.trim()) continue
    let rec
    try {
      rec = JSON.parse(line)
    } catch {
      continue
    }
    const created = Date.parse(
      String(rec.CreatedAt)
        .replace(/ \+0000 UTC$/, 'Z')
        .replace(' ', 'T'),
    )
    if (rec.Type === 'exec.cachemount' || created >= since) ids.push(rec.ID)
  }
  for (let i = 0; i < ids.length; i += 200) {
    const r = spawnSync(
      'docker',
      ['buildx', 'prune', '--force', '--filter', `id=^(${ids.slice(i, i + 200).join('|')})$`],
      { encoding: 'utf8' },
    )
    if (r.status !== 0) throw new Error(`docker buildx prune failed: ${r.stderr}`)
  }
  return { images: names.length, records: ids.length }
}

/**
 * The bench's own base image: the e2e base image with one more file in its single layer, imported under another
 * name, so pulling it is a real pull (its layer is not in the engine through other people's builds) and removing
 * it from the engine does not touch the e2e base image others build on. Made once; reused while it is in the
 * registry.
 */
export function ensureBenchBase(e2e, tmp, progress) {
  const image = `${e2e.E2E_REGISTRY}/bench-base/python:3.11-bookworm-${e2e.E2E_BASE_IMAGE_DIGEST.slice(7, 19)}`
  const probe = spawnSync('docker', ['buildx', 'imagetools', 'inspect', image], { stdio: 'ignore' })
  if (probe.status === 0) return image
  progress(`making the bench base image ${image} (once)`)
  const sh = `set -euo pipefail
docker pull -q ${e2e.E2E_BASE_IMAGE} >/dev/null
cid=$(docker create ${e2e.E2E_BASE_IMAGE} true)
trap 'docker rm -f "$cid" >/dev/null' EXIT
docker export "$cid" >"${tmp}/base.tar"
mkdir -p "${tmp}/extra/etc" && echo imagespec-action-bench >"${tmp}/extra/etc/imagespec-bench-base"
tar --append -f "${tmp}/base.tar" -C "${tmp}/extra" etc/imagespec-bench-base
docker import -c "ENV LANG=C.UTF-8" -c "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  -c 'CMD ["python3"]' "${tmp}/base.tar" ${image} >/dev/null
docker push -q ${image} >/dev/null
rm -f "${tmp}/base.tar"`
  const r = spawnSync('bash', ['-c', sh], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`making the bench base image failed:\n${r.stdout}${r.stderr}`)
  return image
}

/** Runs a command, timed, with its output kept for the step timings. */
export function timed(argv, { cwd, env } = {}) {
  const started = process.hrtime.bigint()
  const r = spawnSync(argv[0], argv.slice(1), { cwd, env, encoding: 'utf8', maxBuffer: 256 << 20 })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const log = `${r.stdout ?? ''}${r.stderr ?? ''}`
  if (r.status !== 0)
    throw new Error(`${argv.join(' ')} exited with ${r.status}:\n${log.split('\n').slice(-30).join('\n')}`)
  return { seconds, log }
}

export function readText(file) {
  return readFileSync(file, 'utf8')
}
