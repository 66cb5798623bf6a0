import { randomUUID } from 'node:crypto'
import { escapeXml, listen, randomToken, xml, type Reply, type ListenOptions } from './http.js'

/**
 * Stand-in for AWS STS's query protocol (`POST /` with a form body, XML replies), enough for the SDK's
 * AssumeRoleWithWebIdentity. Point the SDK at it with `AWS_ENDPOINT_URL_STS=<url>`.
 */

export interface StsError {
  code: string
  message: string
  /** HTTP status; AWS sends 400 for client errors and throttling, 403 for AccessDenied. */
  status?: number
}

export interface StsOptions {
  /** Address, port, TLS and name to serve on (see ListenOptions); default a free loopback port. */
  listen?: ListenOptions
  /** Answer the first N calls with `Throttling: Rate exceeded`. */
  throttleFirst?: number
  /** Decide per call; return an error to refuse it. Runs after throttling. */
  refuse?: (call: StsCall) => StsError | undefined
  /** The `aud` the web identity token must carry (default `sts.amazonaws.com`); others get InvalidIdentityToken. */
  audience?: string
  durationSeconds?: number
}

export interface StsCall {
  action: string | null
  roleArn: string | null
  roleSessionName: string | null
  durationSeconds: number | undefined
  webIdentityToken: string | null
  /** The decoded claims of the web identity token (not verified). */
  claims: Record<string, unknown> | undefined
  /** Credentials handed out, when the call succeeded. */
  issued?: IssuedCredentials
  error?: string
}

export interface IssuedCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
  expiration: Date
}

export interface StsStandIn {
  url: string
  calls: StsCall[]
  /** Every credential set handed out, for stand-ins that check signatures and for leak checks. */
  issued: IssuedCredentials[]
  close: () => Promise<void>
}

export const ACCESS_DENIED: StsError = {
  code: 'AccessDenied',
  message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity',
  status: 403,
}

export async function start(options: StsOptions = {}): Promise<StsStandIn> {
  const calls: StsCall[] = []
  const issued: IssuedCredentials[] = []
  let throttled = 0
  const server = await listen((req) => {
    const form = new URLSearchParams(req.body)
    const call = parseCall(form)
    calls.push(call)
    const error = refusal(call)
    if (error) {
      call.error = error.code
      return errorReply(error)
    }
    call.issued = mint(options.durationSeconds ?? call.durationSeconds ?? 3600)
    issued.push(call.issued)
    return xml(200, successBody(call, call.issued))
  }, options.listen)

  function refusal(call: StsCall): StsError | undefined {
    if (call.action !== 'AssumeRoleWithWebIdentity') {
      return { code: 'InvalidAction', message: `Could not find operation ${call.action ?? ''}` }
    }
    if (throttled < (options.throttleFirst ?? 0)) {
      throttled++
      return { code: 'Throttling', message: 'Rate exceeded' }
    }
    if (!call.claims) return { code: 'InvalidIdentityToken', message: 'Incorrect token format' }
    if (call.claims.aud !== (options.audience ?? 'sts.amazonaws.com')) {
      return { code: 'InvalidIdentityToken', message: 'Incorrect token audience' }
    }
    return options.refuse?.(call)
  }

  return { url: server.url, calls, issued, close: server.close }
}

function parseCall(form: URLSearchParams): StsCall {
  const token = form.get('WebIdentityToken')
  const duration = form.get('DurationSeconds')
  return {
    action: form.get('Action'),
    roleArn: form.get('RoleArn'),
    roleSessionName: form.get('RoleSessionName'),
    durationSeconds: duration ? Number(duration) : undefined,
    webIdentityToken: token,
    claims: token ? decodeClaims(token) : undefined,
  }
}

function decodeClaims(token: string): Record<string, unknown> | undefined {
  try {
    const payload = token.split('.')[1]
    return payload
      ? (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

function mint(durationSeconds: number): IssuedCredentials {
  return {
    accessKeyId: randomToken('ASIA', 16).toUpperCase(),
    secretAccessKey: randomToken('', 40),
    sessionToken: randomToken('IQoJb3JpZ2luX2Vj', 120),
    expiration: new Date(Date.now() + durationSeconds * 1000),
  }
}

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/'

function successBody(call: StsCall, creds: IssuedCredentials): string {
  const role = call.roleArn ?? ''
  const account = /::(\d{12}):/.exec(role)?.[1] ?? '000000000000'
  const roleName = role.split('/').pop() ?? 'role'
  const session = call.roleSessionName ?? 'session'
  return `<AssumeRoleWithWebIdentityResponse xmlns="${NS}">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>${escapeXml(String(call.claims?.sub ?? ''))}</SubjectFromWebIdentityToken>
    <Audience>${escapeXml(String(call.claims?.aud ?? ''))}</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::${account}:assumed-role/${escapeXml(roleName)}/${escapeXml(session)}</Arn>
      <AssumedRoleId>AROA${randomToken('', 17).toUpperCase()}:${escapeXml(session)}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>${creds.sessionToken}</SessionToken>
      <SecretAccessKey>${creds.secretAccessKey}</SecretAccessKey>
      <Expiration>${creds.expiration.toISOString()}</Expiration>
      <AccessKeyId>${creds.accessKeyId}</AccessKeyId>
    </Credentials>
    <Provider>arn:aws:iam::${account}:oidc-provider/token.actions.githubusercontent.com</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`
}

function errorReply(error: StsError): Reply {
  return xml(
    error.status ?? 400,
    `<ErrorResponse xmlns="${NS}">
  <Error><Type>Sender</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>
  <RequestId>${randomUUID()}</RequestId>
</ErrorResponse>`,
  )
}
