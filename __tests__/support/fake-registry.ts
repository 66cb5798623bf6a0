/**
 * A loopback registry speaking the parts of the OCI distribution protocol the existence check uses: manifest
 * HEAD/GET with content negotiation, Basic or Bearer challenges, a token endpoint (Basic credentials, anonymous
 * or the refresh-token grant), distribution's JSON error bodies, and injectable faults (status codes, connection
 * resets, slow answers). With `dockerHub` it answers like Docker Hub: JWT tokens whose `access` claim grants pull
 * only on repositories that exist, and 401 insufficient_scope (not 404) for a repository it does not know.
 * Beside it: Hub's repository API (FakeHubApi) and a captive portal that answers everything with a login page.
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
      /**
       * Answer like Docker Hub: the token grants pull only on repositories that hold a manifest (and are not in
       * `denied`), and a token without pull gets 401 insufficient_scope.
       */
      dockerHub?: { denied?: readonly string[] }
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
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
export const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json'
const SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+prettyjws'

export function digestOf(body: string): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`
}

/** A manifest with the fields its type requires: `manifests` for an index or list, `config` and `layers` else. */
export function manifestBody(mediaType: string, marker = 'x'): StoredManifest {
  const index = mediaType === OCI_INDEX || mediaType === DOCKER_LIST
  const docker = mediaType.startsWith('application/vnd.docker.')
  const child = {
    mediaType: docker ? DOCKER_V2 : OCI_MANIFEST,
    digest: digestOf(`child of ${marker}`),
    size: 123,
    platform: { architecture: 'amd64', os: 'linux' },
  }
  const config = {
    mediaType: docker
      ? 'application/vnd.docker.container.image.v1+json'
      : 'application/vnd.oci.image.config.v1+json',
    digest: digestOf(`config of ${marker}`),
    size: 456,
  }
  const body = index
    ? { schemaVersion: 2, mediaType, manifests: [child], annotations: { marker } }
    : { schemaVersion: 2, mediaType, config, layers: [], annotations: { marker } }
  return { mediaType, body: JSON.stringify(body) }
}

export class FakeRegistry {
  readonly requests: RecordedRequest[] = []
  /** Tokens the token endpoint has handed out, so tests can check none leaks. */
  readonly issuedTokens: string[] = []
  private readonly manifests = new Map<string, StoredManifest>()
  private readonly faults: Fault[] = []
  /** token -> the `repository:<name>:<action>` grants it carries. */
  private readonly tokens = new Map<string, Set<string>>()

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

  /** Whether any tag of the repository is stored: Docker Hub's "the repository exists". */
  hasRepository(repository: string): boolean {
    return [...this.manifests.keys()].some((k) => k.startsWith(`${repository}:`))
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
    if (!this.authorised(req, repository)) return this.challenge(req, res, repository)
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
        const grants = this.tokens.get(header.replace(/^Bearer /, ''))
        return header.startsWith('Bearer ') && grants?.has(`repository:${repository}:pull`) === true
      }
    }
  }

  private challenge(req: http.IncomingMessage, res: http.ServerResponse, repository: string): void {
    if (this.auth.scheme === 'basic') {
      res.setHeader('WWW-Authenticate', `Basic realm="fake-registry"`)
      return sendError(res, 401, 'UNAUTHORIZED', 'authentication required')
    }
    const realm =
      this.auth.scheme === 'bearer' && this.auth.realm ? this.auth.realm : `http://${this.host}/token`
    // A token the registry knows, but whose grant lacks pull: RFC 6750's insufficient_scope, as Docker Hub says.
    const known = this.tokens.has((req.headers.authorization ?? '').replace(/^Bearer /, ''))
    const error = known ? ',error="insufficient_scope"' : ''
    res.setHeader(
      'WWW-Authenticate',
      `Bearer realm="${realm}",service="fake-registry",scope="repository:${repository}:pull"${error}`,
    )
    // Docker Hub's body names the resource and the action refused.
    const detail = [{ Type: 'repository', Class: '', Name: repository, Action: 'pull' }]
    res.statusCode = 401
    res.setHeader('Content-Type', 'application/json')
    res.end(
      JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail }] }),
    )
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
    const hub = this.auth.dockerHub
    if (!hub) {
      // Grants exactly what was asked.
      const token = `tok-${randomBytes(12).toString('hex')}`
      this.tokens.set(token, new Set([scope]))
      this.issuedTokens.push(token)
      return sendJson(res, 200, { token, access_token: token, expires_in: 300 })
    }
    // Docker Hub: pull only on a repository that exists and is not denied; the grant is in the JWT's `access`.
    const [, name = '', asked = ''] = /^repository:([^:]+):(.+)$/.exec(scope) ?? []
    const allowed = this.hasRepository(name) && !(hub.denied ?? []).includes(name)
    const actions = asked.split(',').filter((a) => a === 'pull' && allowed)
    const token = jwt({ iss: 'fake-hub', sub: user ?? '', access: [{ type: 'repository', name, actions }] })
    this.tokens.set(token, new Set(actions.map((a) => `repository:${name}:${a}`)))
    this.issuedTokens.push(token)
    sendJson(res, 200, { token, access_token: token, expires_in: 300 })
  }
}

/** An unsigned JWT-shaped token: header.payload.signature, base64url. */
function jwt(claims: unknown): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.${randomBytes(16).toString('base64url')}`
}

/** A loopback HTTP server with a handler; records what it was asked. */
export class LoopbackServer {
  readonly requests: RecordedRequest[] = []

  private constructor(private readonly server: http.Server) {}

  static async start(
    handler: (req: http.IncomingMessage, res: http.ServerResponse, self: LoopbackServer) => void,
  ): Promise<LoopbackServer> {
    const server = http.createServer()
    const self = new LoopbackServer(server)
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      readBody(req).then(
        (body) => {
          const url = new URL(req.url ?? '/', 'http://loopback')
          self.requests.push({
            method: req.method ?? '',
            path: url.pathname + url.search,
            headers: req.headers,
            body,
          })
          handler(req, res, self)
        },
        () => res.destroy(),
      )
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return self
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  get host(): string {
    return `127.0.0.1:${this.port}`
  }

  get url(): string {
    return `http://${this.host}`
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

export const PORTAL_PAGE =
  '<!DOCTYPE html>\n<html><head><title>Guest Wi-Fi - please sign in</title></head>\n<body><form action="/login">' +
  '<input name="email"></form></body></html>\n'

/** A captive portal: every request gets 200 and a login page, whatever was asked. */
export function startCaptivePortal(): Promise<LoopbackServer> {
  return LoopbackServer.start((req, res) => {
    res.statusCode = 200
    res.setHeader('Content-Type', 'text/html; charset=utf-8')
    res.end(req.method === 'HEAD' ? undefined : PORTAL_PAGE)
  })
}

export interface HubAnswer {
  status: number
  body: string
  contentType?: string
}

/**
 * Docker Hub's repository API, `GET /v2/namespaces/<ns>/repositories/<name>`: 200 for a repository the registry
 * holds, 404 (Hub's JSON) otherwise.
 */
export class FakeHubApi {
  private constructor(
    readonly server: LoopbackServer,
    private readonly control: { override?: HubAnswer },
  ) {}

  static async start(registry: FakeRegistry): Promise<FakeHubApi> {
    const control: { override?: HubAnswer } = {}
    const server = await LoopbackServer.start((req, res) => {
      const fixed = control.override
      if (fixed) {
        res.statusCode = fixed.status
        res.setHeader('Content-Type', fixed.contentType ?? 'application/json')
        return res.end(fixed.body)
      }
      const m = /^\/v2\/namespaces\/([^/]+)\/repositories\/([^/]+)\/?$/.exec(req.url ?? '')
      if (!m) return sendJson(res, 404, { message: 'page not found' })
      const [, namespace = '', name = ''] = m
      if (registry.hasRepository(`${namespace}/${name}`)) {
        return sendJson(res, 200, { name, namespace, repository_type: 'image', status: 1, is_private: false })
      }
      sendJson(res, 404, {
        message: 'httperror 404: object not found',
        errinfo: { namespace, repository: name },
      })
    })
    return new FakeHubApi(server, control)
  }

  /** Answers every request with this instead, for failures. */
  set override(answer: HubAnswer | undefined) {
    this.control.override = answer
  }

  get url(): string {
    return this.server.url
  }

  get requests(): RecordedRequest[] {
    return this.server.requests
  }

  close(): Promise<void> {
    return this.server.close()
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
