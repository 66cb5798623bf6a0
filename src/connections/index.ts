import { parseRegistry } from '../registry/hosts.js'
import type { Logger } from '../log.js'
import type { RegistryConnection } from './connection.js'
import { ecrConnection, ecrPublicConnection, type AwsInputs, type EcrRepositoryInputs } from './ecr.js'
import { garConnection, type GcpInputs } from './gar.js'
import { ghcrLogin, ghcrPackagesApi, passwordConnection } from './password.js'

export type { RegistryApi, RegistryConnection } from './connection.js'

export interface AuthInputs {
  username: string
  password: string
  githubToken: string
  actor: string
  aws: AwsInputs
  ecr: EcrRepositoryInputs
  gcp: GcpInputs
}

/**
 * Picks how to reach a registry from its host: ECR and ECR Public through AWS, Artifact Registry through
 * Google, ghcr.io with the job's token, anything else with the username/password inputs or the runner's own
 * Docker credentials. An explicit password always wins over cloud credentials for non-cloud hosts.
 */
export async function connectRegistry(
  registry: string,
  inputs: AuthInputs,
  ambientConfigDir: string,
  jobConfigDir: () => Promise<string>,
  logger: Logger,
): Promise<RegistryConnection> {
  const parsed = parseRegistry(registry)
  switch (parsed.kind) {
    case 'ecr':
      return ecrConnection(registry, parsed, inputs.aws, inputs.ecr, logger)
    case 'ecr-public':
      return ecrPublicConnection(registry, parsed, inputs.aws, logger)
    case 'gar':
      return garConnection(registry, parsed, inputs.gcp, jobConfigDir, logger)
    case 'ghcr':
      return passwordConnection(
        registry,
        ghcrLogin(inputs.username, inputs.password, inputs.githubToken, inputs.actor),
        ambientConfigDir,
        logger,
        ghcrPackagesApi(inputs.githubToken),
      )
    default: {
      const login = inputs.password
        ? {
            username: inputs.username,
            password: inputs.password,
            hint: "check the 'username' and 'password' inputs",
          }
        : undefined
      return passwordConnection(registry, login, ambientConfigDir, logger)
    }
  }
}
