/**
 * "Is this tag already in the registry?" answered over the OCI distribution API with one HEAD request (plus the
 * auth handshake), so a cache hit costs tens of milliseconds and no docker process.
 *
 * The check fails closed: only a 404 means "not there". Any other failure (rejected credentials, 5xx, network,
 * TLS, timeout) is an error, because treating an unknown answer as "exists" would skip the build and ship an
 * image that was never pushed.
 */
import { createHash } from 'node:crypto'

import { ActionError } from '../errors.js'
import type { Exec } from '../exec.js'
import type { Logger } from '../log.js'
import { resolveCredentials, secretsOf, type RegistryCredentials } from './docker-config.js'
import { formatReference, parseReference, type ImageReference } from './reference.js'
import { answerChallenge, type AuthFailure } from './challenge.js'
import {
  DEFAULT_HTTP_OPTIONS,
  NetworkFailure,
  networkAdvice,
  registryBaseUrl,
  registryErrorDetail,
  request,
  type HttpOptions,
  type RegistryResponse,
} from './http.js'

export type CheckResult = { exists: true; digest: string } | { exists: false }

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
}

/** The registry check failed: the answer is unknown, so neither "exists" nor "missing" may be assumed. */
export class RegistryCheckError extends ActionError {
  override name = 'RegistryCheckError'
}

/**
 * Every manifest type an image may be stored as. Without all four, distribution 2.8 converts an OCI or
 * multi-platform image to the legacy schema 1 on the fly and reports the digest of that conversion instead.
 */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ')

const DIGEST = /^sha256:[a-f0-9]{64}$/

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
  }

  async run(): Promise<CheckResult> {
    const head = await this.send('HEAD')
    if (head.status === 404) return { exists: false }
    const digest = head.status === 200 ? (head.headers.get('docker-content-digest') ?? '') : ''
    if (DIGEST.test(digest)) return { exists: true, digest }
    // HEAD carries no body: repeat as GET to compute a missing digest, or to read the registry's error message.
    const full = await this.send('GET')
    if (full.status === 404) return { exists: false }
    if (full.status === 200) return { exists: true, digest: digestOf(full) }
    throw this.statusError(full)
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

  private statusError(res: RegistryResponse): RegistryCheckError {
    const detail = registryErrorDetail(res.body)
    const said = `${this.image.registry} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${detail ? ` (${detail})` : ''}`
    return this.fail(`${said}; ${this.statusAdvice(res.status)}`)
  }

  private statusAdvice(status: number): string {
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

/** The digest of a manifest is the sha256 of its exact bytes, which is what the registry would have reported. */
function digestOf(res: RegistryResponse): string {
  const header = res.headers.get('docker-content-digest') ?? ''
  return DIGEST.test(header) ? header : `sha256:${createHash('sha256').update(res.body).digest('hex')}`
}

function hostOf(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}
