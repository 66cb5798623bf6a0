import { json, listen, randomToken, type ListenOptions } from './http.js'
import { verifyJwt } from './github-oidc.js'

/**
 * Stand-in for Google's Security Token Service (`POST /v1/token`, RFC 8693 token exchange), as called by
 * google-auth-library's external-account client. Pass its URL as the STS endpoint.
 */

export interface GcpStsOptions {
  /** Address, port, TLS and name to serve on (see ListenOptions); default a free loopback port. */
  listen?: ListenOptions
  /** The provider the exchange must name: `//iam.googleapis.com/projects/N/.../providers/P`. */
  audience: string
  /** `aud` values the GitHub token may carry; default: the audience with or without `https:` (Google's rule). */
  allowedTokenAudiences?: string[]
  /** The OIDC stand-in's signing key; when set, only tokens it minted are accepted. */
  signingKey?: string
  /** The provider's attribute condition; false refuses the token. */
  condition?: (claims: Record<string, unknown>) => boolean
  /** Seconds the federated tokens live. */
  expiresIn?: number
}

export interface GcpStsCall {
  grantType: string | null
  audience: string | null
  scope: string | null
  subjectTokenType: string | null
  requestedTokenType: string | null
  subjectToken: string | null
  claims?: Record<string, unknown>
  /** The federated access token handed out, if any. */
  issued?: string
  error?: string
}

export interface GcpStsStandIn {
  url: string
  calls: GcpStsCall[]
  /** Every federated token issued, for the IAM Credentials stand-in and leak checks. */
  issued: string[]
  close: () => Promise<void>
}

export async function start(options: GcpStsOptions): Promise<GcpStsStandIn> {
  const calls: GcpStsCall[] = []
  const issued: string[] = []
  const allowed = options.allowedTokenAudiences ?? [options.audience, `https:${options.audience}`]
  const server = await listen((req) => {
    const form = new URLSearchParams(req.body)
    const call: GcpStsCall = {
      grantType: form.get('grant_type'),
      audience: form.get('audience'),
      scope: form.get('scope'),
      subjectTokenType: form.get('subject_token_type'),
      requestedTokenType: form.get('requested_token_type'),
      subjectToken: form.get('subject_token'),
    }
    calls.push(call)
    if (req.method !== 'POST' || req.path !== '/v1/token') return json(404, { error: 'not_found' })
    const refusal = check(call)
    if (refusal) {
      call.error = refusal.error
      return json(400, refusal)
    }
    call.issued = randomToken('ya29.fed-', 64)
    issued.push(call.issued)
    return json(200, {
      access_token: call.issued,
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: options.expiresIn ?? 3599,
    })
  }, options.listen)

  function check(call: GcpStsCall): { error: string; error_description: string } | undefined {
    if (call.grantType !== 'urn:ietf:params:oauth:grant-type:token-exchange') {
      return {
        error: 'unsupported_grant_type',
        error_description: `Unsupported grant type ${call.grantType ?? ''}`,
      }
    }
    if (call.subjectTokenType !== 'urn:ietf:params:oauth:token-type:jwt') {
      return { error: 'invalid_request', error_description: 'Invalid subject token type' }
    }
    if (call.audience !== options.audience) {
      return {
        error: 'invalid_target',
        error_description:
          'The target service indicated by the "audience" parameters is invalid. This might either be because ' +
          "the pool or provider is disabled or deleted or because it doesn't exist.",
      }
    }
    const claims = options.signingKey
      ? verifyJwt(call.subjectToken ?? '', options.signingKey)
      : decode(call.subjectToken ?? '')
    if (!claims) return { error: 'invalid_grant', error_description: 'Invalid ID Token.' }
    call.claims = claims
    if (!allowed.includes(String(claims.aud))) {
      return {
        error: 'invalid_grant',
        error_description: `The audience in ID Token [${String(claims.aud)}] does not match the expected audience.`,
      }
    }
    if (options.condition && !options.condition(claims)) {
      return {
        error: 'unauthorized_client',
        error_description: 'The given credential is rejected by the attribute condition.',
      }
    }
    return undefined
  }

  return { url: server.url, calls, issued, close: server.close }
}

function decode(token: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >
  } catch {
    return undefined
  }
}
