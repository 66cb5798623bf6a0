import { json, listen, randomToken, type Reply, type ListenOptions } from './http.js'

/**
 * Stand-in for Amazon ECR Public's JSON 1.1 API (`X-Amz-Target: SpencerFrontendService.<Op>`), enough for
 * GetAuthorizationToken. Point the SDK at it with `AWS_ENDPOINT_URL_ECR_PUBLIC=<url>`.
 */

export interface EcrPublicOptions {
  /** Address, port, TLS and name to serve on (see ListenOptions); default a free loopback port. */
  listen?: ListenOptions
  password?: string
  /** Refuse every call with this AWS error code (e.g. AccessDeniedException). */
  failWith?: { code: string; message: string }
}

export interface EcrPublicCall {
  operation: string
  accessKeyId?: string
  region?: string
}

export interface EcrPublicStandIn {
  url: string
  calls: EcrPublicCall[]
  password: string
  close: () => Promise<void>
}

const CONTENT_TYPE = 'application/x-amz-json-1.1'

export async function start(options: EcrPublicOptions = {}): Promise<EcrPublicStandIn> {
  const password = options.password ?? randomToken('ecr-public-pw-', 40)
  const calls: EcrPublicCall[] = []
  const server = await listen((req) => {
    const target = String(req.headers['x-amz-target'] ?? '')
    const scope = /Credential=([^/]+)\/\d{8}\/([^/]+)\/ecr-public\/aws4_request/.exec(
      String(req.headers.authorization ?? ''),
    )
    const call: EcrPublicCall = {
      operation: target.replace(/^SpencerFrontendService\./, ''),
      accessKeyId: scope?.[1],
      region: scope?.[2],
    }
    calls.push(call)
    if (!scope) return fail('MissingAuthenticationTokenException', 'Missing Authentication Token', 403)
    if (options.failWith) return fail(options.failWith.code, options.failWith.message, 400)
    if (call.operation !== 'GetAuthorizationToken')
      return fail('UnknownOperationException', call.operation, 400)
    return json(
      200,
      {
        authorizationData: {
          authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
          expiresAt: Math.floor(Date.now() / 1000) + 12 * 3600,
        },
      },
      CONTENT_TYPE,
    )
  }, options.listen)
  return { url: server.url, calls, password, close: server.close }
}

function fail(type: string, message: string, status: number): Reply {
  return {
    status,
    headers: { 'content-type': CONTENT_TYPE, 'x-amzn-errortype': type },
    body: JSON.stringify({ __type: type, message }),
  }
}
