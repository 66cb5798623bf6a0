import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureGarRepository } from '../../src/cloud/gcp/artifact-registry.js'
import {
  authenticateGcp,
  type GcpCredentialOptions,
  type GcpSession,
} from '../../src/cloud/gcp/credentials.js'
import { garImageTarget, parseRegistry, type GarRegistry } from '../../src/registry/hosts.js'
import { ActionError, InputError } from '../../src/errors.js'
import * as artifactRegistry from '../support/standins/artifact-registry.js'
import * as gcpIam from '../support/standins/gcp-iam-credentials.js'
import * as gcpSts from '../support/standins/gcp-sts.js'
import * as githubOidc from '../support/standins/github-oidc.js'
import { recordingMask, rejectionOf } from '../support/secrets.js'

// google-auth-library's real external-account flow against loopback stand-ins for GitHub's token endpoint,
// Google STS, IAM Credentials and Artifact Registry.

const PROVIDER = 'projects/123456789/locations/global/workloadIdentityPools/github/providers/my-repo'
const AUDIENCE = `//iam.googleapis.com/${PROVIDER}`
const SA = 'pusher@my-project.iam.gserviceaccount.com'
const saved = { ...process.env }

let oidc: githubOidc.GitHubOidcStandIn
let sts: gcpSts.GcpStsStandIn
let iam: gcpIam.GcpIamCredentialsStandIn
let ar: artifactRegistry.ArtifactRegistryStandIn | undefined
let mask: ReturnType<typeof recordingMask>
let stsOptions: Omit<gcpSts.GcpStsOptions, 'audience' | 'signingKey'>

beforeAll(async () => {
  oidc = await githubOidc.start({ repository: 'octo-org/octo-repo' })
  // Each test may reconfigure STS; a fresh server per test keeps call logs apart.
  iam = await gcpIam.start({ serviceAccounts: [SA], acceptToken: (t) => sts.issued.includes(t) })
})
afterAll(async () => {
  await oidc.close()
  await iam.close()
})

beforeEach(async () => {
  for (const key of Object.keys(process.env)) if (key.startsWith('ACTIONS_ID_TOKEN_')) delete process.env[key]
  Object.assign(process.env, oidc.env, { GITHUB_EVENT_NAME: 'push' })
  mask = recordingMask()
  stsOptions = {}
  sts = await gcpSts.start({ audience: AUDIENCE, signingKey: oidc.signingKey })
})
afterEach(async () => {
  process.env = { ...saved }
  await sts.close()
  await ar?.close()
  ar = undefined
})

async function restartSts(options: Omit<gcpSts.GcpStsOptions, 'signingKey'>): Promise<void> {
  await sts.close()
  sts = await gcpSts.start({ ...options, signingKey: oidc.signingKey })
}

function options(extra: Partial<GcpCredentialOptions> = {}): GcpCredentialOptions {
  return {
    workloadIdentityProvider: PROVIDER,
    mask,
    endpoints: { sts: sts.url, iamCredentials: iam.url, artifactRegistry: ar?.url },
    ...stsOptions,
    ...extra,
  }
}

const secrets = () => [
  oidc.requestToken,
  ...oidc.calls.flatMap((c) => (c.token ? [c.token] : [])),
  ...sts.issued,
  ...iam.issued,
]

describe('workload identity federation', () => {
  it('impersonates the service account and returns a masked token for docker', async () => {
    const session = await authenticateGcp(options({ serviceAccount: SA }))
    const token = session.accessToken()
    expect(iam.issued).toContain(token)
    expect(sts.calls[0]).toMatchObject({
      audience: AUDIENCE,
      grantType: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt',
      scope: 'https://www.googleapis.com/auth/cloud-platform',
    })
    expect(sts.calls[0]?.claims).toMatchObject({ aud: AUDIENCE, repository: 'octo-org/octo-repo' })
    expect(iam.calls.at(-1)).toMatchObject({ serviceAccount: SA, lifetime: '3600s', bearer: sts.issued[0] })
    expect(session.dockerCredentials('us-east1-docker.pkg.dev')).toEqual({
      registry: 'us-east1-docker.pkg.dev',
      username: 'oauth2accesstoken',
      password: token,
      expiresAt: session.expiresAt(),
    })
    const remaining = (session.expiresAt()?.getTime() ?? 0) - Date.now()
    expect(remaining).toBeGreaterThan(3500_000)
    expect(mask.values).toContain(token)
    expect(mask.values).toContain(sts.calls[0]?.subjectToken)
  })

  it('works without a service account (direct WIF)', async () => {
    const session = await authenticateGcp(options())
    expect(session.accessToken()).toBe(sts.issued[0])
    expect(session.serviceAccount).toBeUndefined()
    expect(iam.calls.filter((c) => c.bearer === sts.issued[0])).toHaveLength(0)
    expect(mask.values).toContain(session.accessToken())
  })

  it('refreshes only when the token is about to expire, with a fresh GitHub token', async () => {
    await restartSts({ audience: AUDIENCE, expiresIn: 600 })
    const session = await authenticateGcp(options())
    const first = session.accessToken()
    await expect(session.refreshIfExpiring(300)).resolves.toBe(false)
    expect(sts.calls).toHaveLength(1)
    await expect(session.refreshIfExpiring(900)).resolves.toBe(true)
    expect(sts.calls).toHaveLength(2)
    expect(session.accessToken()).not.toBe(first)
    expect(session.accessToken()).toBe(sts.issued[1])
    expect(sts.calls[1]?.subjectToken).not.toBe(sts.calls[0]?.subjectToken)
    expect(mask.values).toContain(sts.issued[1])
  })

  it('follows gcp-universe for the STS audience and the GitHub token audience', async () => {
    const universeAudience = `//iam.example-universe.test/${PROVIDER}`
    await restartSts({ audience: universeAudience })
    const session = await authenticateGcp(options({ universe: 'example-universe.test' }))
    expect(session.universe).toBe('example-universe.test')
    expect(session.endpoints.artifactRegistry).toBe('https://artifactregistry.example-universe.test')
    expect(sts.calls[0]?.audience).toBe(universeAudience)
    expect(oidc.calls.at(-1)?.audience).toBe(universeAudience)
  })
})

describe('federation errors', () => {
  it('explains a provider Google does not know', async () => {
    const other = PROVIDER.replace('my-repo', 'other')
    const error = await rejectionOf(
      () => authenticateGcp(options({ workloadIdentityProvider: other })),
      secrets,
    )
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toContain("Input 'gcp-workload-identity-provider'")
    expect(error.message).toContain('does not know the provider')
  })

  it('explains an attribute condition that rejects this repository', async () => {
    await restartSts({ audience: AUDIENCE, condition: (c) => c.repository_owner === 'someone-else' })
    const error = await rejectionOf(() => authenticateGcp(options()), secrets)
    expect(error.message).toContain('rejected by the attribute condition')
    expect(error.message).toContain('repository=octo-org/octo-repo')
  })

  it('explains a token audience the provider does not allow', async () => {
    const error = await rejectionOf(
      () => authenticateGcp(options({ audience: 'https://example.test/aud' })),
      secrets,
    )
    expect(error.message).toContain("Input 'gcp-audience'")
    expect(error.message).toContain('does not match the expected audience')
  })

  it('explains a denied impersonation with the binding to add', async () => {
    const error = await rejectionOf(
      () => authenticateGcp(options({ serviceAccount: 'other@my-project.iam.gserviceaccount.com' })),
      secrets,
    )
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toContain("Input 'gcp-service-account'")
    expect(error.message).toContain("Permission 'iam.serviceAccounts.getAccessToken' denied")
    expect(error.message).toContain('roles/iam.workloadIdentityUser')
    expect(error.message).toContain(
      'principalSet://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/github/attribute.repository/OWNER/REPO',
    )
  })

  it('asks for id-token: write when the job has no OIDC token', async () => {
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL
    const error = await rejectionOf(() => authenticateGcp(options()), secrets)
    expect(error).toBeInstanceOf(ActionError)
    expect(error.message).toContain('id-token: write')
    expect(error.message).toContain('gcp-workload-identity-provider')
    expect(sts.calls).toHaveLength(0)
  })

  it('says so when a fork pull request runs it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcp-fork-'))
    try {
      const event = join(dir, 'event.json')
      writeFileSync(
        event,
        JSON.stringify({
          pull_request: {
            head: { repo: { full_name: 'fork/octo-repo' } },
            base: { repo: { full_name: 'octo-org/octo-repo' } },
          },
        }),
      )
      delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL
      Object.assign(process.env, { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event })
      const error = await rejectionOf(() => authenticateGcp(options()), secrets)
      expect(error.message).toContain("pull request from the fork 'fork/octo-repo'")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('Artifact Registry repositories', () => {
  const registry = parseRegistry('us-east1-docker.pkg.dev/my-project/images/team') as GarRegistry
  const target = garImageTarget(registry, 'app')

  async function session(
    extra: artifactRegistry.ArtifactRegistryOptions = {},
    sa: string | null = SA,
  ): Promise<GcpSession> {
    ar = await artifactRegistry.start({
      // Only tokens the Google stand-ins minted are good: proves the REST calls carry the session's token.
      acceptToken: (t) => iam.issued.includes(t) || sts.issued.includes(t),
      ...extra,
    })
    return authenticateGcp(options({ serviceAccount: sa ?? undefined }))
  }

  it('creates the repository once (waiting for the operation), then finds it', async () => {
    const s = await session({ operationPolls: 2 })
    expect(target).toEqual({
      project: 'my-project',
      location: 'us-east1',
      repository: 'images',
      imagePath: 'team/app',
    })
    const sleeps: number[] = []
    const sleep = async (ms: number) => {
      sleeps.push(ms)
    }
    await expect(ensureGarRepository(s, target, { sleep })).resolves.toEqual({
      created: true,
      immutable: false,
    })
    await expect(ensureGarRepository(s, target, { sleep })).resolves.toEqual({
      created: false,
      immutable: false,
    })
    expect(ar?.calls.map((c) => `${c.kind}:${c.status}`)).toEqual([
      'get-repository:404',
      'create-repository:200',
      'get-operation:200',
      'get-operation:200',
      'get-repository:200',
    ])
    expect(sleeps).toEqual([250, 500])
    expect(ar?.calls[1]).toMatchObject({
      repositoryId: 'images',
      body: { format: 'DOCKER' },
      bearer: s.accessToken(),
    })
    expect(ar?.calls[1]?.path).toBe('/v1/projects/my-project/locations/us-east1/repositories')
  })

  it('treats 409 ALREADY_EXISTS from a parallel job as success and reports immutable tags', async () => {
    const name = 'projects/my-project/locations/us-east1/repositories/images'
    let lookups = 0
    const s = await session({
      repositories: [{ name, format: 'DOCKER', dockerConfig: { immutableTags: true } }],
      // The first lookup misses it, as if the other job created it a moment later.
      refuse: (call) =>
        call.kind === 'get-repository' && lookups++ === 0
          ? { code: 404, status: 'NOT_FOUND', message: 'Requested entity was not found.' }
          : undefined,
    })
    await expect(ensureGarRepository(s, target)).resolves.toEqual({ created: false, immutable: true })
    expect(ar?.calls.map((c) => `${c.kind}:${c.status}`)).toEqual([
      'get-repository:404',
      'create-repository:409',
      'get-repository:200',
    ])
  })

  it('creates immutable repositories on request (direct WIF token)', async () => {
    const s = await session({ operationPolls: 0 }, null)
    await expect(
      ensureGarRepository(s, target, { immutableTags: true, labels: { team: 'ml' } }),
    ).resolves.toEqual({ created: true, immutable: true })
    expect(ar?.calls[1]?.body).toEqual({
      format: 'DOCKER',
      labels: { team: 'ml' },
      dockerConfig: { immutableTags: true },
    })
    expect(ar?.calls[1]?.bearer).toBe(sts.issued.at(-1))
  })

  it('names artifactregistry.repositories.create and the fix on 403', async () => {
    const s = await session({
      refuse: (call) =>
        call.kind === 'create-repository'
          ? {
              code: 403,
              status: 'PERMISSION_DENIED',
              message:
                "Permission 'artifactregistry.repositories.create' denied on resource '//artifactregistry.googleapis.com/projects/my-project/locations/us-east1' (or it may not exist).",
            }
          : undefined,
    })
    const error = await rejectionOf(() => ensureGarRepository(s, target), secrets)
    expect(error.message).toContain(
      'Not allowed to create Artifact Registry repository projects/my-project/locations/us-east1/repositories/images',
    )
    expect(error.message).toContain(
      `Grant serviceAccount:${SA} a role with artifactregistry.repositories.create`,
    )
    expect(error.message).toContain("'create-repository: false'")
    expect(error.message).toContain(
      'gcloud artifacts repositories create images --repository-format=docker --location=us-east1 --project=my-project',
    )
    expect(error.message).not.toContain('project number')
  })

  it('points out a project number where the ID belongs', async () => {
    const s = await session({
      refuse: () => ({
        code: 403,
        status: 'PERMISSION_DENIED',
        message: 'Permission denied on resource project 987654321.',
      }),
    })
    const error = await rejectionOf(
      () => ensureGarRepository(s, { ...target, project: '987654321' }),
      secrets,
    )
    expect(error.message).toContain("'987654321' looks like a project number")
  })

  it('says when the Artifact Registry API is disabled', async () => {
    const s = await session({
      refuse: () => ({
        code: 403,
        status: 'PERMISSION_DENIED',
        message: 'Artifact Registry API has not been used in project 123456789 before or it is disabled.',
        reason: 'SERVICE_DISABLED',
      }),
    })
    const error = await rejectionOf(() => ensureGarRepository(s, target), secrets)
    expect(error.message).toContain(
      'gcloud services enable artifactregistry.googleapis.com --project=my-project',
    )
  })

  it('refuses a repository that is not Docker-format', async () => {
    const s = await session({
      repositories: [
        { name: 'projects/my-project/locations/us-east1/repositories/images', format: 'PYTHON' },
      ],
    })
    const error = await rejectionOf(() => ensureGarRepository(s, target), secrets)
    expect(error.message).toContain('has format PYTHON')
  })
})
