/**
 * HTTP to a registry: one request with a timeout, retried on the failures that go away by themselves (connection
 * resets, 429, 502/503/504), and turned into a plain-language reason when it fails for good. Uses Node's fetch,
 * which honours NODE_EXTRA_CA_CERTS for private registry CAs.
 */
import { apiHost, isLoopbackRegistry, normaliseRegistry } from './reference.js'
import { NullLogger, type Logger } from '../log.js'

export interface HttpOptions {
  /** Per request, including reading the body. */
  timeoutMs: number
  /** Extra attempts after the first for transient failures. */
  retries: number
  sleep: (ms: number) => Promise<void>
  /** In [0, 1); spreads retries of parallel jobs apart. */
  random: () => number
  logger: Logger
}

export const DEFAULT_HTTP_OPTIONS: HttpOptions = {
  timeoutMs: 15_000,
  retries: 2,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
  logger: new NullLogger(),
}

export interface RegistryResponse {
  status: number
  statusText: string
  headers: Headers
  body: Buffer
  /** The URL that answered: the request's own, or where redirects (followed by fetch) ended. */
  url: string
  /** Whether fetch followed one or more redirects to get this answer. */
  redirected: boolean
}

/** A request that never got a response: DNS, refused connection, TLS, timeout. */
export class NetworkFailure extends Error {
  override name = 'NetworkFailure'
  constructor(
    readonly url: string,
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`)
  }
}

const TRANSIENT_STATUS = new Set([429, 502, 503, 504])
const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED'])
const BACKOFF_BASE_MS = 250
const MAX_RETRY_AFTER_MS = 10_000

/**
 * Where the registry API is. Plain HTTP for registries docker itself treats as insecure without configuration (loopback) and for hosts the
 * user lists as insecure; HTTPS for everything else.
 */
export function registryBaseUrl(registry: string, insecureRegistries: readonly string[] = []): string {
  const host = normaliseRegistry(registry)
  const insecure = isLoopbackRegistry(host) || insecureRegistries.some((r) => normaliseRegistry(r) === host)
  return `${insecure ? 'http' : 'https'}://${apiHost(host)}`
}

export async function request(
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  init: { headers?: Record<string, string>; body?: string | Uint8Array },
  options: HttpOptions,
): Promise<RegistryResponse> {
  for (let attempt = 0; ; attempt++) {
    const outcome = await attemptOnce(method, url, init, options)
    const last = attempt >= options.retries
    if (outcome instanceof NetworkFailure) {
      if (last || !TRANSIENT_CODES.has(outcome.code)) throw outcome
      await backoff(attempt, undefined, options, `${method} ${url} failed (${outcome.code})`)
      continue
    }
    if (last || !TRANSIENT_STATUS.has(outcome.status)) return outcome
    await backoff(
      attempt,
      outcome.headers.get('retry-after'),
      options,
      `${method} ${url} -> ${outcome.status}`,
    )
  }
}

async function attemptOnce(
  method: string,
  url: string,
  init: { headers?: Record<string, string>; body?: string | Uint8Array },
  options: HttpOptions,
): Promise<RegistryResponse | NetworkFailure> {
  const started = Date.now()
  try {
    const res = await fetch(url, {
      method,
      headers: init.headers,
      body: init.body,
      signal: AbortSignal.timeout(options.timeoutMs),
    })
    const body = method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(await res.arrayBuffer())
    const finalUrl = res.url || url
    // Only method, URL, status and a redirect's host: headers may carry a bearer token or basic credentials, and
    // a redirect's path and query may carry a signed URL.
    const via = res.redirected ? `, redirected to ${hostOf(finalUrl)}` : ''
    options.logger.debug(`${method} ${url} -> ${res.status}${via} (${Date.now() - started} ms)`)
    return {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
      body,
      url: finalUrl,
      redirected: res.redirected,
    }
  } catch (err) {
    const failure = toNetworkFailure(url, err, options.timeoutMs)
    options.logger.debug(`${method} ${url} -> ${failure.code} (${Date.now() - started} ms)`)
    return failure
  }
}

async function backoff(
  attempt: number,
  retryAfter: string | null | undefined,
  options: HttpOptions,
  why: string,
): Promise<void> {
  const hinted = retryAfterMs(retryAfter)
  const ms = hinted ?? Math.round(BACKOFF_BASE_MS * 2 ** attempt * (0.5 + options.random()))
  options.logger.debug(`${why}; retrying in ${ms} ms`)
  await options.sleep(ms)
}

function retryAfterMs(value: string | null | undefined): number | undefined {
  if (!value) return undefined
  const seconds = Number(value)
  if (!Number.isFinite(seconds) || seconds < 0) return undefined
  return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS)
}

/**
 * fetch hides the real reason in `cause` (sometimes two levels deep); dig it out. Duck-typed rather than
 * `instanceof Error`: the errors come from Node's own realm, which is not always the caller's.
 */
export function toNetworkFailure(url: string, err: unknown, timeoutMs: number): NetworkFailure {
  if (isTimeout(err)) return new NetworkFailure(url, 'TIMEOUT', `no answer within ${timeoutMs} ms`)
  let current: unknown = err
  for (let depth = 0; depth < 4 && isErrorLike(current); depth++) {
    if (typeof current.code === 'string' && current.code !== '') {
      return new NetworkFailure(url, current.code, String(current.message ?? ''))
    }
    current = current.cause
  }
  return new NetworkFailure(url, 'NETWORK', isErrorLike(err) ? String(err.message) : String(err))
}

interface ErrorLike {
  name?: unknown
  message?: unknown
  code?: unknown
  cause?: unknown
}

function isErrorLike(value: unknown): value is ErrorLike {
  return typeof value === 'object' && value !== null
}

function isTimeout(err: unknown): boolean {
  return isErrorLike(err) && (err.name === 'TimeoutError' || err.name === 'AbortError')
}

/** What to tell the user to look at for a request that got no response. */
export function networkAdvice(failure: NetworkFailure, host: string): string {
  const { code } = failure
  if (code === 'TIMEOUT') {
    return `the registry did not answer in time (${failure.detail}); check that the runner can reach ${host} (firewall, proxy) and that the registry is healthy`
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `the host name ${host} could not be resolved (${code}); check the registry host in the image reference and the runner's DNS`
  }
  if (code === 'ECONNREFUSED') {
    return `the connection to ${host} was refused (${code}); check the registry URL and port, and that the registry is running`
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return (
      `${host} did not answer in TLS (${code}); it may speak plain HTTP, which is used only for loopback ` +
      'registries (localhost, 127.0.0.0/8) and registries configured as insecure'
    )
  }
  if (isTlsCode(code)) {
    return (
      `the TLS connection to ${host} failed (${code}); if the registry uses a private CA, point ` +
      'NODE_EXTRA_CA_CERTS at the CA certificate in the workflow'
    )
  }
  return `the request to ${host} failed (${code}: ${firstLine(failure.detail)}); check the network between the runner and the registry`
}

function isTlsCode(code: string): boolean {
  return /CERT|SSL|TLS|EPROTO|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)
}

/**
 * The registry's own words from an error body: the distribution `errors[]` list, a token server's `details`, or an
 * OAuth2 `error_description`. Falls back to the first line of a short text body.
 */
export function registryErrorDetail(body: Buffer): string | undefined {
  const text = body.toString('utf8').trim()
  if (text === '') return undefined
  try {
    const parsed = JSON.parse(text) as {
      errors?: { code?: string; message?: string }[]
      details?: string
      error?: string
      error_description?: string
      message?: string
    }
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) {
      return parsed.errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ')
    }
    const single = parsed.details ?? parsed.error_description ?? parsed.message ?? parsed.error
    if (typeof single === 'string' && single !== '') return single
  } catch {
    // Not JSON: fall through to the text.
  }
  if (text.startsWith('<')) return undefined // an HTML error page says nothing useful on one line
  return firstLine(text)
}

/** The `host[:port]` of a URL, or the text itself when it is not one; never a path or query. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').slice(0, 200)
}
