/**
 * The distribution auth handshake: parse the `WWW-Authenticate` challenge of a 401 and produce the
 * `Authorization` header to retry with, either Basic credentials or a bearer token fetched from the realm.
 */
import type { RegistryCredentials } from './docker-config.js'
import { NetworkFailure, registryErrorDetail, request, type HttpOptions } from './http.js'

export interface Challenge {
  scheme: 'bearer' | 'basic'
  params: Record<string, string>
}

/** Why the handshake failed; check.ts words it for the user. */
export type AuthFailure =
  | { kind: 'no-credentials'; scheme: 'basic' }
  | { kind: 'token-rejected'; status: number; detail?: string; realm: string }
  | { kind: 'token-missing'; realm: string }
  | { kind: 'bad-challenge'; header: string }
  | { kind: 'network'; failure: NetworkFailure; realm: string }

export type AuthOutcome =
  | {
      ok: true
      authorization: string
      /** The bearer token, when the challenge asked for one. */
      token?: string
      /** Whether credentials were sent and accepted (a login that works), rather than an anonymous grant. */
      withCredentials: boolean
    }
  | { ok: false; failure: AuthFailure }

/** Client id docker sends when exchanging a refresh token; some token servers require one. */
const CLIENT_ID = 'imagespec-action'

/**
 * Challenges in one header value, e.g. `Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"`.
 * Several challenges may be joined with commas, so a new one starts wherever a scheme name follows a comma.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = []
  const pattern = /(?:^|,)\s*(Bearer|Basic)\b((?:\s*,?\s*[A-Za-z_]+=(?:"(?:[^"\\]|\\.)*"|[^,\s]*))*)/gi
  for (const match of header.matchAll(pattern)) {
    const scheme = (match[1] ?? '').toLowerCase() === 'bearer' ? 'bearer' : 'basic'
    challenges.push({ scheme, params: parseParams(match[2] ?? '') })
  }
  return challenges
}

function parseParams(text: string): Record<string, string> {
  const params: Record<string, string> = {}
  for (const m of text.matchAll(/([A-Za-z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    const key = (m[1] ?? '').toLowerCase()
    params[key] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '')
  }
  return params
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
}

/**
 * Answers a challenge. `credentials` is called only here, so a credential helper process is started only for
 * registries that ask for authentication.
 */
export async function answerChallenge(
  header: string,
  repository: string,
  credentials: () => Promise<RegistryCredentials | undefined>,
  http: HttpOptions,
): Promise<AuthOutcome> {
  const challenges = parseChallenges(header)
  // Prefer bearer: it scopes the grant to one repository and works anonymously for public images.
  const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm)
  if (bearer) return fetchToken(bearer, repository, await credentials(), http)
  if (challenges.some((c) => c.scheme === 'basic')) {
    const creds = await credentials()
    if (!creds) return { ok: false, failure: { kind: 'no-credentials', scheme: 'basic' } }
    const password = creds.kind === 'basic' ? creds.password : creds.token
    // Basic credentials are only judged by the registry's next answer; the caller sees whether they worked.
    return { ok: true, authorization: basicAuthorization(creds.username, password), withCredentials: true }
  }
  return { ok: false, failure: { kind: 'bad-challenge', header } }
}

async function fetchToken(
  challenge: Challenge,
  repository: string,
  creds: RegistryCredentials | undefined,
  http: HttpOptions,
): Promise<AuthOutcome> {
  const realm = challenge.params.realm ?? ''
  if (!/^https?:\/\//i.test(realm))
    return { ok: false, failure: { kind: 'bad-challenge', header: `realm="${realm}"` } }
  const service = challenge.params.service
  const scope = challenge.params.scope ?? `repository:${repository}:pull`
  let response
  try {
    response =
      creds?.kind === 'identity-token'
        ? await refreshTokenGrant(realm, service, scope, creds, http)
        : await tokenGet(realm, service, scope, creds, http)
  } catch (err) {
    if (err instanceof NetworkFailure) return { ok: false, failure: { kind: 'network', failure: err, realm } }
    throw err
  }
  if (response.status !== 200) {
    const detail = registryErrorDetail(response.body)
    return {
      ok: false,
      failure: { kind: 'token-rejected', status: response.status, realm, ...(detail && { detail }) },
    }
  }
  const token = tokenFrom(response.body)
  if (!token) return { ok: false, failure: { kind: 'token-missing', realm } }
  return { ok: true, authorization: `Bearer ${token}`, token, withCredentials: creds !== undefined }
}

function tokenGet(
  realm: string,
  service: string | undefined,
  scope: string,
  creds: RegistryCredentials | undefined,
  http: HttpOptions,
) {
  const url = new URL(realm)
  if (service) url.searchParams.set('service', service)
  url.searchParams.set('scope', scope)
  const headers: Record<string, string> = {}
  if (creds?.kind === 'basic') headers.Authorization = basicAuthorization(creds.username, creds.password)
  return request('GET', url.toString(), { headers }, http)
}

/** OAuth2 refresh-token grant: how docker uses an identity token stored by `docker login`. */
function refreshTokenGrant(
  realm: string,
  service: string | undefined,
  scope: string,
  creds: Extract<RegistryCredentials, { kind: 'identity-token' }>,
  http: HttpOptions,
) {
  const form = new URLSearchParams({
    grant_type: 'refresh_token',
    refresh_token: creds.token,
    client_id: CLIENT_ID,
    scope,
  })
  if (service) form.set('service', service)
  return request(
    'POST',
    realm,
    { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() },
    http,
  )
}

/**
 * The actions a bearer token grants on one resource, read from the `access` claim of a JWT token (docker's token
 * spec: `[{type: "repository", name: "ns/app", actions: ["pull"]}]`). Undefined when the token is not a JWT with
 * a readable payload: then nothing is known about the grant. The signature is not checked: the registry checks
 * it; this only reads what the token service says it granted.
 */
export function grantedActions(token: string, type: string, name: string): string[] | undefined {
  const parts = token.split('.')
  if (parts.length !== 3 || !parts[1]) return undefined
  let claims: unknown
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return undefined
  const access = (claims as { access?: unknown }).access
  // No `access` claim is a token that grants nothing (docker's token spec), not an unknown grant.
  if (access === undefined || access === null) return []
  if (!Array.isArray(access)) return undefined
  const actions = new Set<string>()
  for (const entry of access as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue
    const e = entry as { type?: unknown; name?: unknown; actions?: unknown }
    if (e.type !== type || e.name !== name || !Array.isArray(e.actions)) continue
    for (const a of e.actions) if (typeof a === 'string') actions.add(a)
  }
  return [...actions]
}

function tokenFrom(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { token?: unknown; access_token?: unknown }
    const token = parsed.token ?? parsed.access_token
    return typeof token === 'string' && token !== '' ? token : undefined
  } catch {
    return undefined
  }
}
