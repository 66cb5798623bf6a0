import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { getAwsCredentials, type AwsCredentials } from '../../src/cloud/aws/credentials.js'
import {
  checkImageViaEcr,
  connectEcr,
  ensureRepository,
  getEcrLoginCredentials,
  getEcrPublicLoginCredentials,
  type EcrConnection,
} from '../../src/cloud/aws/ecr.js'
import { ecrRepositoryName, parseRegistry, type EcrRegistry } from '../../src/registry/hosts.js'
import { ActionError } from '../../src/errors.js'
import * as awsEcr from '../support/standins/aws-ecr.js'
import * as awsEcrPublic from '../support/standins/aws-ecr-public.js'
import * as awsSts from '../support/standins/aws-sts.js'
import * as githubOidc from '../support/standins/github-oidc.js'
import { recordingMask, rejectionOf } from '../support/secrets.js'

// The real AWS SDK end to end: GitHub OIDC token -> STS AssumeRoleWithWebIdentity -> SigV4-signed ECR calls,
// every service played by a loopback stand-in speaking the real wire protocol.

const ROLE = 'arn:aws:iam::123456789012:role/gha-push'
const REGISTRY = '123456789012.dkr.ecr.us-west-2.amazonaws.com/team'
const saved = { ...process.env }
let oidc: githubOidc.GitHubOidcStandIn
let sts: awsSts.StsStandIn
let ecrServer: awsEcr.EcrStandIn
let mask: ReturnType<typeof recordingMask>

beforeAll(async () => {
  oidc = await githubOidc.start()
  sts = await awsSts.start()
})
afterAll(async () => {
  await oidc.close()
  await sts.close()
})

beforeEach(() => {
  for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key]
  Object.assign(process.env, oidc.env, { AWS_ENDPOINT_URL_STS: sts.url, GITHUB_EVENT_NAME: 'push' })
  mask = recordingMask()
})
afterEach(async () => {
  process.env = { ...saved }
  await ecrServer?.close()
})

async function startEcr(options: awsEcr.EcrOptions = {}): Promise<void> {
  ecrServer = await awsEcr.start({
    region: 'us-west-2',
    // Only the keys STS handed out are good: proves the SDK signed with the assumed role's credentials.
    acceptCredentials: (key, token) =>
      sts.issued.some((c) => c.accessKeyId === key && c.sessionToken === token),
    ...options,
  })
  process.env.AWS_ENDPOINT_URL_ECR = ecrServer.url
}

async function login(
  registry = REGISTRY,
): Promise<{ creds: AwsCredentials; ecr: EcrConnection; parsed: EcrRegistry }> {
  const parsed = parseRegistry(registry) as EcrRegistry
  const creds = await getAwsCredentials({ region: parsed.region, roleToAssume: ROLE, mask })
  return { creds, ecr: connectEcr(parsed, creds), parsed }
}

function allSecrets(): string[] {
  return [
    oidc.requestToken,
    ...oidc.calls.flatMap((c) => (c.token ? [c.token] : [])),
    ...sts.issued.flatMap((c) => [c.secretAccessKey, c.sessionToken]),
    ecrServer.password,
    Buffer.from(`AWS:${ecrServer.password}`).toString('base64'),
  ]
}

it('assumes the role and gets an ECR login signed with the STS credentials', async () => {
  await startEcr({ password: 'htpasswd-matching-password-123' })
  const { creds, ecr } = await login()
  const docker = await getEcrLoginCredentials(ecr, mask)
  expect(docker).toMatchObject({
    registry: '123456789012.dkr.ecr.us-west-2.amazonaws.com',
    username: 'AWS',
    password: 'htpasswd-matching-password-123',
  })
  expect(docker.expiresAt?.getTime()).toBeGreaterThan(Date.now())
  const call = ecrServer.calls[0]
  expect(call).toMatchObject({
    operation: 'GetAuthorizationToken',
    accessKeyId: creds.accessKeyId,
    scope: { region: 'us-west-2', service: 'ecr' },
    input: { registryIds: ['123456789012'] },
    status: 200,
  })
  expect(mask.values).toEqual(expect.arrayContaining([creds.secretAccessKey, docker.password]))
  expect(mask.values.some((v) => v.includes('123456789012'))).toBe(false)
})

it('creates the repository once, then finds it', async () => {
  await startEcr()
  const { ecr, parsed } = await login()
  const name = ecrRepositoryName(parsed, 'app')
  expect(name).toBe('team/app')
  await expect(ensureRepository(ecr, name, { tags: { owner: 'ml' } })).resolves.toEqual({
    created: true,
    immutable: false,
  })
  await expect(ensureRepository(ecr, name)).resolves.toEqual({ created: false, immutable: false })
  expect(ecrServer.calls.map((c) => `${c.operation}:${c.errorType ?? c.status}`)).toEqual([
    'DescribeRepositories:RepositoryNotFoundException',
    'CreateRepository:200',
    'DescribeRepositories:200',
  ])
  expect(ecrServer.repositories.get('team/app')).toMatchObject({
    scanOnPush: true,
    tags: [{ Key: 'owner', Value: 'ml' }],
  })
})

it('treats RepositoryAlreadyExistsException from a parallel job as success and reports IMMUTABLE', async () => {
  await startEcr({
    onCall: (call, state) => {
      // Another matrix job creates the repository between our lookup and our create.
      if (call.operation === 'CreateRepository' && !state.repositories.has('team/app')) {
        state.repositories.set(
          'team/app',
          awsEcr.repository({ repositoryName: 'team/app', imageTagMutability: 'IMMUTABLE' }),
        )
      }
    },
  })
  const { ecr } = await login()
  await expect(ensureRepository(ecr, 'team/app')).resolves.toEqual({ created: false, immutable: true })
  expect(ecrServer.calls.map((c) => `${c.operation}:${c.errorType ?? c.status}`)).toEqual([
    'DescribeRepositories:RepositoryNotFoundException',
    'CreateRepository:RepositoryAlreadyExistsException',
    'DescribeRepositories:200',
  ])
})

it('creates an IMMUTABLE, KMS-encrypted repository with a lifecycle policy', async () => {
  await startEcr()
  const { ecr } = await login()
  const policy = '{"rules":[]}'
  const result = await ensureRepository(ecr, 'team/app', {
    tagMutability: 'IMMUTABLE',
    kmsKey: 'alias/ecr',
    lifecyclePolicy: policy,
  })
  expect(result).toEqual({ created: true, immutable: true })
  expect(ecrServer.repositories.get('team/app')).toMatchObject({
    imageTagMutability: 'IMMUTABLE',
    encryptionType: 'KMS',
    kmsKey: 'alias/ecr',
    lifecyclePolicyText: policy,
  })
  await expect(ensureRepository(ecr, 'team/app')).resolves.toEqual({ created: false, immutable: true })
})

it('reports a denied CreateRepository with the fix and without secrets', async () => {
  await startEcr({
    fail: {
      CreateRepository: {
        code: 'AccessDeniedException',
        message:
          'User: arn:aws:sts::123456789012:assumed-role/gha-push/imagespec-action is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:us-west-2:123456789012:repository/team/app because no identity-based policy allows the ecr:CreateRepository action',
      },
    },
  })
  const { ecr } = await login()
  const error = await rejectionOf(() => ensureRepository(ecr, 'team/app'), allSecrets)
  expect(error).toBeInstanceOf(ActionError)
  expect(error.message).toContain('Grant the role ecr:CreateRepository.')
  expect(error.message).toContain("'create-repository: false'")
})

it('checks images through BatchGetImage: missing repository, missing tag, present tag', async () => {
  const digest = awsEcr.digestOf('image-1')
  await startEcr()
  const { ecr } = await login()
  await expect(checkImageViaEcr(ecr, 'team/app', 't1')).resolves.toEqual({ exists: false })
  await ensureRepository(ecr, 'team/app')
  await expect(checkImageViaEcr(ecr, 'team/app', 't1')).resolves.toEqual({ exists: false })
  ecrServer.images.set('team/app:t1', digest)
  await expect(checkImageViaEcr(ecr, 'team/app', 't1')).resolves.toEqual({ exists: true, digest })
})

it('falls back to DescribeImages when BatchGetImage is denied', async () => {
  const digest = awsEcr.digestOf('image-2')
  await startEcr({
    repositories: [{ repositoryName: 'team/app' }],
    findImage: (repo, tag) => (repo === 'team/app' && tag === 'present' ? digest : undefined),
    fail: {
      BatchGetImage: {
        code: 'AccessDeniedException',
        message: 'not authorized to perform: ecr:BatchGetImage',
      },
    },
  })
  const { ecr } = await login()
  await expect(checkImageViaEcr(ecr, 'team/app', 'present')).resolves.toEqual({ exists: true, digest })
  await expect(checkImageViaEcr(ecr, 'team/app', 'absent')).resolves.toEqual({ exists: false })
  expect(
    ecrServer.calls.filter((c) => c.operation === 'DescribeImages').map((c) => c.errorType ?? 'ok'),
  ).toEqual(['ok', 'ImageNotFoundException'])
})

it('fails closed, naming the permission, when every read is denied', async () => {
  await startEcr({
    repositories: [{ repositoryName: 'team/app' }],
    fail: {
      BatchGetImage: {
        code: 'AccessDeniedException',
        message: 'not authorized to perform: ecr:BatchGetImage',
      },
      DescribeImages: {
        code: 'AccessDeniedException',
        message: 'not authorized to perform: ecr:DescribeImages',
      },
    },
  })
  const { ecr } = await login()
  const error = await rejectionOf(() => checkImageViaEcr(ecr, 'team/app', 't1'), allSecrets)
  expect(error.message).toContain('ecr:BatchGetImage')
})

it('refuses calls signed with credentials STS never issued', async () => {
  await startEcr()
  const parsed = parseRegistry(REGISTRY) as EcrRegistry
  const forged: AwsCredentials = {
    accessKeyId: 'ASIAFORGEDKEY0000000',
    secretAccessKey: 'forged-secret-key-value-000000000000',
    source: 'default-chain',
  }
  const error = await rejectionOf(
    () => getEcrLoginCredentials(connectEcr(parsed, forged), mask),
    () => [forged.secretAccessKey],
  )
  expect(error.message).toContain('UnrecognizedClientException')
})

describe('ECR Public', () => {
  let pub: awsEcrPublic.EcrPublicStandIn
  afterEach(() => pub.close())

  it('gets a public.ecr.aws login from us-east-1 whatever the job region', async () => {
    pub = await awsEcrPublic.start()
    process.env.AWS_ENDPOINT_URL_ECR_PUBLIC = pub.url
    await startEcr()
    const creds = await getAwsCredentials({ region: 'eu-central-1', roleToAssume: ROLE, mask })
    const docker = await getEcrPublicLoginCredentials(creds, mask)
    expect(docker).toMatchObject({ registry: 'public.ecr.aws', username: 'AWS', password: pub.password })
    expect(pub.calls[0]).toMatchObject({
      operation: 'GetAuthorizationToken',
      region: 'us-east-1',
      accessKeyId: creds.accessKeyId,
    })
  })
})

it.each(['123456789012.dkr.ecr-fips.us-east-2.amazonaws.com', '123456789012.dkr-ecr.us-east-2.on.aws'])(
  'logs in to the FIPS and dual-stack host %s as that host',
  async (host) => {
    await startEcr({ region: 'us-east-2' })
    const { ecr } = await login(host)
    await expect(getEcrLoginCredentials(ecr, mask)).resolves.toMatchObject({
      registry: host,
      username: 'AWS',
    })
    expect(ecrServer.calls[0]?.scope).toEqual({ region: 'us-east-2', service: 'ecr' })
  },
)
