/**
 * Looks for secrets wherever a run of the action can leave them: the job log (except the `::add-mask::` lines the
 * runner consumes itself), the output, state and summary files, folders (RUNNER_TEMP after the post step, an
 * exported build cache), a pushed image read back from its registry (every manifest, the config with its history,
 * every layer's file system, attestations), the image as the local engine shows it (`docker image inspect`,
 * `docker history --no-trunc`) and the build records BuildKit keeps (`docker buildx history`).
 *
 * A secret is searched in every form a careless step could write it in: raw, lower-cased, escaped inside a JSON
 * string (as JavaScript and as Go write it: Go writes `&` as \u0026), URL-encoded, base64 (as a whole, as docker's
 * `auth` field `base64(user:secret)`, and inside any longer base64 text at each of the three byte alignments,
 * standard and URL-safe alphabets). Gzip and zstd files and layers are searched decompressed.
 * Findings name the place, the secret's label and the form, never the secret.
 */
import { spawn, spawnSync } from 'node:child_process'
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'

export interface Secret {
  /** How findings name it: never the value. */
  label: string
  value: string
  /** The user name it is sent with, for docker's `auth` field (`base64(user:value)`). */
  user?: string
}

export interface Needle {
  label: string
  /** Which form of the secret: raw, lower-cased, url-encoded, base64, base64(user:secret), base64@1 ... */
  form: string
  bytes: Buffer
}

export interface Finding {
  where: string
  label: string
  form: string
  /** Byte offset in the place, or the file inside a layer or archive. */
  at: string
}

/** Shorter needles would match by chance in megabytes of layers. */
const MIN_NEEDLE = 8

/**
 * The complete base64 groups of `bytes` from offset `skip`: a substring of the base64 of any text that holds
 * `bytes` at a position whose remainder mod 3 makes those groups line up. Three skips cover every position.
 */
function base64Core(bytes: Buffer, skip: number): string {
  const from = bytes.subarray(skip)
  return from.subarray(0, from.length - (from.length % 3)).toString('base64')
}

/** Inside a JSON string as JSON.stringify writes it. */
const jsonEscaped = (text: string) => JSON.stringify(text).slice(1, -1)

/**
 * Inside a JSON string as Go's encoding/json writes it (image configs, `docker inspect`, BuildKit's records):
 * also `&`, `<`, `>`, U+2028 and U+2029 as \u escapes.
 */
const goJsonEscaped = (text: string) =>
  jsonEscaped(text).replace(
    /[&<>\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )

export function needlesFor(secret: Secret): Needle[] {
  const value = Buffer.from(secret.value)
  const lower = secret.value.toLowerCase()
  const forms: [string, string][] = [
    ['raw', secret.value],
    ['lower-cased', lower],
    ['json-escaped', jsonEscaped(secret.value)],
    ['go-json-escaped', goJsonEscaped(secret.value)],
    ['lower-cased go-json-escaped', goJsonEscaped(lower)],
    ['url-encoded', encodeURIComponent(secret.value)],
    ['base64', value.toString('base64')],
    ['base64url', value.toString('base64url')],
  ]
  if (secret.user !== undefined) {
    forms.push(['base64(user:secret)', Buffer.from(`${secret.user}:${secret.value}`).toString('base64')])
  }
  for (const skip of [0, 1, 2]) {
    const core = base64Core(value, skip)
    forms.push(
      [`base64@${skip}`, core],
      [`base64url@${skip}`, core.replaceAll('+', '-').replaceAll('/', '_')],
    )
  }
  const seen = new Set<string>()
  return forms.flatMap(([form, text]) => {
    if (text.length < MIN_NEEDLE || seen.has(text)) return []
    seen.add(text)
    return [{ label: secret.label, form, bytes: Buffer.from(text) }]
  })
}

/** Lines that are not `::add-mask::` commands: the runner consumes those and masks their value everywhere else. */
export function withoutMaskLines(log: string): string {
  return log
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n')
}

/** Where the registry is and how to read it. */
export interface RegistryAccess {
  /** `https` needs `ca` for a private CA; loopback registries speak plain HTTP. */
  scheme: 'http' | 'https'
  /** Path of a CA certificate to trust. */
  ca?: string
  username?: string
  password?: string
}

/** The parts of a step result a scan reads (run-action.ts's StepResult has them). */
export interface StepFiles {
  log: string
  outputs: Record<string, string>
  state: Record<string, string>
  summary: string
}

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ')

interface Descriptor {
  mediaType?: string
  digest: string
}

interface Manifest {
  manifests?: Descriptor[]
  config?: Descriptor
  layers?: Descriptor[]
}

/** Finds needles in a stream of bytes, across chunk boundaries, each match once. */
class StreamSearch {
  private carry = Buffer.alloc(0)
  private consumed = 0
  readonly hits: { needle: Needle; offset: number }[] = []
  private readonly keep: number

  constructor(private readonly needles: Needle[]) {
    this.keep = Math.max(0, ...needles.map((n) => n.bytes.length)) - 1
  }

  push(chunk: Buffer): void {
    const buf = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk
    const base = this.consumed - this.carry.length
    for (const needle of this.needles) {
      for (let i = buf.indexOf(needle.bytes); i !== -1; i = buf.indexOf(needle.bytes, i + 1)) {
        // A match that lies wholly inside the carried tail was counted with the previous chunk.
        if (i + needle.bytes.length > this.carry.length) this.hits.push({ needle, offset: base + i })
      }
    }
    this.consumed += chunk.length
    this.carry = Buffer.from(buf.subarray(Math.max(0, buf.length - this.keep)))
  }
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b])
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd])

/** The stream decompressed when its first bytes say gzip or zstd; otherwise as it is. */
async function decompressed(source: Readable): Promise<Readable> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  const head: Buffer[] = []
  for (let length = 0; length < ZSTD_MAGIC.length;) {
    const next = await chunks.next()
    if (next.done) break
    head.push(next.value)
    length += next.value.length
  }
  const first = Buffer.concat(head)
  const replay = Readable.from(
    (async function* () {
      yield first
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value
    })(),
  )
  if (first.subarray(0, GZIP_MAGIC.length).equals(GZIP_MAGIC)) return replay.pipe(createGunzip())
  if (first.subarray(0, ZSTD_MAGIC.length).equals(ZSTD_MAGIC)) {
    // Node 20's zlib has no zstd; the e2e environment installs the zstd tool.
    const child = spawn('zstd', ['-dc'], { stdio: ['pipe', 'pipe', 'inherit'] })
    replay.pipe(child.stdin)
    return child.stdout
  }
  return replay
}

/** `tar -tR` block numbers -> member names, to say which file of a layer holds a finding. */
async function tarMembers(stream: Readable): Promise<{ block: number; name: string }[]> {
  const child = spawn('tar', ['-tR', '-f', '-'], { stdio: ['pipe', 'pipe', 'ignore'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  stream.pipe(child.stdin)
  child.stdin.on('error', () => undefined) // not a tar: tar stops reading
  await new Promise((resolve) => child.on('close', resolve))
  return out.split('\n').flatMap((line) => {
    const m = /^block (\d+): (.*)$/.exec(line)
    return m ? [{ block: Number(m[1]), name: m[2] as string }] : []
  })
}

function memberAt(members: { block: number; name: string }[], offset: number): string | undefined {
  const block = Math.floor(offset / 512)
  let found: string | undefined
  for (const m of members) if (m.block <= block) found = m.name
  return found
}

export class SecretScan {
  readonly needles: Needle[]
  readonly findings: Finding[] = []
  /** Every place searched, with its size in bytes (decompressed), so a test can see the scan covered something. */
  readonly searched: { where: string; bytes: number }[] = []

  constructor(secrets: Secret[]) {
    this.needles = secrets.flatMap(needlesFor)
  }

  /** Findings as one line each, for failure messages; no secret in them. */
  report(): string[] {
    return this.findings.map((f) => `${f.where} (${f.at}): ${f.label} as ${f.form}`)
  }

  /** Searches bytes or text. */
  bytes(where: string, data: Buffer | string): void {
    const search = new StreamSearch(this.needles)
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data)
    search.push(buf)
    this.record(where, search, buf.length)
  }

  /** A job log: every line but the `::add-mask::` ones. */
  log(where: string, log: string): void {
    this.bytes(where, withoutMaskLines(log))
  }

  /** The log, outputs, state and summary of one step. */
  step(name: string, step: StepFiles): void {
    this.log(`${name} log`, step.log)
    const pairs = (r: Record<string, string>) => Object.entries(r).map(([k, v]) => `${k}=${v}`)
    this.bytes(`${name} GITHUB_OUTPUT`, pairs(step.outputs).join('\n'))
    this.bytes(`${name} GITHUB_STATE`, pairs(step.state).join('\n'))
    this.bytes(`${name} GITHUB_STEP_SUMMARY`, step.summary)
  }

  /**
   * Every file under `dir` (bytes, and decompressed when gzip or zstd), every name and every link target. A
   * folder that does not exist holds nothing.
   */
  async dir(dir: string): Promise<void> {
    let names: string[]
    try {
      names = readdirSync(dir, { recursive: true }).map(String)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    this.bytes(`names under ${dir}`, names.join('\n'))
    for (const rel of names) {
      const file = path.join(dir, rel)
      const stat = lstatSync(file)
      if (stat.isSymbolicLink()) this.bytes(`${file} (link target)`, readlinkSync(file))
      else if (stat.isFile()) await this.file(file)
    }
  }

  async file(file: string): Promise<void> {
    const data = readFileSync(file)
    this.bytes(file, data)
    const head = data.subarray(0, 4)
    if (head.subarray(0, 2).equals(GZIP_MAGIC) || head.equals(ZSTD_MAGIC)) {
      await this.stream(`${file} (decompressed)`, Readable.from([data]))
    }
  }

  /**
   * A pushed image as its registry holds it: the manifest (an index and each of its manifests, attestations
   * included), each config (env, labels, history) and each layer, decompressed (the file system, deleted files
   * included). `ref` is `host[:port]/repository:tag` or `@sha256:...`.
   */
  async image(ref: string, access: RegistryAccess): Promise<void> {
    const m = /^([^/]+)\/(.+?)(?::([^:/@]+)|@(sha256:[a-f0-9]{64}))$/.exec(ref)
    if (!m) throw new Error(`not an image reference with a tag or digest: ${ref}`)
    const [, host, repository, tag, digest] = m as unknown as [string, string, string, string?, string?]
    const base = `${access.scheme}://${host}/v2/${repository}`
    await this.manifest(`${ref}`, base, tag ?? (digest as string), access)
  }

  private async manifest(
    where: string,
    base: string,
    reference: string,
    access: RegistryAccess,
  ): Promise<void> {
    const body = await readAll(
      await get(`${base}/manifests/${reference}`, access, { accept: MANIFEST_ACCEPT }),
    )
    this.bytes(`${where} manifest ${reference}`, body)
    const manifest = JSON.parse(body.toString('utf8')) as Manifest
    for (const child of manifest.manifests ?? []) await this.manifest(where, base, child.digest, access)
    if (manifest.config) {
      const config = await readAll(await get(`${base}/blobs/${manifest.config.digest}`, access))
      this.bytes(`${where} config ${manifest.config.digest}`, config)
    }
    for (const layer of manifest.layers ?? []) {
      const place = `${where} layer ${layer.digest}`
      const before = this.findings.length
      await this.stream(place, await get(`${base}/blobs/${layer.digest}`, access))
      if (this.findings.length > before)
        await this.nameFiles(place, before, `${base}/blobs/${layer.digest}`, access)
    }
  }

  /** Replaces the offsets of a layer's findings with the files that hold them. */
  private async nameFiles(place: string, from: number, url: string, access: RegistryAccess): Promise<void> {
    const members = await tarMembers(await decompressed(await get(url, access)))
    for (const f of this.findings.slice(from)) {
      if (f.where !== place) continue
      const name = memberAt(members, Number(f.at.replace(/^offset /, '')))
      if (name !== undefined) f.at = `file ${name}`
    }
  }

  /** A byte stream, decompressed first when it is gzip or zstd. */
  async stream(where: string, source: Readable): Promise<void> {
    const stream = await decompressed(source)
    const search = new StreamSearch(this.needles)
    let length = 0
    for await (const chunk of stream) {
      search.push(chunk as Buffer)
      length += (chunk as Buffer).length
    }
    this.record(where, search, length)
  }

  /**
   * The image as the local Docker engine shows it after pulling it from its registry: `docker image inspect` and
   * `docker history --no-trunc`. The pull logs in with a throwaway DOCKER_CONFIG when `access` has credentials.
   */
  dockerImage(ref: string, access: RegistryAccess): void {
    const config = mkdtempSync(path.join(os.tmpdir(), 'scan-docker-'))
    try {
      const docker = (args: string[], input?: string) => {
        const r = spawnSync('docker', ['--config', config, ...args], { encoding: 'utf8', input })
        if (r.status !== 0) throw new Error(`docker ${args[0]} failed: ${r.stderr}`)
        return r.stdout
      }
      if (access.username !== undefined && access.password !== undefined) {
        const host = ref.split('/')[0] as string
        docker(['login', '--username', access.username, '--password-stdin', host], access.password)
      }
      docker(['pull', '--quiet', ref])
      this.bytes(`docker image inspect ${ref}`, docker(['image', 'inspect', ref]))
      this.bytes(`docker history ${ref}`, docker(['history', '--no-trunc', '--format', '{{json .}}', ref]))
    } finally {
      rmSync(config, { recursive: true, force: true })
    }
  }

  /**
   * What BuildKit keeps of every build that started at or after `since`: the record (`docker buildx history
   * inspect`: build arguments, attributes, error) and the build's log, which outlive the job on the engine.
   */
  buildHistory(since: Date): number {
    const ls = spawnSync('docker', ['buildx', 'history', 'ls', '--format', 'json'], { encoding: 'utf8' })
    if (ls.status !== 0) throw new Error(`docker buildx history ls failed: ${ls.stderr}`)
    const records = ls.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { ref: string; created_at: string; status: string })
      // A build still running is another one's (the flows scanned have ended): its log would stream until it ends.
      .filter((r) => new Date(r.created_at) >= since && r.status !== 'Running')
    for (const record of records) {
      const id = record.ref.split('/').at(-1) as string
      for (const args of [
        ['inspect', '--format', 'json', id],
        ['logs', id],
      ]) {
        const r = spawnSync('docker', ['buildx', 'history', ...args], { encoding: 'utf8', timeout: 60_000 })
        if (r.error) throw new Error(`docker buildx history ${args[0]} ${id} failed: ${r.error.message}`)
        this.bytes(`build record ${id} (${args[0]})`, `${r.stdout}\n${r.stderr}`)
      }
    }
    return records.length
  }

  private record(where: string, search: StreamSearch, length: number): void {
    this.searched.push({ where, bytes: length })
    for (const hit of search.hits) {
      this.findings.push({
        where,
        label: hit.needle.label,
        form: hit.needle.form,
        at: `offset ${hit.offset}`,
      })
    }
  }
}

function get(
  url: string,
  access: RegistryAccess,
  headers: Record<string, string> = {},
  hops = 0,
): Promise<Readable> {
  const auth =
    access.username !== undefined && access.password !== undefined
      ? { authorization: `Basic ${Buffer.from(`${access.username}:${access.password}`).toString('base64')}` }
      : {}
  const client = url.startsWith('https:') ? https : http
  return new Promise((resolve, reject) => {
    const req = client.get(
      url,
      { headers: { ...headers, ...auth }, ...(access.ca ? { ca: readFileSync(access.ca) } : {}) },
      (res) => {
        const status = res.statusCode ?? 0
        if (status >= 300 && status < 400 && res.headers.location && hops < 3) {
          res.resume()
          resolve(get(new URL(res.headers.location, url).toString(), access, headers, hops + 1))
        } else if (status !== 200) {
          res.resume()
          reject(new Error(`GET ${url}: HTTP ${status}`))
        } else resolve(res)
      },
    )
    req.on('error', reject)
  })
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of stream) parts.push(chunk as Buffer)
  return Buffer.concat(parts)
}
