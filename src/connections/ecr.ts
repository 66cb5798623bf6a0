import { readFile } from 'node:fs/promises'
import type { AwsCredentials } from '../cloud/aws/credentials.js'
import type { EcrConnection, TagMutability } from '../cloud/aws/ecr.js'
import { ecrRepositoryName, type EcrPublicRegistry, type EcrRegistry } from '../registry/hosts.js'
import type { DockerCredentials } from '../cloud/types.js'
import { dockerLogin } from '../docker/login.js'
import { InputError } from '../errors.js'
import type { Logger } from '../log.js'
import { checkImage } from '../registry/check.js'
import type { RegistryConnection } from './connection.js'

/**
 * ECR: credentials from an assumed role (GitHub OIDC -> STS) or the SDK's default chain, the existence check
 * through the ECR API (no docker needed), the repository created on demand, and `docker login` with a token
 * from GetAuthorizationToken. The AWS SDK is imported only here, lazily, so other registries never load it.
 */
export interface AwsInputs {
  region: string
  roleToAssume: string
  roleSessionName: string
  roleDurationSeconds?: number
  audience: string
}

export interface EcrRepositoryInputs {
  createRepository: boolean
  scanOnPush: boolean
  tagMutability: TagMutability
  kmsKey: string
  tags: Record<string, string>
  lifecyclePolicyFile: string
}

async function awsCredentials(aws: AwsInputs, region: string, logger: Logger): Promise<AwsCredentials> {
  const { getAwsCredentials } = await import('../cloud/aws/credentials.js')
  return getAwsCredentials({
    region: aws.region || region,
    ...(aws.roleToAssume ? { roleToAssume: aws.roleToAssume } : {}),
    ...(aws.roleSessionName ? { roleSessionName: aws.roleSessionName } : {}),
    ...(aws.roleDurationSeconds !== undefined ? { roleDurationSeconds: aws.roleDurationSeconds } : {}),
    ...(aws.audience ? { audience: aws.audience } : {}),
    logger,
  })
}

async function lifecyclePolicy(file: string): Promise<string | undefined> {
  if (!file) return undefined
  try {
    const text = await readFile(file, 'utf8')
    JSON.parse(text)
    return text
  } catch (err) {
    throw new InputError(
      'ecr-lifecycle-policy',
      `cannot use '${file}': ${err instanceof SyntaxError ? 'it is not valid JSON' : 'file not found'}`,
    )
  }
}

export async function ecrConnection(
  registry: string,
  parsed: EcrRegistry,
  aws: AwsInputs,
  repo: EcrRepositoryInputs,
  logger: Logger,
): Promise<RegistryConnection> {
  const creds = await awsCredentials(aws, parsed.region, logger)
  const ecrModule = await import('../cloud/aws/ecr.js')
  const ecr: EcrConnection = ecrModule.connectEcr(parsed, creds)
  let login: DockerCredentials | undefined
  return {
    registry,
    describe: `ECR ${parsed.accountId} ${parsed.region} (${creds.source === 'assumed-role' ? `role ${aws.roleToAssume}` : 'default AWS credentials'})`,
    api: { kind: 'ecr', ecr, repository: (name) => ecrRepositoryName(parsed, name) },
    check: (name, tag) => ecrModule.checkImageViaEcr(ecr, ecrRepositoryName(parsed, name), tag),
    prepareRepository: async (name) => {
      if (!repo.createRepository) return { immutable: false }
      const policy = await lifecyclePolicy(repo.lifecyclePolicyFile)
      const result = await ecrModule.ensureRepository(ecr, ecrRepositoryName(parsed, name), {
        tagMutability: repo.tagMutability,
        scanOnPush: repo.scanOnPush,
        ...(repo.kmsKey ? { kmsKey: repo.kmsKey } : {}),
        tags: repo.tags,
        ...(policy ? { lifecyclePolicy: policy } : {}),
        logger,
      })
      if (result.created) logger.info(`Created ECR repository ${ecrRepositoryName(parsed, name)}`)
      return { immutable: result.immutable }
    },
    loginForPush: async (configDir) => {
      // ECR tokens last 12 hours: one per job is enough.
      login ??= await ecrModule.getEcrLoginCredentials(ecr)
      await dockerLogin({
        registry: parsed.host,
        username: login.username,
        password: login.password,
        configDir,
        logger,
      })
    },
  }
}

/** ECR Public: login through its own API (us-east-1); existence is checked over the registry API. */
export async function ecrPublicConnection(
  registry: string,
  parsed: EcrPublicRegistry,
  aws: AwsInputs,
  logger: Logger,
): Promise<RegistryConnection> {
  const creds = await awsCredentials(aws, 'us-east-1', logger)
  const { getEcrPublicLoginCredentials } = await import('../cloud/aws/ecr.js')
  const login = await getEcrPublicLoginCredentials(creds)
  const credentials = { kind: 'basic', username: login.username, password: login.password } as const
  return {
    registry,
    describe: `ECR Public ${parsed.path}`,
    api: { kind: 'distribution', credentials: async () => credentials },
    check: (name, tag) => checkImage(`${registry}/${name}:${tag}`, { credentials, logger }),
    prepareRepository: async () => ({ immutable: false }),
    loginForPush: (configDir) =>
      dockerLogin({
        registry: 'public.ecr.aws',
        username: login.username,
        password: login.password,
        configDir,
        logger,
      }),
  }
}
