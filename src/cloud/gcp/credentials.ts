import { IdentityPoolClient, type BaseExternalAccountClient } from 'google-auth-library'
import { ActionError, InputError } from '../../errors.js'
import { NullLogger, type Logger } from '../../log.js'
import { decodeJwtClaims, getGitHubOidcToken, type OidcTokenSource } from '../github-oidc.js'
import { maskInLog } from '../secrets.js'
import type { DockerCredentials, Mask } from '../types.js'
import { googleErrorInfo } from './errors.js'

export const GCP_INPUTS = {
  provider: 'gcp-workload-identity-provider',
  serviceAccount: 'gcp-service-account',
  universe: 'gcp-universe',
  audience: 'gcp-audience',
} as const

export const DEFAULT_UNIVERSE = 'googleapis.com'

/** Base URLs (scheme + host, no path) of the Google APIs the action calls. */
export interface GcpEndpoints {
  sts: string
  iamCredentials: string
  artifactRegistry: string
}

/**
 * The endpoints of a universe (`googleapis.com`, or a sovereign cloud's domain). Overrides exist for Private
 * Service Connect endpoints (`https://sts-NAME.p.googleapis.com`) and for loopback stand-ins in tests.
 */
export function gcpEndpoints(
  universe: string = DEFAULT_UNIVERSE,
  overrides: Partial<GcpEndpoints> = {},
): GcpEndpoints {
  const strip = (url: string) => url.replace(/\/+$/, '')
  return {
    sts: strip(overrides.sts ?? `https://sts.${universe}`),
    iamCredentials: strip(overrides.iamCredentials ?? `https://iamcredentials.${universe}`),
    artifactRegistry: strip(overrides.artifactRegistry ?? `https://artifactregistry.${universe}`),
  }
}

const ENDPOINT_ENV: Record<keyof GcpEndpoints, string> = {
  sts: 'IMAGESPEC_GCP_ENDPOINT_STS',
  iamCredentials: 'IMAGESPEC_GCP_ENDPOINT_IAMCREDENTIALS',
  artifactRegistry: 'IMAGESPEC_GCP_ENDPOINT_ARTIFACTREGISTRY',
}

/**
 * Endpoint overrides from the environment: IMAGESPEC_GCP_ENDPOINT_STS, IMAGESPEC_GCP_ENDPOINT_IAMCREDENTIALS and
 * IMAGESPEC_GCP_ENDPOINT_ARTIFACTREGISTRY, each a base URL (`https://sts-NAME.p.googleapis.com`). For private
 * endpoints that are not `<api>.<universe>` (Private Service Connect, a proxy) and for end-to-end tests against
 * loopback stand-ins. Deliberately not inputs: `gcp-universe` covers every public and sovereign cloud.
 */
export function gcpEndpointsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<GcpEndpoints> {
  const out: Partial<GcpEndpoints> = {}
  for (const key of Object.keys(ENDPOINT_ENV) as (keyof GcpEndpoints)[]) {
    const value = env[ENDPOINT_ENV[key]]?.trim()
    if (value) out[key] = value
  }
  return out
}

export interface WorkloadIdentityProvider {
  /** `projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER` */
  name: string
  projectNumber: string
  pool: string
  provider: string
}

const PROVIDER_NAME =
  /^projects\/(?<project>[^/]+)\/locations\/(?<location>[^/]+)\/workloadIdentityPools\/(?<pool>[^/]+)\/providers\/(?<provider>[^/]+)$/
const POOL_NAME = /^projects\/[^/]+\/locations\/[^/]+\/workloadIdentityPools\/(?<pool>[^/]+)$/

/**
 * Checks the provider's resource name and explains the usual mistakes (google-github-actions/auth's most common
 * support questions): a pool instead of a provider, a project ID instead of the number, a missing `projects/`.
 */
export function parseWorkloadIdentityProvider(value: string): WorkloadIdentityProvider {
  // Accept the forms people paste from the console or from an audience: //iam.googleapis.com/projects/...
  const name = value.trim().replace(/^(?:https?:)?\/\/iam\.[^/]+\//, '')
  const m = PROVIDER_NAME.exec(name)?.groups
  if (!m?.project || !m.location || !m.pool || !m.provider)
    throw new InputError(GCP_INPUTS.provider, providerShapeProblem(name))
  if (!/^\d+$/.test(m.project)) {
    throw new InputError(
      GCP_INPUTS.provider,
      `'${name}' names the project by ID ('${m.project}'), but workload identity providers are named by project ` +
        `NUMBER. Look it up with: gcloud projects describe ${m.project} --format='value(projectNumber)'`,
    )
  }
  if (m.location !== 'global') {
    throw new InputError(
      GCP_INPUTS.provider,
      `'${name}' has location '${m.location}'; workload identity pools are always in 'global'.`,
    )
  }
  return { name, projectNumber: m.project, pool: m.pool, provider: m.provider }
}

const FULL_SHAPE =
  'projects/PROJECT_NUMBER/locations/global/workloadIdentityPools/POOL_ID/providers/PROVIDER_ID'

function providerShapeProblem(name: string): string {
  const pool = POOL_NAME.exec(name)?.groups?.pool
  if (pool) {
    return (
      `'${name}' is a workload identity pool, not a provider: append /providers/PROVIDER_ID. List the pool's ` +
      `providers with: gcloud iam workload-identity-pools providers list --workload-identity-pool=${pool} ` +
      '--location=global'
    )
  }
  if (!name.startsWith('projects/')) {
    return `'${name}' must be the provider's full resource name, starting with 'projects/': ${FULL_SHAPE}`
  }
  return `'${name}' is not a workload identity provider name; expected ${FULL_SHAPE}`
}

export interface GcpCredentialOptions {
  /** `gcp-workload-identity-provider`. */
  workloadIdentityProvider: string
  /** `gcp-service-account`: impersonate it; without it, the federated token is used directly (direct WIF). */
  serviceAccount?: string
  /** `gcp-universe`, default googleapis.com. */
  universe?: string
  /** `gcp-audience`: the `aud` of the GitHub OIDC token; default `//iam.<universe>/<provider>`. */
  audience?: string
  /** Lifetime asked for the impersonated token, default 3600 s (more needs an org policy exception). */
  lifetimeSeconds?: number
  endpoints?: Partial<GcpEndpoints>
  logger?: Logger
  mask?: Mask
  getIDToken?: OidcTokenSource
  env?: NodeJS.ProcessEnv
}

/** An authenticated Google session: the access token for docker, and the client for REST calls. */
export interface GcpSession {
  /** Authorized client: `client.request()` sends the current access token. */
  readonly client: BaseExternalAccountClient
  readonly provider: WorkloadIdentityProvider
  readonly serviceAccount: string | undefined
  readonly universe: string
  readonly endpoints: GcpEndpoints
  accessToken(): string
  expiresAt(): Date | undefined
  /** `docker login` credentials for an Artifact Registry host, from the current token. */
  dockerCredentials(registryHost: string): DockerCredentials
  /**
   * Gets a new token when the current one has less than `minRemainingSeconds` left, e.g. before a push that
   * follows a long build (direct WIF tokens can be short-lived). True when it refreshed; the caller then logs in
   * again with `dockerCredentials()`.
   */
  refreshIfExpiring(minRemainingSeconds: number): Promise<boolean>
}

const SERVICE_ACCOUNT = /^[^@\s/]+@[^@\s/]+$/

/**
 * GitHub OIDC token -> Google STS token exchange -> (optionally) service account impersonation, done by
 * google-auth-library's external-account client with the OIDC token supplied in process. Every fresh token
 * is masked before it is handed out.
 */
export async function authenticateGcp(options: GcpCredentialOptions): Promise<GcpSession> {
  const provider = parseWorkloadIdentityProvider(options.workloadIdentityProvider)
  const serviceAccount = validateServiceAccount(options.serviceAccount)
  const universe = options.universe?.trim() || DEFAULT_UNIVERSE
  const fromEnv = gcpEndpointsFromEnv(options.env)
  const given = Object.fromEntries(Object.entries(options.endpoints ?? {}).filter(([, v]) => v !== undefined))
  const endpoints = gcpEndpoints(universe, { ...fromEnv, ...given })
  if (Object.keys(fromEnv).length > 0) {
    options.logger?.info(`Google API endpoints from IMAGESPEC_GCP_ENDPOINT_*: ${JSON.stringify(endpoints)}`)
  }
  const audience = options.audience ?? `//iam.${universe}/${provider.name}`
  const mask = options.mask ?? maskInLog
  let lastSubjectToken = ''
  // The external_account configuration ExternalAccountClient.fromJSON() takes, given to the class fromJSON()
  // picks for it. fromJSON() also prints a warning about untrusted credential files into every job log; this
  // configuration is built here from validated inputs, so that warning would only confuse.
  const client = new IdentityPoolClient({
    type: 'external_account',
    audience: `//iam.${universe}/${provider.name}`,
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    token_url: `${endpoints.sts}/v1/token`,
    ...(serviceAccount
      ? {
          service_account_impersonation_url: `${endpoints.iamCredentials}/v1/projects/-/serviceAccounts/${serviceAccount}:generateAccessToken`,
          service_account_impersonation: { token_lifetime_seconds: options.lifetimeSeconds ?? 3600 },
        }
      : {}),
    universe_domain: universe,
    subject_token_supplier: {
      // Called on every refresh, so a refresh after a long build gets a fresh GitHub token too.
      getSubjectToken: async () => {
        lastSubjectToken = await getGitHubOidcToken(audience, {
          purpose: `Google Cloud (${GCP_INPUTS.provider})`,
          env: options.env,
          getIDToken: options.getIDToken,
          mask,
        })
        return lastSubjectToken
      },
    },
  })
  const context: ErrorContext = { provider, serviceAccount, audience, subjectToken: () => lastSubjectToken }
  const session = new Session(
    client,
    provider,
    serviceAccount,
    universe,
    endpoints,
    mask,
    context,
    options.logger,
  )
  await session.refresh()
  return session
}

function validateServiceAccount(value: string | undefined): string | undefined {
  const sa = value?.trim()
  if (!sa) return undefined
  if (!SERVICE_ACCOUNT.test(sa)) {
    throw new InputError(
      GCP_INPUTS.serviceAccount,
      `'${sa}' is not a service account email; use NAME@PROJECT_ID.iam.gserviceaccount.com.`,
    )
  }
  return sa
}

interface ErrorContext {
  provider: WorkloadIdentityProvider
  serviceAccount: string | undefined
  audience: string
  subjectToken: () => string
}

class Session implements GcpSession {
  private token = ''
  private expiry: Date | undefined

  constructor(
    readonly client: BaseExternalAccountClient,
    readonly provider: WorkloadIdentityProvider,
    readonly serviceAccount: string | undefined,
    readonly universe: string,
    readonly endpoints: GcpEndpoints,
    private readonly mask: Mask,
    private readonly context: ErrorContext,
    private readonly logger: Logger = new NullLogger(),
  ) {}

  accessToken(): string {
    return this.token
  }

  expiresAt(): Date | undefined {
    return this.expiry
  }

  dockerCredentials(registryHost: string): DockerCredentials {
    return {
      registry: registryHost,
      username: 'oauth2accesstoken',
      password: this.token,
      expiresAt: this.expiry,
    }
  }

  async refreshIfExpiring(minRemainingSeconds: number): Promise<boolean> {
    if (this.expiry && this.expiry.getTime() - Date.now() > minRemainingSeconds * 1000) return false
    await this.refresh(minRemainingSeconds)
    return true
  }

  /** Fetches a token; `minRemainingSeconds` makes the library treat a token that expires sooner as expired. */
  async refresh(minRemainingSeconds = 0): Promise<void> {
    // Raised only for this call: left high, every later client.request() would mint a new token.
    const usual = this.client.eagerRefreshThresholdMillis
    this.client.eagerRefreshThresholdMillis = Math.max(minRemainingSeconds * 1000, 1)
    let token: string | null | undefined
    try {
      token = (await this.client.getAccessToken()).token
    } catch (error) {
      throw exchangeError(error, this.context)
    } finally {
      this.client.eagerRefreshThresholdMillis = usual
    }
    if (!token) throw new ActionError('Google returned no access token for the workload identity federation.')
    this.mask(token)
    this.token = token
    const expiry = this.client.credentials.expiry_date
    this.expiry = typeof expiry === 'number' ? new Date(expiry) : undefined
    this.logger.info(
      `Google access token obtained${this.serviceAccount ? ` for ${this.serviceAccount}` : ' (direct workload identity federation)'}` +
        `${this.expiry ? `, valid until ${this.expiry.toISOString()}` : ''}`,
    )
  }
}

/** Turns token exchange / impersonation failures into messages that say what to fix. */
function exchangeError(error: unknown, c: ErrorContext): ActionError {
  if (error instanceof ActionError) return error
  const info = googleErrorInfo(error)
  const reason = info.message
  const stage = info.url?.includes(':generateAccessToken') ? 'impersonation' : 'exchange'
  if (stage === 'impersonation') return impersonationError(info.status, reason, c)
  const claims = decodeJwtClaims(c.subjectToken()) ?? {}
  const seen = ['repository', 'ref', 'sub']
    .filter((k) => typeof claims[k] === 'string')
    .map((k) => `${k}=${String(claims[k])}`)
    .join(', ')
  const token = seen ? ` GitHub's token had ${seen}.` : ''
  if (/invalid_target/.test(reason)) {
    return new InputError(
      GCP_INPUTS.provider,
      `Google STS does not know the provider '${c.provider.name}' (${reason}). Check the project number, pool and ` +
        'provider IDs, and that neither the pool nor the provider is disabled or deleted.',
    )
  }
  if (/attribute condition/i.test(reason)) {
    return new InputError(
      GCP_INPUTS.provider,
      `The provider's attribute condition rejected this workflow (${reason}).${token} Widen the condition ` +
        "(e.g. assertion.repository_owner == 'OWNER') or run from an allowed repository or branch.",
    )
  }
  if (/audience/i.test(reason)) {
    return new InputError(
      GCP_INPUTS.audience,
      `Google STS rejected the token audience '${c.audience}' (${reason}). Either leave '${GCP_INPUTS.audience}' ` +
        "unset and the provider's allowed audiences empty, or set it to one of the provider's allowed audiences.",
    )
  }
  return new ActionError(
    `Google STS refused the GitHub OIDC token for '${c.provider.name}' (${reason}).${token} Check the provider's ` +
      'issuer (https://token.actions.githubusercontent.com), attribute mapping and condition.',
  )
}

function impersonationError(status: number | undefined, reason: string, c: ErrorContext): ActionError {
  const sa = c.serviceAccount ?? ''
  const principal = `principalSet://iam.googleapis.com/projects/${c.provider.projectNumber}/locations/global/workloadIdentityPools/${c.provider.pool}/attribute.repository/OWNER/REPO`
  if (status === 403 || status === 404) {
    return new InputError(
      GCP_INPUTS.serviceAccount,
      `Could not impersonate '${sa}' (${reason}). The service account must exist, the IAM Service Account ` +
        `Credentials API must be enabled, and the pool's identities need roles/iam.workloadIdentityUser on it: ` +
        `gcloud iam service-accounts add-iam-policy-binding ${sa} --role=roles/iam.workloadIdentityUser ` +
        `--member='${principal}'. New bindings can take 5 minutes to apply.`,
    )
  }
  return new ActionError(`Could not impersonate '${sa}' (${reason}).`)
}
