import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { getAwsCredentials } from '../../src/cloud/aws/credentials.js'
import { ActionError, InputError } from '../../src/errors.js'
import { MemoryLogger } from '../../src/log.js'
import * as githubOidc from '../support/standins/github-oidc.js'
import * as awsSts from '../support/standins/aws-sts.js'
import { recordingMask, rejectionOf } from '../support/secrets.js'

// The real SDK credential providers against loopback stand-ins for GitHub's token endpoint and STS.

const ROLE = 'arn:aws:iam::123456789012:role/gha-push'
const saved = { ...process.env }
let oidc: githubOidc.GitHubOidcStandIn

beforeAll(async () => {
  oidc = await githubOidc.start({ repository: 'octo-org/octo-repo' })
})
afterAll(() => oidc.close())

function isolateAwsEnv(): void {
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('AWS_') || key.startsWith('ACTIONS_ID_TOKEN_')) delete process.env[key]
  }
  // On a real runner these describe the workflow running the tests; a fork pull request changes the OIDC advice.
  process.env.GITHUB_EVENT_NAME = 'push'
  // Keep the default chain off this machine's files and metadata service.
  process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config'
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials'
  process.env.AWS_EC2_METADATA_DISABLED = 'true'
}

beforeEach(isolateAwsEnv)
afterEach(() => {
  process.env = { ...saved }
})

describe('role assumption with GitHub OIDC', () => {
  let sts: awsSts.StsStandIn
  afterEach(() => sts.close())
  const secrets = () => [
    oidc.requestToken,
    ...oidc.calls.flatMap((c) => (c.token ? [c.token] : [])),
    ...sts.issued.flatMap((c) => [c.secretAccessKey, c.sessionToken]),
  ]

  it('exchanges the OIDC token at STS and masks every part of the credentials', async () => {
    sts = await awsSts.start()
    Object.assign(process.env, oidc.env, { AWS_ENDPOINT_URL_STS: sts.url })
    const mask = recordingMask()
    const creds = await getAwsCredentials({ region: 'eu-west-1', roleToAssume: ROLE, mask })
    const issued = sts.issued[0]
    expect(creds).toEqual({
      accessKeyId: issued?.accessKeyId,
      secretAccessKey: issued?.secretAccessKey,
      sessionToken: issued?.sessionToken,
      expiration: issued?.expiration,
      source: 'assumed-role',
    })
    expect(sts.calls[0]).toMatchObject({
      action: 'AssumeRoleWithWebIdentity',
      roleArn: ROLE,
      roleSessionName: 'imagespec-action',
      durationSeconds: 3600,
    })
    expect(sts.calls[0]?.claims).toMatchObject({ aud: 'sts.amazonaws.com', repository: 'octo-org/octo-repo' })
    expect(mask.values).toEqual(
      expect.arrayContaining([
        oidc.calls.at(-1)?.token,
        issued?.accessKeyId,
        issued?.secretAccessKey,
        issued?.sessionToken,
      ]),
    )
  })

  it('passes session name, duration and audience through', async () => {
    sts = await awsSts.start({ audience: 'custom-aud' })
    Object.assign(process.env, oidc.env, { AWS_ENDPOINT_URL_STS: sts.url })
    await getAwsCredentials({
      region: 'us-east-1',
      roleToAssume: ROLE,
      roleSessionName: 'build-42',
      roleDurationSeconds: 7200,
      audience: 'custom-aud',
      mask: recordingMask(),
    })
    expect(sts.calls[0]).toMatchObject({ roleSessionName: 'build-42', durationSeconds: 7200 })
    expect(oidc.calls.at(-1)?.audience).toBe('custom-aud')
  })

  it('retries a throttled STS with backoff and a fresh OIDC token each time', async () => {
    sts = await awsSts.start({ throttleFirst: 3 })
    Object.assign(process.env, oidc.env, { AWS_ENDPOINT_URL_STS: sts.url })
    const waits: number[] = []
    const logger = new MemoryLogger()
    const creds = await getAwsCredentials({
      region: 'us-east-1',
      roleToAssume: ROLE,
      mask: recordingMask(),
      logger,
      random: () => 0.5,
      sleep: async (ms) => {
        waits.push(ms)
      },
    })
    expect(creds.accessKeyId).toBe(sts.issued[0]?.accessKeyId)
    expect(sts.calls.map((c) => c.error ?? 'ok')).toEqual(['Throttling', 'Throttling', 'Throttling', 'ok'])
    expect(waits).toEqual([750, 1500, 3000])
    const tokens = sts.calls.map((c) => c.webIdentityToken)
    expect(new Set(tokens).size).toBe(4)
    expect(logger.lines.filter((l) => l.includes('Throttling'))).toHaveLength(3)
  })

  it('gives up after maxAttempts with a throttling message', async () => {
    sts = await awsSts.start({ throttleFirst: 100 })
    Object.assign(process.env, oidc.env, { AWS_ENDPOINT_URL_STS: sts.url })
    const error = await rejectionOf(
      () =>
        getAwsCredentials({
          region: 'us-east-1',
          roleToAssume: ROLE,
          maxAttempts: 3,
          mask: recordingMask(),
          sleep: async () => {},
        }),
      secrets,
    )
    expect(error).toBeInstanceOf(ActionError)
    expect(error.message).toContain('STS kept throttling')
    expect(error.message).toContain('after 3 attempts')
    expect(sts.calls).toHaveLength(3)
  })

  it('explains AccessDenied with the trust policy fix and the token subject', async () => {
    sts = await awsSts.start({ refuse: () => awsSts.ACCESS_DENIED })
    Object.assign(process.env, oidc.env, { AWS_ENDPOINT_URL_STS: sts.url })
    const error = await rejectionOf(
      () =>
        getAwsCredentials({
          region: 'us-east-1',
          roleToAssume: ROLE,
          mask: recordingMask(),
          sleep: async () => {},
        }),
      secrets,
    )
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toContain("Input 'aws-role-to-assume'")
    expect(error.message).toContain('Not authorized to perform sts:AssumeRoleWithWebIdentity')
    expect(error.message).toContain("sub 'repo:octo-org/octo-repo:ref:refs/heads/main'")
    expect(error.message).toContain('token.actions.githubusercontent.com:sub')
    expect(error.message).toContain(
      'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com',
    )
    // Not retried: a trust policy does not fix itself.
    expect(sts.calls).toHaveLength(1)
  })

  it('explains a wrong audience', async () => {
    sts = await awsSts.start()
    Object.assign(process.env, oidc.env, { AWS_ENDPOINT_URL_STS: sts.url })
    const error = await rejectionOf(
      () =>
        getAwsCredentials({
          region: 'us-east-1',
          roleToAssume: ROLE,
          audience: 'other',
          mask: recordingMask(),
        }),
      secrets,
    )
    expect(error.message).toContain('InvalidIdentityToken: Incorrect token audience')
    expect(error.message).toContain("set 'aws-audience'")
  })

  it('names id-token: write when the job has no OIDC token', async () => {
    sts = await awsSts.start()
    process.env.AWS_ENDPOINT_URL_STS = sts.url
    const error = await rejectionOf(
      () => getAwsCredentials({ region: 'us-east-1', roleToAssume: ROLE }),
      secrets,
    )
    expect(error).toBeInstanceOf(ActionError)
    expect(error.message).toContain('id-token: write')
    expect(error.message).toContain('aws-role-to-assume')
    expect(sts.calls).toHaveLength(0)
  })
})

describe('input validation', () => {
  it.each([
    [{ roleToAssume: 'gha-push' }, "Input 'aws-role-to-assume'"],
    [{ roleToAssume: ROLE, roleSessionName: 'has space' }, "Input 'aws-role-session-name'"],
    [{ roleToAssume: ROLE, roleDurationSeconds: 60 }, "Input 'aws-role-duration-seconds'"],
  ])('%j', async (input, expected) => {
    await expect(getAwsCredentials({ region: 'us-east-1', ...input })).rejects.toThrow(expected)
  })
})

describe('the default credential chain', () => {
  it('uses keys exported by an earlier step and masks them', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAEXAMPLEKEY000001'
    process.env.AWS_SECRET_ACCESS_KEY = 'exported-secret-access-key-value'
    const mask = recordingMask()
    const creds = await getAwsCredentials({ region: 'us-east-1', mask })
    expect(creds).toMatchObject({ accessKeyId: 'AKIAEXAMPLEKEY000001', source: 'default-chain' })
    expect(mask.values).toEqual(['AKIAEXAMPLEKEY000001', 'exported-secret-access-key-value'])
  })

  it('names aws-role-to-assume and exported keys when it finds nothing', async () => {
    const error = await rejectionOf(
      () => getAwsCredentials({ region: 'us-east-1' }),
      () => [],
    )
    expect(error).toBeInstanceOf(ActionError)
    expect(error.message).toContain('No AWS credentials were found')
    expect(error.message).toContain("'aws-role-to-assume'")
    expect(error.message).toContain('AWS_ACCESS_KEY_ID')
  })
})
