import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals'
// fromWebToken sends AssumeRoleWithWebIdentity through the SDK's internal STS client; mocking that class lets
// these tests script STS replies (throttling, expiry, denial) without a server.
import { AssumeRoleWithWebIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/nested-clients/sts'
import { mockClient } from 'aws-sdk-client-mock'
import { getAwsCredentials } from '../../src/cloud/aws/credentials.js'
import { ActionError, InputError } from '../../src/errors.js'
import { recordingMask, rejectionOf } from '../support/secrets.js'

const ROLE = 'arn:aws:iam::123456789012:role/gha-push'
const sts = mockClient(STSClient)
afterAll(() => {
  sts.restore()
})

function stsError(name: string, message: string, status = 400): STSServiceException {
  return new STSServiceException({
    name,
    message,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  })
}

function networkError(code: string): Error {
  return Object.assign(new Error(`socket hang up (${code})`), { code })
}

const CREDENTIALS = {
  AccessKeyId: 'ASIAUNITTESTKEY00001',
  SecretAccessKey: 'unit-test-secret-access-key-0000000000',
  SessionToken: 'unit-test-session-token-00000000000000000000',
  Expiration: new Date('2030-01-01T00:00:00Z'),
}

let issuedTokens: string[]
let waits: number[]
const env = {
  ACTIONS_ID_TOKEN_REQUEST_URL: 'http://oidc.invalid/?x=1',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'req',
}

function options(extra: Partial<Parameters<typeof getAwsCredentials>[0]> = {}) {
  return {
    region: 'us-east-1',
    roleToAssume: ROLE,
    env,
    mask: recordingMask(),
    random: () => 0,
    sleep: async (ms: number) => {
      waits.push(ms)
    },
    getIDToken: async (aud: string) => {
      const token = `header.${Buffer.from(JSON.stringify({ aud, sub: 'repo:o/r:ref:refs/heads/main' })).toString('base64url')}.sig${issuedTokens.length}`
      issuedTokens.push(token)
      return token
    },
    ...extra,
  }
}

const secrets = () => [...issuedTokens, CREDENTIALS.SecretAccessKey, CREDENTIALS.SessionToken]

beforeEach(() => {
  sts.reset()
  issuedTokens = []
  waits = []
})
afterEach(() => {
  sts.reset()
})

describe('STS retries', () => {
  it('retries throttling with growing waits and a new OIDC token per attempt', async () => {
    sts
      .on(AssumeRoleWithWebIdentityCommand)
      .rejectsOnce(stsError('Throttling', 'Rate exceeded'))
      .rejectsOnce(stsError('Throttling', 'Rate exceeded'))
      .resolves({ Credentials: CREDENTIALS })
    const creds = await getAwsCredentials(options())
    expect(creds.secretAccessKey).toBe(CREDENTIALS.SecretAccessKey)
    const inputs = sts.commandCalls(AssumeRoleWithWebIdentityCommand).map((c) => c.args[0].input)
    expect(inputs.map((i) => i.WebIdentityToken)).toEqual(issuedTokens)
    expect(new Set(issuedTokens).size).toBe(3)
    // random() = 0: the fixed half of each doubling step.
    expect(waits).toEqual([500, 1000])
  })

  it.each([
    [
      'ExpiredTokenException',
      stsError(
        'ExpiredTokenException',
        'Token expired: current date/time 1 must be before the expiration date/time 0',
      ),
    ],
    [
      'IDPCommunicationError',
      stsError('IDPCommunicationError', 'Could not communicate with the identity provider'),
    ],
    [
      'InvalidIdentityToken (JWKS fetch)',
      stsError('InvalidIdentityToken', "Couldn't retrieve verification key from your identity provider"),
    ],
    ['a 503', stsError('ServiceUnavailable', 'Service unavailable', 503)],
    ['a reset socket', networkError('ECONNRESET')],
  ])('retries %s', async (_label, error) => {
    sts.on(AssumeRoleWithWebIdentityCommand).rejectsOnce(error).resolves({ Credentials: CREDENTIALS })
    await expect(getAwsCredentials(options())).resolves.toMatchObject({ source: 'assumed-role' })
    expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand)).toHaveLength(2)
  })

  it('caps the wait at 30 s', async () => {
    sts.on(AssumeRoleWithWebIdentityCommand).rejects(stsError('Throttling', 'Rate exceeded'))
    await rejectionOf(() => getAwsCredentials(options({ random: () => 0.999999, maxAttempts: 8 })), secrets)
    expect(waits).toHaveLength(7)
    expect(Math.max(...waits)).toBe(30000)
  })

  it('reports a server that keeps failing', async () => {
    sts.on(AssumeRoleWithWebIdentityCommand).rejects(stsError('InternalFailure', 'internal', 500))
    const error = await rejectionOf(() => getAwsCredentials(options({ maxAttempts: 4 })), secrets)
    expect(error).toBeInstanceOf(ActionError)
    expect(error.message).toContain('STS kept failing')
    expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand)).toHaveLength(4)
  })
})

describe('STS error mapping', () => {
  it.each([
    ['AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity'],
    [
      'InvalidIdentityToken',
      'No OpenIDConnect provider found in your account for https://token.actions.githubusercontent.com',
    ],
  ])('%s names aws-role-to-assume and the trust policy, without retrying', async (name, message) => {
    sts.on(AssumeRoleWithWebIdentityCommand).rejects(stsError(name, message, 403))
    const error = await rejectionOf(() => getAwsCredentials(options()), secrets)
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toContain("Input 'aws-role-to-assume'")
    expect(error.message).toContain(message)
    expect(error.message).toContain("sub 'repo:o/r:ref:refs/heads/main'")
    expect(error.message).toContain('token.actions.githubusercontent.com:sub')
    expect(error.message).toContain('IAM OIDC identity provider')
    expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand)).toHaveLength(1)
  })

  it('points a too-long session at aws-role-duration-seconds', async () => {
    sts
      .on(AssumeRoleWithWebIdentityCommand)
      .rejects(
        stsError(
          'ValidationError',
          'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
        ),
      )
    const error = await rejectionOf(() => getAwsCredentials(options({ roleDurationSeconds: 43200 })), secrets)
    expect(error.message).toContain("Input 'aws-role-duration-seconds'")
    expect(error.message).toContain('maximum session duration')
  })

  it('keeps unknown errors readable and does not retry them', async () => {
    sts
      .on(AssumeRoleWithWebIdentityCommand)
      .rejects(stsError('RegionDisabledException', 'STS is not activated in this region'))
    const error = await rejectionOf(() => getAwsCredentials(options()), secrets)
    expect(error.message).toBe(
      `Could not assume '${ROLE}' with the GitHub OIDC token (RegionDisabledException: STS is not activated in this region).`,
    )
    expect(waits).toEqual([])
  })

  it('masks the OIDC token and all three credential parts', async () => {
    sts.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: CREDENTIALS })
    const mask = recordingMask()
    await getAwsCredentials(options({ mask }))
    expect(mask.values).toEqual([
      issuedTokens[0],
      CREDENTIALS.AccessKeyId,
      CREDENTIALS.SecretAccessKey,
      CREDENTIALS.SessionToken,
    ])
  })
})
