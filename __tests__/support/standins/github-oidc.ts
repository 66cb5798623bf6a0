import { createHmac, randomUUID } from 'node:crypto'
import { bearer, json, listen, randomToken, type ListenOptions } from './http.js'

/**
 * Stand-in for the GitHub Actions OIDC token endpoint that `core.getIDToken()` calls: `GET
 * $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD` with `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`,
 * answering `{"value": "<jwt>"}`. Each call mints a new HS256 JWT with GitHub's claim names.
 */

export interface GitHubOidcOptions {
  /** Address, port, TLS and name to serve on (see ListenOptions); default a free loopback port. */
  listen?: ListenOptions
  repository?: string
  ref?: string
  /** Defaults to `repo:<repository>:ref:<ref>`, the subject GitHub uses for push events. */
  sub?: string
  /** Seconds the minted tokens live (GitHub's are short-lived). */
  lifetimeSeconds?: number
  /** Secret for the HS256 signature; stand-ins that verify tokens can share it. */
  signingKey?: string
}

export interface OidcCall {
  audience: string | null
  authorization: string | undefined
  /** The JWT handed out, or undefined when the call was refused. */
  token?: string
}

export interface GitHubOidcStandIn {
  url: string
  requestToken: string
  calls: OidcCall[]
  /** The env vars a job with `id-token: write` gets. */
  env: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string }
  signingKey: string
  close: () => Promise<void>
}

export const ISSUER = 'https://token.actions.githubusercontent.com'

export async function start(options: GitHubOidcOptions = {}): Promise<GitHubOidcStandIn> {
  const repository = options.repository ?? 'octo-org/octo-repo'
  const ref = options.ref ?? 'refs/heads/main'
  const sub = options.sub ?? `repo:${repository}:ref:${ref}`
  const signingKey = options.signingKey ?? randomToken('k', 24)
  const requestToken = randomToken('ghs_req_', 24)
  const calls: OidcCall[] = []

  const server = await listen((req) => {
    const call: OidcCall = { audience: req.query.get('audience'), authorization: req.headers.authorization }
    calls.push(call)
    if (req.method !== 'GET' || req.path !== '/token') return json(404, { message: 'Not Found' })
    if (bearer(req.headers) !== requestToken) return json(401, { message: 'Bad credentials' })
    const now = Math.floor(Date.now() / 1000)
    call.token = signJwt(
      {
        jti: randomUUID(),
        iss: ISSUER,
        aud: call.audience ?? `https://github.com/${repository.split('/')[0]}`,
        sub,
        repository,
        repository_owner: repository.split('/')[0],
        ref,
        event_name: 'push',
        iat: now,
        nbf: now - 5,
        exp: now + (options.lifetimeSeconds ?? 300),
      },
      signingKey,
    )
    return json(200, { count: 1, value: call.token })
  }, options.listen)

  // The real URL already carries a query string (`?api-version=2.0`); core appends `&audience=...` to it.
  const url = `${server.url}/token?api-version=2.0`
  return {
    url,
    requestToken,
    calls,
    env: { ACTIONS_ID_TOKEN_REQUEST_URL: url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken },
    signingKey,
    close: server.close,
  }
}

export function signJwt(claims: Record<string, unknown>, key: string): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT', kid: 'standin' })}.${part(claims)}`
  return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`
}

/** The claims of a JWT minted here, or undefined if it is not one (bad shape or signature). */
export function verifyJwt(token: string, key: string): Record<string, unknown> | undefined {
  const [header, payload, signature] = token.split('.')
  if (!header || !payload || !signature) return undefined
  const expected = createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url')
  if (expected !== signature) return undefined
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
}
