import { garImageTarget, type GarRegistry } from '../registry/hosts.js'
import { configureCredHelper, dockerLogin } from '../docker/login.js'
import { InputError } from '../errors.js'
import type { Logger } from '../log.js'
import { checkImage } from '../registry/check.js'
import { resolveCredentials } from '../registry/docker-config.js'
import type { RegistryConnection } from './connection.js'

/**
 * Google Artifact Registry: a GitHub OIDC token exchanged through workload identity federation (optionally
 * impersonating a service account) for an access token, or the gcloud credential helper with the runner's own
 * credentials. google-auth-library is imported only here, lazily.
 */
export interface GcpInputs {
  auth: 'auto' | 'gcloud'
  workloadIdentityProvider: string
  serviceAccount: string
  universe: string
  audience: string
  createRepository: boolean
}

// Refresh before a push when the token has less than this left: a long build may have outlived it.
const MIN_TOKEN_SECONDS = 10 * 60

export async function garConnection(
  registry: string,
  parsed: GarRegistry,
  gcp: GcpInputs,
  jobConfigDir: () => Promise<string>,
  logger: Logger,
): Promise<RegistryConnection> {
  if (gcp.auth === 'gcloud') return gcloudConnection(registry, parsed, jobConfigDir, logger)
  if (!gcp.workloadIdentityProvider) {
    throw new InputError(
      'gcp-workload-identity-provider',
      `${parsed.host} is Artifact Registry: set gcp-workload-identity-provider (and usually gcp-service-account), or gcp-auth: gcloud to use credentials already on the runner`,
    )
  }
  const { authenticateGcp } = await import('../cloud/gcp/credentials.js')
  const session = await authenticateGcp({
    workloadIdentityProvider: gcp.workloadIdentityProvider,
    ...(gcp.serviceAccount ? { serviceAccount: gcp.serviceAccount } : {}),
    ...(gcp.universe ? { universe: gcp.universe } : {}),
    ...(gcp.audience ? { audience: gcp.audience } : {}),
    logger,
  })
  const basic = () => {
    const c = session.dockerCredentials(parsed.host)
    return { kind: 'basic', username: c.username, password: c.password } as const
  }
  return {
    registry,
    describe: `Artifact Registry ${parsed.host} as ${gcp.serviceAccount || 'the workload identity'}`,
    shortLivedCredentials: true,
    api: {
      kind: 'gar',
      session,
      target: (name) => garImageTarget(parsed, name),
      credentials: async () => basic(),
    },
    check: (name, tag) => checkImage(`${registry}/${name}:${tag}`, { credentials: basic(), logger }),
    prepareRepository: async (name) => {
      if (!gcp.createRepository) return { immutable: false }
      const { ensureGarRepository } = await import('../cloud/gcp/artifact-registry.js')
      const target = garImageTarget(parsed, name)
      const result = await ensureGarRepository(session, target, { logger })
      if (result.created)
        logger.info(`Created Artifact Registry repository ${target.repository} in ${target.location}`)
      return { immutable: result.immutable }
    },
    loginForPush: async (configDir) => {
      if (await session.refreshIfExpiring(MIN_TOKEN_SECONDS))
        logger.info('Refreshed the Google access token before the push')
      const c = session.dockerCredentials(parsed.host)
      await dockerLogin({
        registry: parsed.host,
        username: c.username,
        password: c.password,
        configDir,
        logger,
      })
    },
  }
}

/** `gcp-auth: gcloud`: the gcloud credential helper for exactly this registry host, in the job's config. */
async function gcloudConnection(
  registry: string,
  parsed: GarRegistry,
  jobConfigDir: () => Promise<string>,
  logger: Logger,
): Promise<RegistryConnection> {
  const configDir = await jobConfigDir()
  await configureCredHelper(configDir, parsed.host, 'gcloud')
  return {
    registry,
    describe: `Artifact Registry ${parsed.host} through the gcloud credential helper`,
    api: { kind: 'distribution', credentials: () => resolveCredentials(configDir, parsed.host, { logger }) },
    check: (name, tag) => checkImage(`${registry}/${name}:${tag}`, { configDir, logger }),
    prepareRepository: async () => ({ immutable: false }),
    loginForPush: async () => {},
  }
}
