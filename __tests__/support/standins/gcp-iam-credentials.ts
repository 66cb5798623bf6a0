import { bearer, json, listen, randomToken, type ListenOptions } from './http.js'

/**
 * Stand-in for the IAM Service Account Credentials API
 * (`POST /v1/projects/-/serviceAccounts/EMAIL:generateAccessToken`). Pass its URL as the IAM Credentials endpoint.
 */

export interface GcpIamCredentialsOptions {
  /** Address, port, TLS and name to serve on (see ListenOptions); default a free loopback port. */
  listen?: ListenOptions
  /** Service accounts the federated identity may impersonate; others get PERMISSION_DENIED. */
  serviceAccounts: string[]
  /** Bearer tokens it accepts, e.g. `(t) => sts.issued.includes(t)`. */
  acceptToken?: (token: string) => boolean
  /** The access token it hands out, e.g. one a real registry accepts; default a new random one per call. */
  accessToken?: string
}

export interface GcpIamCredentialsCall {
  serviceAccount: string
  scope: unknown
  lifetime: unknown
  bearer: string | undefined
  issued?: string
  status: number
}

export interface GcpIamCredentialsStandIn {
  url: string
  calls: GcpIamCredentialsCall[]
  issued: string[]
  close: () => Promise<void>
}

const PATH = /^\/v1\/projects\/-\/serviceAccounts\/(?<sa>[^/:]+):generateAccessToken$/

export async function start(options: GcpIamCredentialsOptions): Promise<GcpIamCredentialsStandIn> {
  const calls: GcpIamCredentialsCall[] = []
  const issued: string[] = []
  const server = await listen((req) => {
    const sa = decodeURIComponent(PATH.exec(req.path)?.groups?.sa ?? '')
    const body = req.body ? (JSON.parse(req.body) as { scope?: unknown; lifetime?: unknown }) : {}
    const call: GcpIamCredentialsCall = {
      serviceAccount: sa,
      scope: body.scope,
      lifetime: body.lifetime,
      bearer: bearer(req.headers),
      status: 200,
    }
    calls.push(call)
    const reply = answer(call, req.method)
    call.status = reply.status
    return reply
  }, options.listen)

  function answer(call: GcpIamCredentialsCall, method: string) {
    if (method !== 'POST' || !call.serviceAccount) return apiError(404, 'NOT_FOUND', 'Not found')
    if (!call.bearer || (options.acceptToken && !options.acceptToken(call.bearer))) {
      return apiError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.')
    }
    if (!options.serviceAccounts.includes(call.serviceAccount)) {
      return apiError(
        403,
        'PERMISSION_DENIED',
        "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
        'IAM_PERMISSION_DENIED',
      )
    }
    const seconds = Number(String(call.lifetime ?? '3600s').replace(/s$/, ''))
    call.issued = options.accessToken ?? randomToken('ya29.sa-', 64)
    issued.push(call.issued)
    return json(200, {
      accessToken: call.issued,
      expireTime: new Date(Date.now() + seconds * 1000).toISOString(),
    })
  }

  return { url: server.url, calls, issued, close: server.close }
}

export function apiError(code: number, status: string, message: string, reason?: string) {
  return json(code, {
    error: {
      code,
      message,
      status,
      ...(reason
        ? {
            details: [
              { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com' },
            ],
          }
        : {}),
    },
  })
}
