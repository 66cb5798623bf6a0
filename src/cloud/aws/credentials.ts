import { fromNodeProviderChain, fromWebToken } from '@aws-sdk/credential-providers'
import { ActionError, InputError } from '../../errors.js'
import { NullLogger, type Logger } from '../../log.js'
import { decodeJwtClaims, getGitHubOidcToken, type OidcTokenSource } from '../github-oidc.js'
import { retry } from '../retry.js'
import { maskInLog } from '../secrets.js'
import type { Mask, Sleep } from '../types.js'
import { awsErrorInfo, isAccessDenied, isThrottling, isTransient, type AwsErrorInfo } from './errors.js'

/** Static AWS credentials, already masked in the job log. */
export interface AwsCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  expiration?: Date
  /** How they were obtained, for the log: an assumed role, or whatever the SDK's default chain found. */
  source: 'assumed-role' | 'default-chain'
}

export interface AwsCredentialOptions {
  /** Region for STS (and the default chain's region-aware providers). */
  region: string
  /** `aws-role-to-assume`: a role ARN. Without it, the SDK's default credential chain is used. */
  roleToAssume?: string
  /** `aws-role-session-name`, default `imagespec-action`. */
  roleSessionName?: string
  /** `aws-role-duration-seconds`, default 3600. */
  roleDurationSeconds?: number
  /** `aws-audience`: the `aud` of the GitHub OIDC token, default `sts.amazonaws.com`. */
  audience?: string
  /** Total STS attempts (default 10): matrix jobs assuming the same role at once get throttled. */
  maxAttempts?: number
  logger?: Logger
  mask?: Mask
  sleep?: Sleep
  random?: () => number
  /** For tests and diagnostics; default `core.getIDToken` and `process.env`. */
  getIDToken?: OidcTokenSource
  env?: NodeJS.ProcessEnv
}

export const AWS_INPUTS = {
  role: 'aws-role-to-assume',
  region: 'aws-region',
  sessionName: 'aws-role-session-name',
  duration: 'aws-role-duration-seconds',
  audience: 'aws-audience',
} as const

export const DEFAULT_SESSION_NAME = 'imagespec-action'
export const DEFAULT_DURATION_SECONDS = 3600
export const DEFAULT_AWS_AUDIENCE = 'sts.amazonaws.com'

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/

/**
 * Credentials for the ECR calls: with `aws-role-to-assume`, GitHub's OIDC token exchanged at STS
 * (AssumeRoleWithWebIdentity); otherwise the SDK's default chain (keys exported by an earlier step, a profile,
 * the instance role of a self-hosted runner).
 */
export async function getAwsCredentials(options: AwsCredentialOptions): Promise<AwsCredentials> {
  const creds = options.roleToAssume
    ? await assumeRoleWithOidc({ ...options, roleToAssume: options.roleToAssume })
    : await defaultChainCredentials(options)
  const mask = options.mask ?? maskInLog
  // The key id is masked too: with it, a log reader knows which key to try the leaked secret against.
  mask(creds.accessKeyId)
  mask(creds.secretAccessKey)
  if (creds.sessionToken) mask(creds.sessionToken)
  return creds
}

interface Identity {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  expiration?: Date
}

function toCredentials(identity: Identity, source: AwsCredentials['source']): AwsCredentials {
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = identity
  return { accessKeyId, secretAccessKey, sessionToken, expiration, source }
}

function validateRoleInputs(o: AwsCredentialOptions & { roleToAssume: string }): void {
  if (!ROLE_ARN.test(o.roleToAssume)) {
    throw new InputError(
      AWS_INPUTS.role,
      `'${o.roleToAssume}' is not an IAM role ARN; use the full ARN, e.g. arn:aws:iam::123456789012:role/NAME.`,
    )
  }
  if (o.roleSessionName !== undefined && !SESSION_NAME.test(o.roleSessionName)) {
    throw new InputError(
      AWS_INPUTS.sessionName,
      `'${o.roleSessionName}' is not a valid session name: 2 to 64 letters, digits or any of _+=,.@-`,
    )
  }
  const duration = o.roleDurationSeconds
  if (duration !== undefined && (!Number.isInteger(duration) || duration < 900 || duration > 43200)) {
    throw new InputError(
      AWS_INPUTS.duration,
      `must be a whole number of seconds from 900 to 43200, got ${duration}.`,
    )
  }
}

async function assumeRoleWithOidc(
  o: AwsCredentialOptions & { roleToAssume: string },
): Promise<AwsCredentials> {
  validateRoleInputs(o)
  const logger = o.logger ?? new NullLogger()
  const audience = o.audience ?? DEFAULT_AWS_AUDIENCE
  let lastToken = ''
  try {
    const identity = await retry(
      async () => {
        // A fresh OIDC token for every attempt: GitHub's tokens are short-lived and a throttled STS can keep
        // us waiting past their expiry.
        lastToken = await getGitHubOidcToken(audience, {
          purpose: `AWS (${AWS_INPUTS.role})`,
          env: o.env,
          getIDToken: o.getIDToken,
          mask: o.mask,
        })
        return fromWebToken({
          roleArn: o.roleToAssume,
          webIdentityToken: lastToken,
          roleSessionName: o.roleSessionName ?? DEFAULT_SESSION_NAME,
          durationSeconds: o.roleDurationSeconds ?? DEFAULT_DURATION_SECONDS,
          // Our loop owns retries, so each attempt can carry a new token and the waits are jittered and testable.
          clientConfig: { region: o.region, maxAttempts: 1 },
        })()
      },
      {
        maxAttempts: o.maxAttempts ?? 10,
        baseDelayMs: 1000,
        maxDelayMs: 30000,
        isRetryable: isRetryableStsError,
        sleep: o.sleep,
        random: o.random,
        onRetry: (error, attempt, delay) => {
          const info = awsErrorInfo(error)
          logger.info(
            `STS AssumeRoleWithWebIdentity attempt ${attempt} failed (${info.name}); retrying in ${delay} ms`,
          )
        },
      },
    )
    return toCredentials(identity, 'assumed-role')
  } catch (error) {
    if (error instanceof ActionError) throw error
    throw stsError(awsErrorInfo(error), o, audience, lastToken)
  }
}

function isRetryableStsError(error: unknown): boolean {
  if (error instanceof ActionError) return false
  const info = awsErrorInfo(error)
  if (info.name === 'ExpiredTokenException') return true
  // STS could not fetch GitHub's signing keys: a problem between AWS and GitHub that AWS asks callers to retry.
  if (info.name === 'InvalidIdentityToken' && /verification key|retriev/i.test(info.message)) return true
  return isTransient(info)
}

function stsError(
  info: AwsErrorInfo,
  o: AwsCredentialOptions & { roleToAssume: string },
  audience: string,
  token: string,
): ActionError {
  const reason = `${info.name}: ${info.message}`
  if (isAccessDenied(info) || info.name === 'InvalidIdentityToken') {
    return new InputError(AWS_INPUTS.role, trustPolicyAdvice(o.roleToAssume, reason, audience, token))
  }
  if (info.name === 'ValidationError' && /DurationSeconds/i.test(info.message)) {
    return new InputError(
      AWS_INPUTS.duration,
      `${reason}. Lower it, or raise the role's maximum session duration in IAM (up to 12 hours).`,
    )
  }
  if (isTransient(info)) {
    const what = isThrottling(info) ? 'kept throttling' : 'kept failing'
    return new ActionError(
      `STS ${what} AssumeRoleWithWebIdentity for '${o.roleToAssume}' after ${o.maxAttempts ?? 10} attempts ` +
        `(${reason}). Many jobs assuming roles at once cause this; re-run the job, or limit the matrix with ` +
        '`strategy.max-parallel`.',
    )
  }
  return new ActionError(`Could not assume '${o.roleToAssume}' with the GitHub OIDC token (${reason}).`)
}

function trustPolicyAdvice(role: string, reason: string, audience: string, token: string): string {
  const claims = decodeJwtClaims(token) ?? {}
  const sub = typeof claims.sub === 'string' ? claims.sub : undefined
  const account = /::(\d{12}):/.exec(role)?.[1] ?? 'ACCOUNT'
  const sent = sub ? ` GitHub's token had sub '${sub}' and aud '${audience}'.` : ''
  return (
    `AWS refused to let this workflow assume '${role}' (${reason}).${sent} Check, in account ${account}: ` +
    `(1) the account has an IAM OIDC identity provider for https://token.actions.githubusercontent.com; ` +
    `(2) the role's trust policy allows sts:AssumeRoleWithWebIdentity for the principal ` +
    `arn:aws:iam::${account}:oidc-provider/token.actions.githubusercontent.com; ` +
    `(3) its condition on token.actions.githubusercontent.com:sub matches this repository and ref ` +
    `(e.g. 'repo:OWNER/REPO:*'; jobs with an environment send 'repo:OWNER/REPO:environment:NAME', pull requests ` +
    `'repo:OWNER/REPO:pull_request'); (4) token.actions.githubusercontent.com:aud is '${audience}', or set ` +
    `'${AWS_INPUTS.audience}' to the audience the trust policy expects.`
  )
}

async function defaultChainCredentials(o: AwsCredentialOptions): Promise<AwsCredentials> {
  try {
    const identity = await fromNodeProviderChain({ clientConfig: { region: o.region } })()
    return toCredentials(identity, 'default-chain')
  } catch (error) {
    const info = awsErrorInfo(error)
    throw new ActionError(
      `No AWS credentials were found (${info.message}). Set '${AWS_INPUTS.role}' to an IAM role ARN (with ` +
        '`permissions: id-token: write` on the job) so the action assumes it with GitHub OIDC, or export ' +
        'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) in an earlier step, e.g. with ' +
        'aws-actions/configure-aws-credentials.',
    )
  }
}
