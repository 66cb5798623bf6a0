import { afterAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ECRServiceException,
  GetAuthorizationTokenCommand,
  PutLifecyclePolicyCommand,
} from '@aws-sdk/client-ecr'
import {
  ECRPUBLICClient,
  GetAuthorizationTokenCommand as PublicTokenCommand,
} from '@aws-sdk/client-ecr-public'
import { mockClient } from 'aws-sdk-client-mock'
import type { AwsCredentials } from '../../src/cloud/aws/credentials.js'
import {
  checkImageViaEcr,
  connectEcr,
  ensureRepository,
  getEcrLoginCredentials,
  getEcrPublicLoginCredentials,
} from '../../src/cloud/aws/ecr.js'
import { parseRegistry, type EcrRegistry } from '../../src/registry/hosts.js'
import { ActionError, InputError } from '../../src/errors.js'
import { MemoryLogger } from '../../src/log.js'
import { recordingMask, rejectionOf } from '../support/secrets.js'

const ecrMock = mockClient(ECRClient)
const publicMock = mockClient(ECRPUBLICClient)
afterAll(() => {
  ecrMock.restore()
  publicMock.restore()
})
beforeEach(() => {
  ecrMock.reset()
  publicMock.reset()
})

const CREDS: AwsCredentials = {
  accessKeyId: 'ASIAUNITTESTKEY00001',
  secretAccessKey: 'unit-test-secret-access-key-0000000000',
  sessionToken: 'unit-test-session-token-000000000000000',
  source: 'assumed-role',
}
const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
const ecr = () => connectEcr(parseRegistry(`${HOST}/team`) as EcrRegistry, CREDS)
const PASSWORD = 'ecr-password-value-0123456789abcdef'
const TOKEN = Buffer.from(`AWS:${PASSWORD}`).toString('base64')
const secrets = () => [CREDS.secretAccessKey, CREDS.sessionToken ?? '', PASSWORD, TOKEN]

function awsError(name: string, message: string, status = 400): ECRServiceException {
  return new ECRServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode: status } })
}

const denied = (action: string) =>
  awsError(
    'AccessDeniedException',
    `User: arn:aws:sts::123456789012:assumed-role/gha/imagespec-action is not authorized to perform: ${action} on resource: arn:aws:ecr:eu-west-1:123456789012:repository/team/app because no identity-based policy allows the ${action} action`,
    403,
  )

describe('getEcrLoginCredentials', () => {
  it('decodes AWS:<password>, masks the password and the token, and keeps the account visible', async () => {
    const expiresAt = new Date('2030-01-01T12:00:00Z')
    ecrMock.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [{ authorizationToken: TOKEN, expiresAt, proxyEndpoint: `https://${HOST}` }],
    })
    const mask = recordingMask()
    const login = await getEcrLoginCredentials(ecr(), mask)
    expect(login).toEqual({ registry: HOST, username: 'AWS', password: PASSWORD, expiresAt })
    expect(mask.values).toEqual([TOKEN, PASSWORD])
    expect(mask.values.join(' ')).not.toContain('123456789012')
    expect(ecrMock.commandCalls(GetAuthorizationTokenCommand)[0]?.args[0].input).toEqual({
      registryIds: ['123456789012'],
    })
  })

  it('names the permission when denied', async () => {
    ecrMock.on(GetAuthorizationTokenCommand).rejects(denied('ecr:GetAuthorizationToken'))
    const error = await rejectionOf(() => getEcrLoginCredentials(ecr(), recordingMask()), secrets)
    expect(error).toBeInstanceOf(ActionError)
    expect(error.message).toContain(`Not allowed to get a login token for ${HOST}`)
    expect(error.message).toContain('Grant the role ecr:GetAuthorizationToken.')
  })

  it('rejects a malformed token without echoing it', async () => {
    ecrMock.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [{ authorizationToken: Buffer.from('no-colon-here-secret').toString('base64') }],
    })
    const error = await rejectionOf(
      () => getEcrLoginCredentials(ecr(), recordingMask()),
      () => ['no-colon-here-secret'],
    )
    expect(error.message).toContain('unknown format')
  })
})

describe('getEcrPublicLoginCredentials', () => {
  it('uses the ECR Public API in us-east-1', async () => {
    publicMock.on(PublicTokenCommand).resolves({ authorizationData: { authorizationToken: TOKEN } })
    const mask = recordingMask()
    const login = await getEcrPublicLoginCredentials(CREDS, mask)
    expect(login).toMatchObject({ registry: 'public.ecr.aws', username: 'AWS', password: PASSWORD })
    expect(mask.values).toEqual([TOKEN, PASSWORD])
    expect(await publicMock.call(0).thisValue.config.region()).toBe('us-east-1')
  })
})

describe('ensureRepository', () => {
  it('leaves an existing repository alone and reports its mutability', async () => {
    ecrMock
      .on(DescribeRepositoriesCommand)
      .resolves({ repositories: [{ repositoryName: 'team/app', imageTagMutability: 'IMMUTABLE' }] })
    await expect(ensureRepository(ecr(), 'team/app')).resolves.toEqual({ created: false, immutable: true })
    expect(ecrMock.commandCalls(CreateRepositoryCommand)).toHaveLength(0)
    expect(ecrMock.commandCalls(DescribeRepositoriesCommand)[0]?.args[0].input).toEqual({
      registryId: '123456789012',
      repositoryNames: ['team/app'],
    })
  })

  it('creates a missing repository with scan on push, mutability, KMS and tags', async () => {
    ecrMock
      .on(DescribeRepositoriesCommand)
      .rejects(awsError('RepositoryNotFoundException', "The repository with name 'team/app' does not exist"))
    ecrMock
      .on(CreateRepositoryCommand)
      .resolves({ repository: { repositoryName: 'team/app', imageTagMutability: 'IMMUTABLE' } })
    const logger = new MemoryLogger()
    const result = await ensureRepository(ecr(), 'team/app', {
      tagMutability: 'IMMUTABLE',
      kmsKey: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
      tags: { team: 'ml', cost: 'x' },
      logger,
    })
    expect(result).toEqual({ created: true, immutable: true })
    expect(ecrMock.commandCalls(CreateRepositoryCommand)[0]?.args[0].input).toEqual({
      registryId: '123456789012',
      repositoryName: 'team/app',
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: {
        encryptionType: 'KMS',
        kmsKey: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
      },
      tags: [
        { Key: 'team', Value: 'ml' },
        { Key: 'cost', Value: 'x' },
      ],
    })
    expect(logger.lines).toContain('info: Created ECR repository team/app')
  })

  it('defaults to MUTABLE, AES256, scan on push', async () => {
    ecrMock.on(DescribeRepositoriesCommand).rejects(awsError('RepositoryNotFoundException', 'nope'))
    ecrMock.on(CreateRepositoryCommand).resolves({ repository: { imageTagMutability: 'MUTABLE' } })
    await expect(ensureRepository(ecr(), 'app', { scanOnPush: false })).resolves.toEqual({
      created: true,
      immutable: false,
    })
    expect(ecrMock.commandCalls(CreateRepositoryCommand)[0]?.args[0].input).toMatchObject({
      imageTagMutability: 'MUTABLE',
      imageScanningConfiguration: { scanOnPush: false },
      encryptionConfiguration: { encryptionType: 'AES256' },
    })
  })

  it('treats RepositoryAlreadyExistsException (a parallel job won) as success', async () => {
    ecrMock
      .on(DescribeRepositoriesCommand)
      .rejectsOnce(awsError('RepositoryNotFoundException', 'nope'))
      .resolves({ repositories: [{ repositoryName: 'app', imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' }] })
    ecrMock.on(CreateRepositoryCommand).rejects(awsError('RepositoryAlreadyExistsException', 'exists'))
    await expect(ensureRepository(ecr(), 'app')).resolves.toEqual({ created: false, immutable: true })
  })

  it('names ecr:CreateRepository and create-repository: false when creation is denied', async () => {
    ecrMock.on(DescribeRepositoriesCommand).rejects(awsError('RepositoryNotFoundException', 'nope'))
    ecrMock.on(CreateRepositoryCommand).rejects(denied('ecr:CreateRepository'))
    const error = await rejectionOf(() => ensureRepository(ecr(), 'team/app'), secrets)
    expect(error).toBeInstanceOf(ActionError)
    expect(error.message).toContain(`Not allowed to create the repository ${HOST}/team/app`)
    expect(error.message).toContain('Grant the role ecr:CreateRepository.')
    expect(error.message).toContain("set 'create-repository: false'")
    expect(error.message).toContain('aws ecr create-repository --repository-name team/app --region eu-west-1')
  })

  it('names ecr:DescribeRepositories when the lookup is denied', async () => {
    ecrMock.on(DescribeRepositoriesCommand).rejects(denied('ecr:DescribeRepositories'))
    const error = await rejectionOf(() => ensureRepository(ecr(), 'app'), secrets)
    expect(error.message).toContain('Grant the role ecr:DescribeRepositories.')
  })

  it('points KMS failures at ecr-kms-key', async () => {
    ecrMock.on(DescribeRepositoriesCommand).rejects(awsError('RepositoryNotFoundException', 'nope'))
    ecrMock.on(CreateRepositoryCommand).rejects(awsError('KmsException', 'Key not found'))
    const error = await rejectionOf(
      () => ensureRepository(ecr(), 'app', { kmsKey: 'alias/missing' }),
      secrets,
    )
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toContain("Input 'ecr-kms-key'")
  })

  it('puts the lifecycle policy on new and existing repositories', async () => {
    const policy = JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          selection: {
            tagStatus: 'untagged',
            countType: 'sinceImagePushed',
            countUnit: 'days',
            countNumber: 14,
          },
          action: { type: 'expire' },
        },
      ],
    })
    ecrMock
      .on(DescribeRepositoriesCommand)
      .resolves({ repositories: [{ repositoryName: 'app', imageTagMutability: 'MUTABLE' }] })
    ecrMock.on(PutLifecyclePolicyCommand).resolves({})
    await ensureRepository(ecr(), 'app', { lifecyclePolicy: policy })
    expect(ecrMock.commandCalls(PutLifecyclePolicyCommand)[0]?.args[0].input).toEqual({
      registryId: '123456789012',
      repositoryName: 'app',
      lifecyclePolicyText: policy,
    })
  })

  it('rejects a lifecycle policy that is not JSON before calling AWS', async () => {
    const error = await rejectionOf(
      () => ensureRepository(ecr(), 'app', { lifecyclePolicy: '{rules:' }),
      secrets,
    )
    expect(error.message).toContain("Input 'ecr-lifecycle-policy': is not valid JSON")
    expect(ecrMock.calls()).toHaveLength(0)
  })

  it('reports a policy ECR refuses against the input', async () => {
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryName: 'app' }] })
    ecrMock
      .on(PutLifecyclePolicyCommand)
      .rejects(awsError('InvalidParameterException', 'Invalid parameter at LifecyclePolicyText'))
    const error = await rejectionOf(() => ensureRepository(ecr(), 'app', { lifecyclePolicy: '{}' }), secrets)
    expect(error.message).toBe(
      "Input 'ecr-lifecycle-policy': ECR rejected the policy (Invalid parameter at LifecyclePolicyText).",
    )
  })

  it('warns when an existing repository differs from the requested mutability', async () => {
    ecrMock
      .on(DescribeRepositoriesCommand)
      .resolves({ repositories: [{ repositoryName: 'app', imageTagMutability: 'MUTABLE' }] })
    const logger = new MemoryLogger()
    await ensureRepository(ecr(), 'app', { tagMutability: 'IMMUTABLE', logger })
    expect(logger.lines.join('\n')).toContain(
      "'ecr-tag-mutability: IMMUTABLE' only applies to repositories the action creates",
    )
  })

  it.each(['Team/App', 'app:tag', 'a', 'double//slash', '-lead'])(
    'refuses the invalid name %s',
    async (name) => {
      await expect(ensureRepository(ecr(), name)).rejects.toThrow(/not a valid ECR repository name/)
      expect(ecrMock.calls()).toHaveLength(0)
    },
  )
})

describe('checkImageViaEcr', () => {
  const digest = 'sha256:' + 'a'.repeat(64)

  it('returns the digest of an existing tag', async () => {
    ecrMock
      .on(BatchGetImageCommand)
      .resolves({ images: [{ imageId: { imageDigest: digest, imageTag: 't1' } }], failures: [] })
    await expect(checkImageViaEcr(ecr(), 'team/app', 't1')).resolves.toEqual({ exists: true, digest })
    const input = ecrMock.commandCalls(BatchGetImageCommand)[0]?.args[0].input
    expect(input).toMatchObject({
      registryId: '123456789012',
      repositoryName: 'team/app',
      imageIds: [{ imageTag: 't1' }],
    })
    expect(input?.acceptedMediaTypes).toContain('application/vnd.oci.image.index.v1+json')
  })

  it.each([
    [
      'an ImageNotFound failure',
      { failures: [{ imageId: { imageTag: 't1' }, failureCode: 'ImageNotFound' as const }] },
    ],
    ['an empty answer', {}],
  ])('reports absence on %s', async (_label, reply) => {
    ecrMock.on(BatchGetImageCommand).resolves(reply)
    await expect(checkImageViaEcr(ecr(), 'app', 't1')).resolves.toEqual({ exists: false })
  })

  it('reports absence when the repository does not exist', async () => {
    ecrMock.on(BatchGetImageCommand).rejects(awsError('RepositoryNotFoundException', 'nope'))
    await expect(checkImageViaEcr(ecr(), 'app', 't1')).resolves.toEqual({ exists: false })
  })

  it('fails closed on other failure codes', async () => {
    ecrMock
      .on(BatchGetImageCommand)
      .resolves({ failures: [{ failureCode: 'KmsError', failureReason: 'key disabled' }] })
    const error = await rejectionOf(() => checkImageViaEcr(ecr(), 'app', 't1'), secrets)
    expect(error.message).toContain('KmsError: key disabled')
  })

  it.each([
    ['ThrottlingException', awsError('ThrottlingException', 'Rate exceeded')],
    ['ServerException', awsError('ServerException', 'internal', 500)],
    [
      'UnrecognizedClientException',
      awsError('UnrecognizedClientException', 'The security token included in the request is invalid.'),
    ],
  ])('fails closed on %s', async (_name, err) => {
    ecrMock.on(BatchGetImageCommand).rejects(err)
    const error = await rejectionOf(() => checkImageViaEcr(ecr(), 'app', 't1'), secrets)
    expect(error).toBeInstanceOf(ActionError)
    expect(error.message).toContain(err.name)
  })

  it('falls back to DescribeImages when BatchGetImage is denied', async () => {
    ecrMock.on(BatchGetImageCommand).rejects(denied('ecr:BatchGetImage'))
    ecrMock
      .on(DescribeImagesCommand)
      .resolvesOnce({ imageDetails: [{ imageDigest: digest }] })
      .rejects(awsError('ImageNotFoundException', 'nope'))
    await expect(checkImageViaEcr(ecr(), 'app', 't1')).resolves.toEqual({ exists: true, digest })
    await expect(checkImageViaEcr(ecr(), 'app', 't2')).resolves.toEqual({ exists: false })
  })

  it('names ecr:BatchGetImage when both reads are denied', async () => {
    ecrMock.on(BatchGetImageCommand).rejects(denied('ecr:BatchGetImage'))
    ecrMock.on(DescribeImagesCommand).rejects(denied('ecr:DescribeImages'))
    const error = await rejectionOf(() => checkImageViaEcr(ecr(), 'team/app', 't1'), secrets)
    expect(error.message).toContain(`Not allowed to check whether ${HOST}/team/app:t1 exists`)
    expect(error.message).toContain('Grant the role ecr:BatchGetImage')
  })
})

describe('connectEcr', () => {
  it.each([
    ['123456789012.dkr.ecr-fips.us-east-2.amazonaws.com', true, false],
    ['123456789012.dkr-ecr.us-east-2.on.aws', false, true],
    ['123456789012.dkr.ecr.us-east-2.amazonaws.com', false, false],
  ])('%s uses fips=%s dual-stack=%s endpoints', async (host, fips, dualStack) => {
    const { client } = connectEcr(parseRegistry(host) as EcrRegistry, CREDS, {})
    expect(await client.config.useFipsEndpoint()).toBe(fips)
    expect(await client.config.useDualstackEndpoint()).toBe(dualStack)
  })
})
