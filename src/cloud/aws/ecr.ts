import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  PutLifecyclePolicyCommand,
  type CreateRepositoryCommandInput,
  type EncryptionType,
  type Repository,
} from '@aws-sdk/client-ecr'
import { ActionError, InputError } from '../../errors.js'
import { NullLogger, type Logger } from '../../log.js'
import type { EcrRegistry } from '../../registry/hosts.js'
import { maskInLog } from '../secrets.js'
import type { DockerCredentials, Mask } from '../types.js'
import type { AwsCredentials } from './credentials.js'
import { awsErrorInfo, deniedAction, isAccessDenied, type AwsErrorInfo } from './errors.js'

/** Input names the ECR messages point users at. */
export const ECR_INPUTS = {
  createRepository: 'create-repository',
  tagMutability: 'ecr-tag-mutability',
  scanOnPush: 'ecr-scan-on-push',
  kmsKey: 'ecr-kms-key',
  tags: 'ecr-repository-tags',
  lifecyclePolicy: 'ecr-lifecycle-policy',
} as const

/** One private ECR registry (an account in a region) and the client that talks to its API. */
export interface EcrConnection {
  client: ECRClient
  region: string
  /** The account that owns the registry; cross-account pushes name it explicitly. */
  registryId: string
  /** The registry host images are pushed to (the docker login target). */
  host: string
}

/**
 * A client for the registry's own account and region. FIPS and dual-stack registry hosts get the matching API
 * endpoints, so traffic stays on the network path the user chose. An endpoint set through
 * `AWS_ENDPOINT_URL_ECR` / `AWS_ENDPOINT_URL` (a VPC endpoint, say) wins, and then the flags must stay off: the
 * SDK refuses "FIPS and custom endpoint" together.
 */
export function connectEcr(
  registry: EcrRegistry,
  credentials: AwsCredentials,
  env: NodeJS.ProcessEnv = process.env,
): EcrConnection {
  const customEndpoint = Boolean(env.AWS_ENDPOINT_URL_ECR || env.AWS_ENDPOINT_URL)
  const client = new ECRClient({
    region: registry.region,
    credentials: sdkCredentials(credentials),
    ...(customEndpoint ? {} : { useFipsEndpoint: registry.fips, useDualstackEndpoint: registry.dualStack }),
  })
  return { client, region: registry.region, registryId: registry.accountId, host: registry.host }
}

export function sdkCredentials(c: AwsCredentials) {
  return {
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    sessionToken: c.sessionToken,
    expiration: c.expiration,
  }
}

/**
 * `docker login` credentials for a private registry: GetAuthorizationToken decodes to `AWS:<password>`. Both the
 * password and the base64 token are masked (docker's config.json stores exactly that base64 string). The
 * account ID is left visible on purpose: masking it would turn every image URI output into `***`, and GitHub
 * drops masked job outputs.
 */
export async function getEcrLoginCredentials(
  ecr: EcrConnection,
  mask: Mask = maskInLog,
): Promise<DockerCredentials> {
  try {
    const out = await ecr.client.send(new GetAuthorizationTokenCommand({ registryIds: [ecr.registryId] }))
    const data = out.authorizationData?.[0]
    return decodeAuthorizationToken(data?.authorizationToken, ecr.host, data?.expiresAt, mask)
  } catch (error) {
    throw ecrError(error, 'get a login token for', ecr.host, 'ecr:GetAuthorizationToken')
  }
}

/** ECR Public's login (`public.ecr.aws`); its API lives only in us-east-1. The SDK loads only when needed. */
export async function getEcrPublicLoginCredentials(
  credentials: AwsCredentials,
  mask: Mask = maskInLog,
): Promise<DockerCredentials> {
  const { ECRPUBLICClient, GetAuthorizationTokenCommand: PublicTokenCommand } =
    await import('@aws-sdk/client-ecr-public')
  const client = new ECRPUBLICClient({ region: 'us-east-1', credentials: sdkCredentials(credentials) })
  try {
    const out = await client.send(new PublicTokenCommand({}))
    const data = out.authorizationData
    return decodeAuthorizationToken(data?.authorizationToken, 'public.ecr.aws', data?.expiresAt, mask)
  } catch (error) {
    throw ecrError(
      error,
      'get a login token for',
      'public.ecr.aws',
      'ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken',
    )
  } finally {
    client.destroy()
  }
}

function decodeAuthorizationToken(
  token: string | undefined,
  registry: string,
  expiresAt: Date | undefined,
  mask: Mask,
): DockerCredentials {
  if (!token) throw new ActionError(`ECR returned no authorization token for ${registry}.`)
  mask(token)
  const decoded = Buffer.from(token, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0)
    throw new ActionError(`ECR returned an authorization token for ${registry} in an unknown format.`)
  const password = decoded.slice(colon + 1)
  mask(password)
  return { registry, username: decoded.slice(0, colon), password, expiresAt }
}

export type TagMutability = 'MUTABLE' | 'IMMUTABLE'

export interface EnsureRepositoryOptions {
  /** Only used when the repository is created. Default MUTABLE. */
  tagMutability?: TagMutability
  /** Default true: scanning on push costs nothing for basic scanning and catches known CVEs early. */
  scanOnPush?: boolean
  /** A KMS key ARN, ID or alias; turns on KMS encryption. Only used when the repository is created. */
  kmsKey?: string
  /** Explicit encryption type; defaults to KMS when `kmsKey` is set, AES256 otherwise. */
  encryptionType?: EncryptionType
  /** Resource tags for a new repository. */
  tags?: Record<string, string>
  /** Lifecycle policy JSON, applied to new and existing repositories (it is idempotent). */
  lifecyclePolicy?: string
  logger?: Logger
}

export interface EnsureRepositoryResult {
  created: boolean
  /** The repository refuses to overwrite tags: re-pushing an existing tag fails. */
  immutable: boolean
}

// ECR's documented repository name pattern.
const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/

/**
 * Makes sure `name` exists. ECR has no create-on-push, so a first push to a new name fails with "name unknown";
 * creating it here removes that step. Looking it up first keeps the common case (it exists) to one read-only
 * call that needs no create permission.
 */
export async function ensureRepository(
  ecr: EcrConnection,
  name: string,
  options: EnsureRepositoryOptions = {},
): Promise<EnsureRepositoryResult> {
  validateRepositoryName(name)
  const policy =
    options.lifecyclePolicy === undefined ? undefined : validateLifecyclePolicy(options.lifecyclePolicy)
  const logger = options.logger ?? new NullLogger()
  let repository = await describeRepository(ecr, name)
  let created = false
  if (repository) {
    warnOnIgnoredSettings(repository, options, logger)
  } else {
    const outcome = await createRepository(ecr, name, options)
    created = outcome.created
    // Lost a race with a parallel job: read what that job created.
    repository = outcome.repository ?? (await describeRepository(ecr, name))
    logger.info(
      created ? `Created ECR repository ${name}` : `ECR repository ${name} was created by another job`,
    )
  }
  if (policy !== undefined) await putLifecyclePolicy(ecr, name, policy)
  return { created, immutable: isImmutable(repository?.imageTagMutability) }
}

function isImmutable(mutability: string | undefined): boolean {
  return mutability?.startsWith('IMMUTABLE') ?? false
}

function validateRepositoryName(name: string): void {
  if (name.length >= 2 && name.length <= 256 && REPOSITORY_NAME.test(name)) return
  throw new ActionError(
    `'${name}' is not a valid ECR repository name: it must be 2 to 256 lower-case letters, digits and ` +
      "'.', '_', '-' separators, with '/' between path parts. Lower-case the image name and the registry path.",
  )
}

function validateLifecyclePolicy(text: string): string {
  try {
    JSON.parse(text)
    return text
  } catch (error) {
    throw new InputError(ECR_INPUTS.lifecyclePolicy, `is not valid JSON (${(error as Error).message}).`)
  }
}

async function describeRepository(ecr: EcrConnection, name: string): Promise<Repository | undefined> {
  try {
    const out = await ecr.client.send(
      new DescribeRepositoriesCommand({ registryId: ecr.registryId, repositoryNames: [name] }),
    )
    return out.repositories?.[0]
  } catch (error) {
    if (awsErrorInfo(error).name === 'RepositoryNotFoundException') return undefined
    throw ecrError(
      error,
      'look up the repository',
      `${ecr.host}/${name}`,
      'ecr:DescribeRepositories',
      createHint(ecr, name),
    )
  }
}

async function createRepository(
  ecr: EcrConnection,
  name: string,
  options: EnsureRepositoryOptions,
): Promise<{ created: boolean; repository?: Repository }> {
  try {
    const out = await ecr.client.send(new CreateRepositoryCommand(createInput(ecr, name, options)))
    return { created: true, repository: out.repository }
  } catch (error) {
    const info = awsErrorInfo(error)
    if (info.name === 'RepositoryAlreadyExistsException') return { created: false }
    throw createError(error, info, ecr, name)
  }
}

function createInput(
  ecr: EcrConnection,
  name: string,
  o: EnsureRepositoryOptions,
): CreateRepositoryCommandInput {
  const encryptionType = o.encryptionType ?? (o.kmsKey ? 'KMS' : 'AES256')
  return {
    registryId: ecr.registryId,
    repositoryName: name,
    imageTagMutability: o.tagMutability ?? 'MUTABLE',
    imageScanningConfiguration: { scanOnPush: o.scanOnPush ?? true },
    encryptionConfiguration: { encryptionType, ...(o.kmsKey ? { kmsKey: o.kmsKey } : {}) },
    tags: Object.entries(o.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
  }
}

function createError(error: unknown, info: AwsErrorInfo, ecr: EcrConnection, name: string): ActionError {
  const reason = `${info.name}: ${info.message}`
  if (info.name === 'KmsException') {
    return new InputError(
      ECR_INPUTS.kmsKey,
      `ECR could not use the KMS key for ${name} (${reason}). Check the key exists in ${ecr.region} and that ` +
        'the role may use it (kms:CreateGrant, kms:DescribeKey, kms:Encrypt, kms:Decrypt, kms:GenerateDataKey*).',
    )
  }
  if (info.name === 'InvalidTagParameterException' || info.name === 'TooManyTagsException') {
    return new InputError(ECR_INPUTS.tags, `ECR refused the repository tags (${reason}).`)
  }
  if (info.name === 'LimitExceededException') {
    return new ActionError(
      `ECR could not create ${name} because the account is at a service quota (${reason}). Raise the ` +
        `quota or delete unused repositories, or set '${ECR_INPUTS.createRepository}: false'.`,
    )
  }
  return ecrError(
    error,
    'create the repository',
    `${ecr.host}/${name}`,
    'ecr:CreateRepository',
    createHint(ecr, name),
  )
}

function createHint(ecr: EcrConnection, name: string): string {
  return (
    `Or set '${ECR_INPUTS.createRepository}: false' and create it once yourself: ` +
    `aws ecr create-repository --repository-name ${name} --region ${ecr.region}.`
  )
}

function warnOnIgnoredSettings(repository: Repository, o: EnsureRepositoryOptions, logger: Logger): void {
  const name = repository.repositoryName ?? ''
  if (o.tagMutability && isImmutable(repository.imageTagMutability) !== (o.tagMutability === 'IMMUTABLE')) {
    logger.warning(
      `ECR repository ${name} already exists with tag mutability ${repository.imageTagMutability ?? 'unknown'}; ` +
        `'${ECR_INPUTS.tagMutability}: ${o.tagMutability}' only applies to repositories the action creates.`,
    )
  }
  if (o.kmsKey && repository.encryptionConfiguration?.kmsKey !== o.kmsKey) {
    logger.warning(
      `ECR repository ${name} already exists with other encryption settings; '${ECR_INPUTS.kmsKey}' only ` +
        'applies to repositories the action creates (encryption cannot be changed afterwards).',
    )
  }
}

async function putLifecyclePolicy(ecr: EcrConnection, name: string, policy: string): Promise<void> {
  try {
    await ecr.client.send(
      new PutLifecyclePolicyCommand({
        registryId: ecr.registryId,
        repositoryName: name,
        lifecyclePolicyText: policy,
      }),
    )
  } catch (error) {
    const info = awsErrorInfo(error)
    if (info.name === 'InvalidParameterException') {
      throw new InputError(ECR_INPUTS.lifecyclePolicy, `ECR rejected the policy (${info.message}).`)
    }
    throw ecrError(
      error,
      'set the lifecycle policy of',
      `${ecr.host}/${name}`,
      'ecr:PutLifecyclePolicy',
      `Or remove '${ECR_INPUTS.lifecyclePolicy}'.`,
    )
  }
}

export type ImageCheck = { exists: true; digest: string } | { exists: false }

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
]

/**
 * Whether `repository:tag` exists, through the ECR API (no docker, no registry round trip). Fails closed: only
 * "no such repository" and "no such image" mean "absent"; anything else throws, because treating an error as
 * "exists" skips a build and ships a stale or missing image.
 */
export async function checkImageViaEcr(
  ecr: EcrConnection,
  repository: string,
  tag: string,
): Promise<ImageCheck> {
  try {
    return await batchGetImage(ecr, repository, tag)
  } catch (error) {
    // Pull-style policies grant BatchGetImage, read-only ones DescribeImages: accept either.
    if (!isAccessDenied(awsErrorInfo(error))) throw checkError(error, ecr, repository, tag)
    try {
      return await describeImage(ecr, repository, tag)
    } catch (second) {
      throw checkError(second, ecr, repository, tag)
    }
  }
}

async function batchGetImage(ecr: EcrConnection, repository: string, tag: string): Promise<ImageCheck> {
  try {
    const out = await ecr.client.send(
      new BatchGetImageCommand({
        registryId: ecr.registryId,
        repositoryName: repository,
        imageIds: [{ imageTag: tag }],
        acceptedMediaTypes: MANIFEST_TYPES,
      }),
    )
    const digest = out.images?.[0]?.imageId?.imageDigest
    if (digest) return { exists: true, digest }
    const failure = out.failures?.[0]
    if (!failure || failure.failureCode === 'ImageNotFound') return { exists: false }
    throw new ActionError(
      `ECR could not report on ${ecr.host}/${repository}:${tag} (${failure.failureCode ?? 'unknown'}: ` +
        `${failure.failureReason ?? 'no reason given'}); not building blind, so the step stops here.`,
    )
  } catch (error) {
    if (awsErrorInfo(error).name === 'RepositoryNotFoundException') return { exists: false }
    throw error
  }
}

async function describeImage(ecr: EcrConnection, repository: string, tag: string): Promise<ImageCheck> {
  try {
    const out = await ecr.client.send(
      new DescribeImagesCommand({
        registryId: ecr.registryId,
        repositoryName: repository,
        imageIds: [{ imageTag: tag }],
      }),
    )
    const digest = out.imageDetails?.[0]?.imageDigest
    return digest ? { exists: true, digest } : { exists: false }
  } catch (error) {
    const name = awsErrorInfo(error).name
    if (name === 'ImageNotFoundException' || name === 'RepositoryNotFoundException') return { exists: false }
    throw error
  }
}

function checkError(error: unknown, ecr: EcrConnection, repository: string, tag: string): ActionError {
  if (error instanceof ActionError) return error
  const info = awsErrorInfo(error)
  if (isAccessDenied(info)) {
    return new ActionError(
      `Not allowed to check whether ${ecr.host}/${repository}:${tag} exists (${info.name}: ${info.message}). ` +
        `Grant the role ecr:BatchGetImage (or ecr:DescribeImages) on the repository. The action does not ` +
        'guess "exists" on errors, because that would skip a needed build.',
    )
  }
  return ecrError(error, 'check for the image', `${ecr.host}/${repository}:${tag}`, 'ecr:BatchGetImage')
}

/**
 * An ActionError for a failed ECR call. AccessDenied names the IAM action and the fix; everything else keeps
 * AWS's own code and message, which name the problem well enough.
 */
function ecrError(
  error: unknown,
  doing: string,
  what: string,
  permission: string,
  hint?: string,
): ActionError {
  if (error instanceof ActionError) return error
  const info = awsErrorInfo(error)
  const reason = `${info.name}: ${info.message}`
  if (isAccessDenied(info)) {
    const action = deniedAction(info.message) ?? permission
    const sentences = [`Not allowed to ${doing} ${what} (${reason}).`, `Grant the role ${action}.`]
    if (hint) sentences.push(hint)
    return new ActionError(sentences.join(' '))
  }
  if (info.name === 'UnrecognizedClientException' || info.name === 'InvalidSignatureException') {
    return new ActionError(
      `AWS did not accept the credentials while trying to ${doing} ${what} (${reason}). If keys come from an ` +
        "earlier step, check they are current; with 'aws-role-to-assume' this points at a clock or region problem.",
    )
  }
  return new ActionError(`Could not ${doing} ${what} (${reason}).`)
}
