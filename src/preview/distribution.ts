/**
 * The distribution (OCI registry) API calls preview tags need: read a manifest by digest, put the same bytes under
 * another tag, list a repository's tags, and delete a manifest by digest. Authentication is the same handshake
 * as the existence check (Basic, or a bearer token from the challenge's realm), answered again whenever the
 * registry asks for a wider scope (a PUT needs push, a DELETE needs delete).
 */
import { createHash } from 'node:crypto'
import { ActionError } from '../errors.js'
import { NullLogger, type Logger } from '../log.js'
import { headEvidence, MANIFEST_ACCEPT, manifestProblem } from '../registry/check.js'
import type { RegistryCredentials } from '../registry/docker-config.js'
import { answerChallenge } from '../registry/challenge.js'
import {
  DEFAULT_HTTP_OPTIONS,
  NetworkFailure,
  networkAdvice,
  registryBaseUrl,
  registryErrorDetail,
  request,
  type HttpOptions,
  type RegistryResponse,
} from '../registry/http.js'

export interface Manifest {
  /** The exact bytes: their sha256 is the digest, so they are copied untouched. */
  body: Buffer
  mediaType: string
  digest: string
}

export interface DistributionOptions {
  credentials: () => Promise<RegistryCredentials | undefined>
  insecureRegistries?: readonly string[]
  logger?: Logger
  http?: Partial<HttpOptions>
}

type Method = 'GET' | 'HEAD' | 'PUT' | 'DELETE'

export class DistributionClient {
  private readonly base: string
  private readonly http: HttpOptions
  /** Authorization per repository and scope the registry asked for. */
  private readonly authorizations = new Map<string, string>()
  private readonly secrets: string[] = []

  constructor(
    /** Host (and port) as in the image reference. */
    readonly registry: string,
    private readonly options: DistributionOptions,
  ) {
    this.base = registryBaseUrl(registry, options.insecureRegistries)
    this.http = { ...DEFAULT_HTTP_OPTIONS, logger: options.logger ?? new NullLogger(), ...options.http }
  }

  /** The manifest `repository@reference` (a tag or a digest), or undefined when the registry has none. */
  async getManifest(repository: string, reference: string): Promise<Manifest | undefined> {
    const res = await this.send('GET', repository, `/manifests/${reference}`, { Accept: MANIFEST_ACCEPT })
    if (res.status === 404) return undefined
    if (res.status !== 200) throw this.statusError(res, `read the manifest ${repository}@${reference}`)
    const problem = manifestProblem(res)
    if (problem) {
      throw new ActionError(
        `${this.registry} answered the manifest ${repository}@${reference} with something that is not one: ${problem}. ` +
          "Check that no proxy or login page answers in the registry's place.",
      )
    }
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() || mediaTypeOf(res.body)
    const digest = `sha256:${createHash('sha256').update(res.body).digest('hex')}`
    return { body: res.body, mediaType, digest }
  }

  /** The digest `repository:tag` points at, or undefined when the tag does not exist. */
  async tagDigest(repository: string, tag: string): Promise<string | undefined> {
    const head = await this.send('HEAD', repository, `/manifests/${tag}`, { Accept: MANIFEST_ACCEPT })
    if (head.status === 404) return undefined
    // A HEAD vouches for a digest only with a manifest media type and a sha256 digest; else the body is verified.
    const digest = headEvidence(head)
    if (digest) return digest
    return (await this.getManifest(repository, tag))?.digest
  }

  /** Stores the manifest under `tag` with its own media type; returns the digest the registry reports. */
  async putManifest(repository: string, tag: string, manifest: Manifest): Promise<string> {
    const res = await this.send(
      'PUT',
      repository,
      `/manifests/${tag}`,
      { 'Content-Type': manifest.mediaType },
      manifest.body,
    )
    if (res.status !== 201 && res.status !== 200) throw this.statusError(res, `tag ${repository}:${tag}`)
    const digest = res.headers.get('docker-content-digest') ?? manifest.digest
    if (digest !== manifest.digest) {
      throw new ActionError(
        `${this.registry} stored ${repository}:${tag} as ${digest}, not ${manifest.digest}: it changed the manifest instead of copying it.`,
      )
    }
    return digest
  }

  /** Every tag of a repository, following `Link` pagination. A missing repository has no tags. */
  async listTags(repository: string): Promise<string[]> {
    const tags: string[] = []
    let path: string | undefined = `/tags/list?n=1000`
    while (path) {
      const res = await this.send('GET', repository, path, { Accept: 'application/json' })
      if (res.status === 404) return tags
      if (res.status !== 200) throw this.statusError(res, `list the tags of ${repository}`)
      const body = JSON.parse(res.body.toString('utf8')) as { tags?: string[] | null }
      tags.push(...(body.tags ?? []))
      path = nextPage(res.headers.get('link'), repository)
    }
    return tags
  }

  /** Deletes a manifest (and with it every tag that points at it). Already gone is success. */
  async deleteManifest(repository: string, digest: string): Promise<'deleted' | 'gone'> {
    const res = await this.send('DELETE', repository, `/manifests/${digest}`, {})
    if (res.status === 202 || res.status === 200) return 'deleted'
    if (res.status === 404) return 'gone'
    throw this.statusError(res, `delete ${repository}@${digest}`)
  }

  private async send(
    method: Method,
    repository: string,
    path: string,
    headers: Record<string, string>,
    body?: Buffer,
  ): Promise<RegistryResponse> {
    const url = `${this.base}/v2/${repository}${path}`
    const scopeKey = `${repository} ${method}`
    const first = await this.once(method, url, { ...headers, ...this.auth(scopeKey, repository) }, body)
    if (first.status !== 401) return first
    const outcome = await answerChallenge(
      first.headers.get('www-authenticate') ?? '',
      repository,
      this.options.credentials,
      this.http,
    )
    if (!outcome.ok) {
      throw new ActionError(
        `${this.registry} refused ${method} ${repository}${path.split('?')[0]}: authentication failed (${outcome.failure.kind}); check the registry login inputs and that they may push and delete in ${repository}.`,
      )
    }
    if (outcome.token) this.secrets.push(outcome.token)
    this.authorizations.set(scopeKey, outcome.authorization)
    this.authorizations.set(repository, outcome.authorization)
    return this.once(method, url, { ...headers, Authorization: outcome.authorization }, body)
  }

  private auth(scopeKey: string, repository: string): Record<string, string> {
    const a = this.authorizations.get(scopeKey) ?? this.authorizations.get(repository)
    return a ? { Authorization: a } : {}
  }

  private async once(
    method: Method,
    url: string,
    headers: Record<string, string>,
    body?: Buffer,
  ): Promise<RegistryResponse> {
    try {
      return await request(method, url, { headers, ...(body ? { body } : {}) }, this.http)
    } catch (err) {
      if (err instanceof NetworkFailure)
        throw new ActionError(`${method} ${url}: ${networkAdvice(err, this.registry)}`)
      throw err
    }
  }

  private statusError(res: RegistryResponse, doing: string): ActionError {
    const detail = registryErrorDetail(res.body)
    let message = `Could not ${doing} on ${this.registry}: it answered ${res.status}${detail ? ` (${detail})` : ''}`
    if (res.status === 405)
      message +=
        '; the registry does not allow this operation (distribution needs REGISTRY_STORAGE_DELETE_ENABLED=true to delete)'
    if (res.status === 401 || res.status === 403)
      message += '; the credentials may not push or delete in this repository'
    for (const s of this.secrets) if (s.length >= 4) message = message.split(s).join('***')
    return new ActionError(`${message}.`)
  }
}

function mediaTypeOf(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { mediaType?: unknown }
    if (typeof parsed.mediaType === 'string') return parsed.mediaType
  } catch {
    // not JSON: fall through
  }
  return 'application/vnd.oci.image.manifest.v1+json'
}

/** `</v2/name/tags/list?last=x&n=1000>; rel="next"` -> the path after `/v2/<name>`. */
function nextPage(link: string | null, repository: string): string | undefined {
  const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null
  if (!m?.[1]) return undefined
  const url = new URL(m[1], 'http://registry.invalid')
  const prefix = `/v2/${repository}`
  return url.pathname.startsWith(prefix) ? `${url.pathname.slice(prefix.length)}${url.search}` : undefined
}
