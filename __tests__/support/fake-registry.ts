/**
 * A loopback registry speaking the parts of the OCI distribution protocol the existence check uses: manifest
 * HEAD/GET with content negotiation, Basic or Bearer challenges, a token endpoint (Basic credentials, anonymous
 * or the refresh-token grant), distribution's JSON error bodies, and injectable faults (status codes, connection
 * resets, slow answers).
 */
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export type FakeAuth =
  | { scheme: 'none' }
  | { scheme: 'basic'; users: Record<string, string> }
  | {
      scheme: 'bearer'
      users?: Record<string, string>
      /** refresh token -> user name, for the OAuth2 refresh-token grant. */
      refreshTokens?: Record<string, string>
      /** Whether the token endpoint grants pull to anonymous callers (public images). */
      anonymousPull?: boolean
      /** Overrides the realm advertised in the challenge. */
      realm?: string
    }

export interface StoredManifest {
  mediaType: string
  body: string
}

/** `'pass'` lets one request through untouched, so a fault can target a later request (e.g. after the handshake). */
export type Fault =
  | {
      status: number
      body?: string | ((req: http.IncomingMessage) => string)
      headers?: Record<string, string>
    }
  | { reset: true }
  | { delayMs: number }
  | 'pass'

export interface RecordedRequest {
  method: string
  path: string
  headers: http.IncomingHttpHeaders
  body: string
}

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json'
const SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+prettyjws'

export function digestOf(body: string): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`
}

export function manifestBody(mediaType: string, marker = 'x'): StoredManifest {
  return { mediaType, body: JSON.stringify({ schemaVersion: 2, mediaType, marker }) }
}

export class FakeRegistry {
  readonly requests: RecordedRequest[] = []
  /** Tokens the token endpoint has handed out, so tests can check none leaks. */
  readonly issuedTokens: string[] = []
  private readonly manifests = new Map<string, StoredManifest>()
  private readonly faults: Fault[] = []
  private readonly tokens = new Map<string, string>()

  private constructor(
    private readonly server: http.Server,
    private readonly auth: FakeAuth,
  ) {}

  static async start(auth: FakeAuth = { scheme: 'none' }): Promise<FakeRegistry> {
    const server = http.createServer()
    const registry = new FakeRegistry(server, auth)
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      registry.handle(req, res).catch((err: unknown) => {
        res.statusCode = 599
        res.end(String(err))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return registry
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  /** `127.0.0.1:PORT`: a loopback name, so the check uses plain HTTP as docker does. */
  get host(): string {
    return `127.0.0.1:${this.port}`
  }

  put(repository: string, tag: string, manifest: StoredManifest): string {
    this.manifests.set(`${repository}:${tag}`, manifest)
    return digestOf(manifest.body)
  }

  /** Faults are applied, in order, to the next manifest requests. */
  failNext(...faults: Fault[]): void {
    this.faults.push(...faults)
  }

  manifestRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.includes('/manifests/'))
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req)
    const url = new URL(req.url ?? '/', `http://${this.host}`)
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname + url.search,
      headers: req.headers,
      body,
    })
    if (url.pathname === '/token') return this.token(req, url, body, res)
    const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname)
    if (!match) return sendError(res, 404, 'NOT_FOUND', 'not found')
    const fault = this.faults.shift()
    if (fault && (await applyFault(fault, req, res))) return
    const [, repository = '', reference = ''] = match
    if (!this.authorised(req, repository)) return this.challenge(res, repository)
    this.manifest(req, res, repository, reference)
  }

  private authorised(req: http.IncomingMessage, repository: string): boolean {
    const header = req.headers.authorization ?? ''
    switch (this.auth.scheme) {
      case 'none':
        return true
      case 'basic':
        return checkBasic(header, this.auth.users) !== undefined
      case 'bearer': {
        const scope = this.tokens.get(header.replace(/^Bearer /, ''))
        return header.startsWith('Bearer ') && scope === `repository:${repository}:pull`
      }
    }
  }

  private challenge(res: http.ServerResponse, repository: string): void {
    const value =
      this.auth.scheme === 'basic'
        ? `Basic realm="fake-registry"`
        : `Bearer realm="${this.auth.scheme === 'bearer' && this.auth.realm ? this.auth.realm : `http://${this.host}/token`}",service="fake-registry",scope="repository:${repository}:pull"`
    res.setHeader('WWW-Authenticate', value)
    sendError(res, 401, 'UNAUTHORIZED', 'authentication required')
  }

  private manifest(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    repository: string,
    reference: string,
  ): void {
    const known = [...this.manifests.keys()].some((k) => k.startsWith(`${repository}:`))
    if (!known) return sendError(res, 404, 'NAME_UNKNOWN', 'repository name not known to registry')
    const stored = reference.startsWith('sha256:')
      ? [...this.manifests.entries()].find(
          ([k, m]) => k.startsWith(`${repository}:`) && digestOf(m.body) === reference,
        )?.[1]
      : this.manifests.get(`${repository}:${reference}`)
    if (!stored) return sendError(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown')
    // Like distribution 2.8: a client that does not accept the stored type gets a schema 1 conversion, whose
    // digest differs from the real one.
    const accepted = (req.headers.accept ?? '').split(',').map((s) => s.trim())
    const served = accepted.includes(stored.mediaType)
      ? stored
      : { mediaType: SCHEMA1, body: `schema1 of ${stored.body}` }
    res.setHeader('Content-Type', served.mediaType)
    res.setHeader('Docker-Content-Digest', digestOf(served.body))
    res.setHeader('Content-Length', Buffer.byteLength(served.body))
    res.statusCode = 200
    res.end(req.method === 'HEAD' ? undefined : served.body)
  }

  private token(req: http.IncomingMessage, url: URL, body: string, res: http.ServerResponse): void {
    if (this.auth.scheme !== 'bearer') return sendError(res, 404, 'NOT_FOUND', 'no token service')
    const form = new URLSearchParams(body)
    const scope = (req.method === 'POST' ? form.get('scope') : url.searchParams.get('scope')) ?? ''
    let user: string | undefined
    if (req.method === 'POST') {
      user = this.auth.refreshTokens?.[form.get('refresh_token') ?? '']
      if (form.get('grant_type') !== 'refresh_token' || user === undefined) {
        return sendJson(res, 401, { error: 'invalid_grant', error_description: 'refresh token is not valid' })
      }
    } else if (req.headers.authorization) {
      user = checkBasic(req.headers.authorization, this.auth.users ?? {})
      // Docker Hub's token service words a bad login like this.
      if (user === undefined) return sendJson(res, 401, { details: 'incorrect username or password' })
    } else if (!this.auth.anonymousPull) {
      return sendError(res, 401, 'UNAUTHORIZED', 'authentication required')
    }
    const token = `tok-${randomBytes(12).toString('hex')}`
    this.tokens.set(token, scope)
    this.issuedTokens.push(token)
    sendJson(res, 200, { token, access_token: token, expires_in: 300 })
  }
}

/** A port nothing listens on: bind one, then free it. */
export async function closedPort(): Promise<number> {
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function applyFault(
  fault: Fault,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<boolean> {
  if (fault === 'pass') return false
  if ('reset' in fault) {
    req.socket.destroy()
    return true
  }
  if ('delayMs' in fault) {
    // unref: a slow answer still pending when the test ends must not keep jest alive.
    await new Promise((resolve) => setTimeout(resolve, fault.delayMs).unref())
    return false
  }
  for (const [k, v] of Object.entries(fault.headers ?? {})) res.setHeader(k, v)
  res.statusCode = fault.status
  res.end(typeof fault.body === 'function' ? fault.body(req) : (fault.body ?? ''))
  return true
}

function checkBasic(header: string, users: Record<string, string>): string | undefined {
  if (!header.startsWith('Basic ')) return undefined
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const user = decoded.slice(0, colon)
  return colon > 0 && users[user] === decoded.slice(colon + 1) ? user : undefined
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { errors: [{ code, message, detail: null }] })
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value)
  res.statusCode = status
  res.setHeader('Content-Type', 'application/json')
  res.setHeader('Docker-Distribution-Api-Version', 'registry/2.0')
  res.end(text)
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}
