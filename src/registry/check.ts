/**
 * "Is this tag already in the registry?" answered over the OCI distribution API with one HEAD request (plus the
 * auth handshake), so a cache hit costs tens of milliseconds and no docker process.
 *
 * The check fails closed. "Exists" needs a manifest: a 200 whose Content-Type is one of the manifest types the
 * check asked for, with a digest the check can stand behind. A HEAD vouches for one when it carries that
 * Content-Type and a `Docker-Content-Digest: sha256:<64 hex>` (the evidence containerd's resolver, and so
 * buildx, accept: a proxy or login page does not invent both); otherwise the manifest is fetched, its shape
 * checked, and its sha256 compared with the header (or used when there is none). Anything else (HTML from a
 * proxy or captive portal, a body that is not a manifest, a digest that does not match) is an error, because
 * treating it as "exists" would skip the build and report a digest that names no image.
 *
 * "Missing" is a 404, and one Docker Hub special case: Hub answers 401 insufficient_scope, not 404, for a
 * repository that does not exist yet. That 401 is read as "missing" only when the login was accepted, the token
 * grants no pull, and Hub's repository API says 404 (see dockerHubSaysMissing). Any other failure (rejected
 * credentials, 5xx, network, TLS, timeout) is an error too.
 */
import { createHash } from 'node:crypto'

import { ActionError } from '../errors.js'
import type { Exec } from '../exec.js'
import type { Logger } from '../log.js'
import { resolveCredentials, secretsOf, type RegistryCredentials } from './docker-config.js'
import {
  DOCKER_HUB,
  formatReference,
  normaliseRegistry,
  parseReference,
  type ImageReference,
} from './reference.js'
import {
  answerChallenge,
  grantedActions,
  parseChallenges,
  type AuthFailure,
  type AuthOutcome,
} from './challenge.js'
import {
  DEFAULT_HTTP_OPTIONS,
  hostOf,
  NetworkFailure,
  networkAdvice,
  registryBaseUrl,
  registryErrorDetail,
  request,
  type HttpOptions,
  type RegistryResponse,
} from './http.js'

export type CheckResult = { exists: true; digest: string } | { exists: false }

/** Where Docker Hub is, for telling its "missing repository" 401 apart from "not allowed". */
export interface DockerHubApi {
  /** Registries (as written in image references) that are Docker Hub. */
  registries: readonly string[]
  /** Base URL of Hub's web API, which answers `GET /v2/namespaces/<ns>/repositories/<name>`. */
  apiUrl: string
}

/** docker.io; `index.docker.io` and `registry-1.docker.io` are read as docker.io by parseReference. */
export const DOCKER_HUB_API: DockerHubApi = { registries: [DOCKER_HUB], apiUrl: 'https://hub.docker.com' }

export interface CheckImageOptions {
  /** DOCKER_CONFIG directory whose credentials (auths, credHelpers, credsStore) are used when challenged. */
  configDir?: string
  /** Used instead of the config directory's credentials when given. */
  credentials?: RegistryCredentials
  /** Hosts (`host[:port]`) reached over plain HTTP; loopback registries always are. */
  insecureRegistries?: readonly string[]
  /** Per request. Default 15 s. */
  timeoutMs?: number
  /** Extra attempts for transient failures (connection reset, 429, 502/503/504). Default 2. */
  retries?: number
  sleep?: (ms: number) => Promise<void>
  random?: () => number
  logger?: Logger
  /** Runs credential helpers. */
  exec?: Exec
  /** Default DOCKER_HUB_API; tests point it at loopback servers. */
  dockerHub?: DockerHubApi
}

/** The registry check failed: the answer is unknown, so neither "exists" nor "missing" may be assumed. */
export class RegistryCheckError extends ActionError {
  override name = 'RegistryCheckError'
}

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json'

/** The manifest types asked for, with the words the errors use for them. */
const MANIFEST_TYPES: ReadonlyMap<string, string> = new Map([
  [OCI_INDEX, 'OCI image index'],
  [OCI_MANIFEST, 'OCI image manifest'],
  [DOCKER_LIST, 'Docker manifest list'],
  [DOCKER_V2, 'Docker image manifest v2'],
])
/** Types whose body lists other manifests (`manifests`), as opposed to one image (`config` and `layers`). */
const INDEX_TYPES = new Set([OCI_INDEX, DOCKER_LIST])

/**
 * Every manifest type an image may be stored as. Without all four, distribution 2.8 converts an OCI or
 * multi-platform image to the legacy schema 1 on the fly and reports the digest of that conversion instead.
 */
export const MANIFEST_ACCEPT = [...MANIFEST_TYPES.keys()].join(', ')

const DIGEST = /^sha256:[a-f0-9]{64}$/
const MISSING: CheckResult = { exists: false }

/** The end of every error about an answer that is not a manifest: what it means and where to look. */
const NEVER_EXISTS =
  'an answer that is not a verified image manifest is never taken as "exists": check the registry host in the ' +
  "image reference, and that no proxy or login page (captive portal) answers in the registry's place"

export async function checkImage(
  ref: string | ImageReference,
  options: CheckImageOptions = {},
): Promise<CheckResult> {
  const image = typeof ref === 'string' ? parseReference(ref) : ref
  const session = new CheckSession(image, options)
  try {
    return await session.run()
  } catch (err) {
    // Last line of defence: whatever went wrong, no message leaves here with a credential in it.
    if (err instanceof Error) err.message = session.redact(err.message)
    throw err
  }
}

class CheckSession {
  private readonly http: HttpOptions
  private readonly url: string
  private readonly display: string
  private credentials: RegistryCredentials | undefined
  private credentialsLoaded = false
  private readonly secrets: string[] = []
  private readonly headers: Record<string, string> = { Accept: MANIFEST_ACCEPT }
  /** The answer to the registry's challenge, once there was one. */
  private grant: Extract<AuthOutcome, { ok: true }> | undefined
  private readonly dockerHub: DockerHubApi

  constructor(
    private readonly image: ImageReference,
    private readonly options: CheckImageOptions,
  ) {
    this.http = {
      timeoutMs: options.timeoutMs ?? DEFAULT_HTTP_OPTIONS.timeoutMs,
      retries: options.retries ?? DEFAULT_HTTP_OPTIONS.retries,
      sleep: options.sleep ?? DEFAULT_HTTP_OPTIONS.sleep,
      random: options.random ?? DEFAULT_HTTP_OPTIONS.random,
      logger: options.logger ?? DEFAULT_HTTP_OPTIONS.logger,
    }
    const reference = image.digest ?? image.tag ?? 'latest'
    const base = registryBaseUrl(image.registry, options.insecureRegistries)
    this.url = `${base}/v2/${image.repository}/manifests/${reference}`
    this.display = formatReference(image)
    this.dockerHub = options.dockerHub ?? DOCKER_HUB_API
  }

  async run(): Promise<CheckResult> {
    const head = await this.send('HEAD')
    if (head.status === 404) return MISSING
    if (head.status === 401 && (await this.dockerHubSaysMissing(head))) return MISSING
    const vouched = headEvidence(head)
    if (vouched) return this.found(vouched)
    // HEAD carries no body: GET the manifest to verify it, or to read the registry's own words on a failure.
    const full = await this.send('GET')
    if (full.status === 404) return MISSING
    if (full.status === 200) return this.found(this.verifiedDigest(full))
    if (full.status >= 400) throw this.statusError(full)
    throw this.notManifest(full, 'a manifest comes with 200 OK')
  }

  /** A digest reference must come back as itself: anything else is another manifest, not the one asked for. */
  private found(digest: string): CheckResult {
    if (this.image.digest !== undefined && digest !== this.image.digest) {
      throw this.fail(
        `${this.image.registry} answered with the manifest ${digest}, not the requested ${this.image.digest}; a manifest other than the one asked for is never taken as "exists": check the registry host in the image reference`,
      )
    }
    return { exists: true, digest }
  }

  /** The digest of a fetched manifest, after checking that it is one and that its bytes are what was named. */
  private verifiedDigest(res: RegistryResponse): string {
    const type = mediaTypeOf(res)
    const kind = MANIFEST_TYPES.get(type)
    if (kind === undefined) {
      const asked = [...MANIFEST_TYPES.values()].join(', ')
      throw this.notManifest(res, `that is not one of the manifest types asked for (${asked})`)
    }
    if (res.body.length === 0) throw this.notManifest(res, `the body is empty, so there is no ${kind}`)
    const shape = manifestShapeProblem(res.body, type)
    if (shape) throw this.notManifest(res, `the body is not a valid ${kind}: ${shape}`)
    const computed = `sha256:${createHash('sha256').update(res.body).digest('hex')}`
    const header = res.headers.get('docker-content-digest')
    if (header === null) return computed
    if (!DIGEST.test(header)) {
      throw this.notManifest(
        res,
        `its Docker-Content-Digest "${sanitize(header, 100)}" is not sha256:<64 hex digits>, so the body cannot be verified against it`,
      )
    }
    if (header !== computed) {
      throw this.notManifest(
        res,
        `its Docker-Content-Digest ${header} does not match the body, whose sha256 is ${computed}`,
      )
    }
    return computed
  }

  /** Sends the manifest request, answering one authentication challenge on the way. */
  private async send(method: 'GET' | 'HEAD'): Promise<RegistryResponse> {
    const res = await this.sendOnce(method)
    if (res.status !== 401 || this.headers.Authorization !== undefined) return res
    const challenge = res.headers.get('www-authenticate') ?? ''
    const auth = await answerChallenge(
      challenge,
      this.image.repository,
      () => this.loadCredentials(),
      this.http,
    )
    if (!auth.ok) throw this.authError(auth.failure)
    if (auth.token) this.secrets.push(auth.token)
    this.grant = auth
    this.headers.Authorization = auth.authorization
    return this.sendOnce(method)
  }

  private async sendOnce(method: 'GET' | 'HEAD'): Promise<RegistryResponse> {
    try {
      return await request(method, this.url, { headers: this.headers }, this.http)
    } catch (err) {
      if (err instanceof NetworkFailure) throw this.fail(networkAdvice(err, this.image.registry))
      throw err
    }
  }

  private async loadCredentials(): Promise<RegistryCredentials | undefined> {
    if (!this.credentialsLoaded) {
      this.credentialsLoaded = true
      this.credentials =
        this.options.credentials ??
        (this.options.configDir
          ? await resolveCredentials(this.options.configDir, this.image.registry, {
              ...(this.options.exec && { exec: this.options.exec }),
              ...(this.options.logger && { logger: this.options.logger }),
            })
          : undefined)
      this.secrets.push(...secretsOf(this.credentials))
    }
    return this.credentials
  }

  /**
   * Docker Hub answers 401 insufficient_scope both for a repository that does not exist yet and for one the
   * account may not read. It is read as "missing" only when every sign agrees: the host is Docker Hub, the token
   * service accepted the credentials (a wrong password fails there, before this), the registry says the token's
   * scope is insufficient (not that the token is bad), the token itself grants no pull on the repository, and
   * Hub's repository API answers 404 for it. Hub's API is asked without credentials: a private repository the
   * account cannot read is hidden from it as well, and then the push that follows fails with "denied".
   * False when the signs do not apply (the 401 is then reported as usual); throws when they apply but Hub's API
   * says the repository exists, or cannot tell.
   */
  private async dockerHubSaysMissing(res: RegistryResponse): Promise<boolean> {
    const hub = this.dockerHub.registries.map(normaliseRegistry)
    const token = this.grant?.withCredentials ? this.grant.token : undefined
    if (!hub.includes(normaliseRegistry(this.image.registry)) || token === undefined) return false
    if (!insufficientScope(res)) return false
    const actions = grantedActions(token, 'repository', this.image.repository)
    if (actions === undefined || actions.includes('pull')) return false
    const [namespace, name, ...rest] = this.image.repository.split('/')
    if (!namespace || !name || rest.length > 0) return false
    const refused = `Docker Hub accepted the login but grants it no pull on ${this.image.repository} (401 insufficient_scope)`
    const lookup = await this.hubRepository(namespace, name)
    if (lookup.kind === 'missing') {
      this.http.logger.info(
        `${refused}, and Hub's repository API does not know ${this.image.repository}: it does not exist yet, so ${this.display} is not in the registry`,
      )
      return true
    }
    if (lookup.kind === 'exists') {
      throw this.fail(
        `${refused}, and Hub's repository API shows that ${this.image.repository} exists: the account may not read it. Grant the account pull (read) access to ${this.image.repository} (or use an access token with read scope), or check the repository name`,
      )
    }
    throw this.fail(
      `${refused}, which is how Hub answers both for a repository that does not exist yet and for one the account may not read; its repository API (${lookup.url}) could not tell which: ${lookup.reason}. Retry the job; an unanswered check is never taken as "not in the registry" or "exists"`,
    )
  }

  /** Hub's own answer to "is there a repository <namespace>/<name>?", asked anonymously. */
  private async hubRepository(
    namespace: string,
    name: string,
  ): Promise<{ kind: 'missing' } | { kind: 'exists' } | { kind: 'unknown'; url: string; reason: string }> {
    const base = this.dockerHub.apiUrl.replace(/\/+$/, '')
    const url = `${base}/v2/namespaces/${encodeURIComponent(namespace)}/repositories/${encodeURIComponent(name)}`
    let res: RegistryResponse
    try {
      res = await request('GET', url, { headers: { Accept: 'application/json' } }, this.http)
    } catch (err) {
      if (!(err instanceof NetworkFailure)) throw err
      return { kind: 'unknown', url, reason: networkAdvice(err, hostOf(url)) }
    }
    // Only Hub's own JSON counts: a redirect or a page from a proxy in between says nothing about the repository.
    const json = !res.redirected && isJsonObject(res.body)
    if (json && res.status === 404) return { kind: 'missing' }
    if (json && res.status === 200) return { kind: 'exists' }
    const detail = registryErrorDetail(res.body)
    const via = res.redirected ? ` after a redirect to ${hostOf(res.url)}` : ''
    return {
      kind: 'unknown',
      url,
      reason: `it answered ${res.status}${via}${detail ? ` (${sanitize(detail, 200)})` : json ? '' : ' without JSON'}`,
    }
  }

  private statusError(res: RegistryResponse): RegistryCheckError {
    const detail = registryErrorDetail(res.body)
    const via = res.redirected ? ` after a redirect to ${hostOf(res.url)}` : ''
    const said = `${this.image.registry} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${via}${detail ? ` (${sanitize(detail, 200)})` : ''}`
    return this.fail(`${said}; ${this.statusAdvice(res)}`)
  }

  /**
   * What the GET that should have returned the manifest got instead: status, redirect (host only: a redirect's
   * path may be a signed URL), Content-Type and the first bytes made printable.
   */
  private notManifest(res: RegistryResponse, problem: string): RegistryCheckError {
    const status = `${res.status}${res.statusText ? ` ${res.statusText}` : ''}`
    const via = res.redirected ? ` after a redirect to ${hostOf(res.url)},` : ''
    const rawType = res.headers.get('content-type')
    const type = rawType ? `Content-Type ${sanitize(rawType, 100)}` : 'no Content-Type'
    const body =
      res.body.length === 0
        ? 'an empty body'
        : `${res.body.length} bytes starting "${sanitize(res.body.subarray(0, 400).toString('utf8'), 80)}"`
    return this.fail(
      `${this.image.registry} answered GET ${status}${via} with ${type} and ${body}: ${problem}; ${NEVER_EXISTS}`,
    )
  }

  private statusAdvice(res: RegistryResponse): string {
    const { status } = res
    if (status === 401 && this.grant?.withCredentials && insufficientScope(res)) {
      return `the login to ${this.image.registry} was accepted, but it may not pull ${this.image.repository} (the registry answered insufficient_scope): grant the account pull (read) access to the repository, or check the repository name`
    }
    if (status === 401) {
      return this.credentials
        ? `the credentials for ${this.image.registry} were rejected: check the registry login inputs (e.g. 'username' and 'password', or the cloud role / service account) and that they may pull ${this.image.repository}`
        : `no credentials for ${this.image.registry} were found: log in to the registry first (set the registry login inputs)`
    }
    if (status === 403) {
      return `the credentials are not allowed to read ${this.image.repository}: grant them pull (read) access to the repository`
    }
    if (status === 429)
      return 'the registry is rate limiting requests: retry later, or log in to get a higher limit'
    if (status >= 500)
      return 'the registry failed internally: retry the job and check the registry service status'
    return `check the registry URL in the image reference (${this.image.registry}/${this.image.repository})`
  }

  private authError(failure: AuthFailure): RegistryCheckError {
    switch (failure.kind) {
      case 'no-credentials':
        return this.fail(
          `${this.image.registry} requires a login (Basic authentication) and no credentials for it were found: log in to the registry first (set the registry login inputs)`,
        )
      case 'token-rejected': {
        const detail = failure.detail ? ` (${failure.detail})` : ''
        const advice = this.credentials
          ? `check the registry login inputs (e.g. 'username' and 'password', or the cloud role / service account)`
          : `the repository may be private: log in to the registry first (set the registry login inputs)`
        return this.fail(`the token service ${failure.realm} answered ${failure.status}${detail}; ${advice}`)
      }
      case 'token-missing':
        return this.fail(
          `the token service ${failure.realm} answered without a token; check the registry URL`,
        )
      case 'bad-challenge':
        return this.fail(
          `${this.image.registry} asked for authentication with an unsupported challenge (${failure.header}); check the registry URL`,
        )
      case 'network':
        return this.fail(
          `token service ${failure.realm}: ${networkAdvice(failure.failure, hostOf(failure.realm))}`,
        )
    }
  }

  private fail(reason: string): RegistryCheckError {
    return new RegistryCheckError(this.redact(`Could not check whether ${this.display} exists: ${reason}.`))
  }

  redact(message: string): string {
    let out = message
    for (const secret of this.secrets) if (secret.length >= 4) out = out.split(secret).join('***')
    return out
  }
}

/**
 * The digest a HEAD answer vouches for, or undefined when it does not: it must be a 200 with one of the manifest
 * types asked for and a sha256 digest header. A HEAD has no body to check, so both headers are required.
 */
export function headEvidence(res: RegistryResponse): string | undefined {
  if (res.status !== 200 || !MANIFEST_TYPES.has(mediaTypeOf(res))) return undefined
  const digest = res.headers.get('docker-content-digest') ?? ''
  return DIGEST.test(digest) ? digest : undefined
}

/**
 * Why a GET answer is not a verified image manifest (a manifest media type, the shape that type requires, and a
 * digest header, when there is one, that is the sha256 of the body), or undefined when it is one. Shared by
 * everything that reads manifests, so that no caller takes a proxy's web page for an image.
 */
export function manifestProblem(res: RegistryResponse): string | undefined {
  const type = mediaTypeOf(res)
  if (!MANIFEST_TYPES.has(type))
    return `its Content-Type ${sanitize(type || 'is missing', 80)} is not a manifest type`
  if (res.body.length === 0) return 'the body is empty'
  const shape = manifestShapeProblem(res.body, type)
  if (shape) return `the body is not a manifest: ${shape}`
  const header = res.headers.get('docker-content-digest')
  const actual = `sha256:${createHash('sha256').update(res.body).digest('hex')}`
  if (header !== null && header !== actual)
    return `its Docker-Content-Digest does not match the body (${actual})`
  return undefined
}

/** The Content-Type without parameters, lower-cased. */
function mediaTypeOf(res: RegistryResponse): string {
  return (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

/**
 * Why a body served as `type` is not a manifest of that type, or undefined when it is one: JSON, schemaVersion 2,
 * a `mediaType` (when present) that agrees with the Content-Type, and the fields the type requires.
 */
function manifestShapeProblem(body: Buffer, type: string): string | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    return 'it is not JSON'
  }
  if (!isObject(parsed)) return 'it is not a JSON object'
  if (parsed.schemaVersion !== 2) {
    return `its schemaVersion is ${sanitize(JSON.stringify(parsed.schemaVersion) ?? 'missing', 40)}, not 2`
  }
  if (parsed.mediaType !== undefined && parsed.mediaType !== type) {
    return `its mediaType is ${sanitize(JSON.stringify(parsed.mediaType), 100)}`
  }
  if (INDEX_TYPES.has(type)) return Array.isArray(parsed.manifests) ? undefined : "it has no 'manifests' list"
  if (!isObject(parsed.config)) return "it has no 'config' descriptor"
  if (!Array.isArray(parsed.layers)) return "it has no 'layers' list"
  return undefined
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isJsonObject(body: Buffer): boolean {
  try {
    return isObject(JSON.parse(body.toString('utf8')))
  } catch {
    return false
  }
}

/** Whether a 401 says the token is valid but its scope is too narrow (RFC 6750), rather than that it is bad. */
function insufficientScope(res: RegistryResponse): boolean {
  const challenges = parseChallenges(res.headers.get('www-authenticate') ?? '')
  return challenges.some((c) => c.scheme === 'bearer' && c.params.error === 'insufficient_scope')
}

/**
 * Text from an answer made safe to print in a job log: whitespace runs (line breaks included) become one space,
 * control, formatting (e.g. bidi overrides) and unassigned characters become '?', and it is cut to `max`
 * characters. With no line break left, nothing in it can start a workflow command.
 */
function sanitize(text: string, max: number): string {
  const flat = text
    .replace(/\s+/g, ' ')
    .replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cn}]/gu, '?')
    .trim()
  const chars = Array.from(flat)
  return chars.length > max ? `${chars.slice(0, max).join('')}...` : flat
}
