/**
 * Helpers for the image-graph end-to-end tests: a workspace of spec files, the images flytekit names for a spec
 * file (computed by Python from the YAML, never by our code), the step's `images` output, and raw registry
 * lookups (manifest HEAD and the catalog, with basic auth for the password-protected registry).
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { e2eEnv } from './e2e-env.js'
import type { StepResult } from './run-action.js'

const env = e2eEnv()

/** An E2E_* setting that must be there. */
export function setting(name: string): string {
  const value = env[name]
  if (!value) throw new Error(`${name} is missing from the e2e state file`)
  return value
}

/** A temporary GITHUB_WORKSPACE holding spec files. */
export class Workspace {
  readonly dir: string

  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync(path.join(os.tmpdir(), 'e2e-graph-'))
  }

  write(rel: string, lines: readonly string[]): void {
    const full = path.join(this.dir, rel)
    mkdirSync(path.dirname(full), { recursive: true })
    writeFileSync(full, `${lines.join('\n')}\n`)
  }

  /** A new workspace with the same files. */
  copy(): Workspace {
    const other = new Workspace()
    cpSync(this.dir, other.dir, { recursive: true })
    return other
  }
}

/** One image flytekit would name for a spec: the spec itself or one of its nested base specs. */
export interface FlytekitImage {
  name: string
  registry: string
  tag: string
  image: string
  /** `ImageSpec.id` (the `_F_IMG_ID` value). */
  id: string
}

/**
 * What flytekit computes for a spec file (PyYAML safe_load, then ImageSpec's `id`, `tag` and `image_name()`):
 * the chain of images, deepest nested base first. The spec is hashed as the dict of its non-None fields in
 * dataclass order; for the tag a nested base becomes its image name and `requirements` the sha1 of the file.
 */
const FLYTEKIT_CHAIN = `
import base64, hashlib, json, os, sys, yaml
FIELDS = ['name','python_version','builder','source_root','env','registry','packages','conda_packages',
  'conda_channels','requirements','apt_packages','cuda','cudnn','base_image','platform','pip_index',
  'pip_extra_index_url','pip_secret_mounts','pip_extra_args','registry_config','entrypoint','commands',
  'tag_format','source_copy_mode','copy','python_exec','runtime_packages','builder_options','builder_config']
SKIP = ('builder', 'pip_secret_mounts', 'runtime_packages')
cwd, spec_file = sys.argv[1], sys.argv[2]

def b64md5(text):
    return base64.urlsafe_b64encode(hashlib.md5(text.encode()).digest()).decode().rstrip('=')

def normalise(d):
    d = dict(d)
    d['name'] = d['name'].lower()
    if d.get('registry') is not None:
        d['registry'] = d['registry'].lower()
    d.setdefault('platform', 'linux/amd64')
    if isinstance(d.get('base_image'), dict):
        d['base_image'] = normalise(d['base_image'])
    return d

def id_dict(d):
    out = {}
    for k in FIELDS:
        v = d.get(k)
        if v is None or k in SKIP:
            continue
        out[k] = id_dict(v) if k == 'base_image' and isinstance(v, dict) else v
    return out

def chain(d):
    bases = chain(d['base_image']) if isinstance(d.get('base_image'), dict) else []
    hashed = {}
    for k in FIELDS:
        v = d.get(k)
        if v is None or k in SKIP or k == 'registry_config':
            continue
        if k == 'base_image' and isinstance(v, dict):
            v = bases[-1]['image']
        if k == 'requirements':
            v = hashlib.sha1(open(os.path.join(cwd, v), 'rb').read().strip()).hexdigest()
        hashed[k] = v
    tag = b64md5(str(hashed)).replace('-', '_')
    registry = d.get('registry') or ''
    image = (registry + '/' if registry else '') + d['name'] + ':' + tag
    me = {'name': d['name'], 'registry': registry, 'tag': tag, 'image': image, 'id': b64md5(str(id_dict(d)))}
    return bases + [me]

print(json.dumps(chain(normalise(yaml.safe_load(open(os.path.join(cwd, spec_file)))))))
`

/** The images of a spec file, deepest nested base first (the last one is the image the file names). */
export function flytekitChain(ws: Workspace, specFile: string): FlytekitImage[] {
  const out = execFileSync(python(), ['-c', FLYTEKIT_CHAIN, ws.dir, specFile], { encoding: 'utf8' })
  return JSON.parse(out) as FlytekitImage[]
}

/** A Python with PyYAML: the system one (up.sh installs python3-yaml there), else whatever python3 is on PATH. */
function python(): string {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import yaml'], { stdio: 'ignore' })
    return '/usr/bin/python3'
  } catch {
    return 'python3'
  }
}

/** One object of the `images` output. */
export interface ImageEntry {
  origin: string
  name: string
  registry: string
  image: string
  tag: string
  'spec-id': string
  digest: string
  built: boolean
  'nested-base': boolean
  result: 'built' | 'reused' | 'failed' | 'skipped' | 'dry-run'
  error?: string
}

/** The `images` output; it must be a JSON array. */
export function imagesOf(step: StepResult): ImageEntry[] {
  const text = step.outputs.images ?? ''
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new Error(`output 'images' is not JSON: ${JSON.stringify(text)}\n${tail(step)}`)
  }
  if (!Array.isArray(value)) {
    throw new Error(`output 'images' is not a JSON array: ${text}\n${tail(step)}`)
  }
  return value as ImageEntry[]
}

/** The entry for one image reference; fails when it is missing or repeated. */
export function entryFor(entries: ImageEntry[], image: string): ImageEntry {
  const found = entries.filter((e) => e.image === image)
  if (found.length !== 1) {
    throw new Error(
      `expected one entry for ${image} in output 'images', found ${found.length}: ${JSON.stringify(entries)}`,
    )
  }
  return found[0] as ImageEntry
}

/** The end of a step's log without buildx's progress lines, for failure messages. */
export function tail(step: StepResult, chars = 4000): string {
  return step.log
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^#\d+ /.test(l))
    .join('\n')
    .slice(-chars)
}

/** `{ exitCode: 0, log: '' }` when the step passed; the log's end otherwise, so a failure shows why. */
export function outcome(step: StepResult): { exitCode: number; log: string } {
  return { exitCode: step.exitCode, log: step.exitCode === 0 ? '' : tail(step) }
}

/** The `::error` lines of the log (a multi-line message keeps its line breaks as %0A). */
export function errorText(step: StepResult): string {
  return step.log
    .split('\n')
    .filter((l) => l.startsWith('::error'))
    .map((l) => l.replaceAll('%0A', '\n').replaceAll('%0D', '').replaceAll('%25', '%'))
    .join('\n')
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * Offsets in the log of the `docker buildx build` runs that tag `image`, one per run: a command line may be
 * logged more than once (a debug line and the runner's `[command]` echo), so runs are told apart by their
 * `--metadata-file`, which is new for every build.
 */
export function buildsOf(log: string, image: string): number[] {
  const re = new RegExp(`buildx build[^\\n]*--tag ${escapeRegExp(image)}(?=\\s)[^\\n]*`, 'g')
  const runs = new Map<string, number>()
  for (const m of log.matchAll(re)) {
    const key = /--metadata-file (\S+)/.exec(m[0])?.[1] ?? String(m.index)
    if (!runs.has(key)) runs.set(key, m.index)
  }
  return [...runs.values()]
}

/** Offsets in the log of Dockerfiles written for the image whose `ImageSpec.id` is `id`. */
export function dockerfilesOf(log: string, id: string): number[] {
  const re = new RegExp(`ENV _F_IMG_ID="?${escapeRegExp(id)}"?(?=\\s|$)`, 'g')
  return [...log.matchAll(re)].map((m) => m.index)
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ')

/** Basic auth for the password-protected registry; nothing for the others. */
function authHeaders(host: string): Record<string, string> {
  if (host !== env.E2E_AUTH_REGISTRY) return {}
  const user = setting('E2E_AUTH_USER')
  const password = setting('E2E_AUTH_PASSWORD')
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }
}

/** The registry's digest for `host/repo:tag`, or null when the registry does not have it. */
export async function manifestDigest(image: string): Promise<string | null> {
  const [, host = '', repo = '', tag = ''] = /^([^/]+)\/(.+):([^:/]+)$/.exec(image) ?? []
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: MANIFEST_TYPES, ...authHeaders(host) },
  })
  if (res.status === 404) return null
  if (res.status !== 200) throw new Error(`HEAD ${image}: HTTP ${res.status}`)
  return res.headers.get('docker-content-digest')
}

/** Every repository of the registry at `host` whose name starts with `prefix` (the catalog, page by page). */
export async function repositoriesUnder(host: string, prefix: string): Promise<string[]> {
  const found: string[] = []
  let next: string | undefined = `/v2/_catalog?n=1000`
  while (next) {
    const res: Response = await fetch(`http://${host}${next}`, { headers: authHeaders(host) })
    if (res.status !== 200) throw new Error(`GET ${host}${next}: HTTP ${res.status}`)
    const body = (await res.json()) as { repositories?: string[] }
    found.push(...(body.repositories ?? []).filter((r) => r.startsWith(prefix)))
    next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1]
  }
  return found.sort()
}
