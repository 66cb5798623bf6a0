import { describe, expect, it } from '@jest/globals'
import { ensureGarRepository, type ArSession } from '../../src/cloud/gcp/artifact-registry.js'
import {
  authenticateGcp,
  gcpEndpoints,
  gcpEndpointsFromEnv,
  parseWorkloadIdentityProvider,
} from '../../src/cloud/gcp/credentials.js'
import { InputError } from '../../src/errors.js'

const PROVIDER = 'projects/123456789/locations/global/workloadIdentityPools/github/providers/my-repo'

describe('parseWorkloadIdentityProvider', () => {
  it.each([
    PROVIDER,
    `//iam.googleapis.com/${PROVIDER}`,
    `https://iam.googleapis.com/${PROVIDER}`,
    `  ${PROVIDER}\n`,
  ])('accepts %s', (value) => {
    expect(parseWorkloadIdentityProvider(value)).toEqual({
      name: PROVIDER,
      projectNumber: '123456789',
      pool: 'github',
      provider: 'my-repo',
    })
  })

  it.each([
    [
      'projects/123456789/locations/global/workloadIdentityPools/github',
      /is a workload identity pool, not a provider: append \/providers\/PROVIDER_ID.*--workload-identity-pool=github/,
    ],
    [
      'projects/my-project/locations/global/workloadIdentityPools/github/providers/my-repo',
      /names the project by ID \('my-project'\).*project NUMBER.*gcloud projects describe my-project/,
    ],
    [
      '123456789/locations/global/workloadIdentityPools/github/providers/my-repo',
      /must be the provider's full resource name, starting with 'projects\/'/,
    ],
    ['github/my-repo', /starting with 'projects\/'/],
    [
      'projects/123456789/locations/us-east1/workloadIdentityPools/github/providers/my-repo',
      /location 'us-east1'; workload identity pools are always in 'global'/,
    ],
    ['projects/123456789/serviceAccounts/x', /is not a workload identity provider name/],
  ])('explains %s', (value, message) => {
    const run = () => parseWorkloadIdentityProvider(value)
    expect(run).toThrow(InputError)
    expect(run).toThrow(/^Input 'gcp-workload-identity-provider': /)
    expect(run).toThrow(message)
  })
})

describe('gcpEndpoints', () => {
  it('derives every endpoint from the universe', () => {
    expect(gcpEndpoints()).toEqual({
      sts: 'https://sts.googleapis.com',
      iamCredentials: 'https://iamcredentials.googleapis.com',
      artifactRegistry: 'https://artifactregistry.googleapis.com',
    })
    expect(gcpEndpoints('s3nsapis.fr').artifactRegistry).toBe('https://artifactregistry.s3nsapis.fr')
  })

  it('takes overrides such as Private Service Connect endpoints', () => {
    expect(gcpEndpoints('googleapis.com', { sts: 'https://sts-psc.p.googleapis.com/' }).sts).toBe(
      'https://sts-psc.p.googleapis.com',
    )
  })

  it('reads private endpoints from IMAGESPEC_GCP_ENDPOINT_* and ignores empty ones', () => {
    expect(
      gcpEndpointsFromEnv({
        IMAGESPEC_GCP_ENDPOINT_STS: ' https://sts-psc.p.googleapis.com ',
        IMAGESPEC_GCP_ENDPOINT_IAMCREDENTIALS: '',
        IMAGESPEC_GCP_ENDPOINT_ARTIFACTREGISTRY: 'http://127.0.0.1:8443',
      }),
    ).toEqual({ sts: 'https://sts-psc.p.googleapis.com', artifactRegistry: 'http://127.0.0.1:8443' })
    expect(gcpEndpointsFromEnv({})).toEqual({})
  })
})

describe('authenticateGcp input checks', () => {
  it('rejects a service account that is not an email before any network call', async () => {
    let fetched = false
    const run = authenticateGcp({
      workloadIdentityProvider: PROVIDER,
      serviceAccount: 'pusher',
      getIDToken: async () => {
        fetched = true
        return 'x'
      },
    })
    await expect(run).rejects.toThrow("Input 'gcp-service-account': 'pusher' is not a service account email")
    expect(fetched).toBe(false)
  })
})

/** A client whose request() replays scripted replies; errors mimic gaxios (status + response.data). */
function scripted(
  replies: ({ data: unknown } | { status: number; data: unknown })[],
): ArSession & { urls: string[] } {
  const urls: string[] = []
  const client = {
    request: async <T>(opts: { url?: unknown }) => {
      urls.push(String(opts.url))
      const next = replies.shift()
      if (!next) throw new Error('no more replies')
      if ('status' in next) {
        throw Object.assign(new Error(`Request failed with status code ${next.status}`), {
          status: next.status,
          response: { status: next.status, data: next.data },
        })
      }
      return { data: next.data as T }
    },
  } as unknown as ArSession['client']
  return {
    client,
    urls,
    endpoints: gcpEndpoints(),
    serviceAccount: undefined,
    provider: { name: PROVIDER, projectNumber: '123456789', pool: 'github', provider: 'my-repo' },
  }
}

describe('ensureGarRepository edge cases', () => {
  const ref = { project: 'p', location: 'us', repository: 'r' }
  const notFound = { status: 404, data: { error: { code: 404, status: 'NOT_FOUND', message: 'not found' } } }

  it('reports a failed create operation', async () => {
    const session = scripted([
      notFound,
      {
        data: {
          name: 'projects/p/locations/us/operations/1',
          done: true,
          error: { code: 9, message: 'quota exceeded' },
        },
      },
    ])
    await expect(ensureGarRepository(session, ref)).rejects.toThrow(
      'Creating Artifact Registry repository projects/p/locations/us/repositories/r failed: quota exceeded.',
    )
    expect(session.urls[1]).toBe(
      'https://artifactregistry.googleapis.com/v1/projects/p/locations/us/repositories?repositoryId=r',
    )
  })

  it('gives up on an operation that never finishes', async () => {
    const pending = { data: { name: 'projects/p/locations/us/operations/1', done: false } }
    const session = scripted([notFound, pending, pending, pending, pending])
    const sleeps: number[] = []
    const sleep = async (ms: number) => {
      sleeps.push(ms)
    }
    await expect(ensureGarRepository(session, ref, { sleep, timeoutMs: 1000 })).rejects.toThrow(
      'did not finish in time',
    )
    expect(sleeps).toEqual([250, 500])
    expect(session.urls.slice(2)).toEqual([
      'https://artifactregistry.googleapis.com/v1/projects/p/locations/us/operations/1',
      'https://artifactregistry.googleapis.com/v1/projects/p/locations/us/operations/1',
    ])
  })

  it('maps 400 to the registry input', async () => {
    const session = scripted([
      notFound,
      {
        status: 400,
        data: { error: { code: 400, status: 'INVALID_ARGUMENT', message: 'invalid location' } },
      },
    ])
    const error = await ensureGarRepository(session, ref).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InputError)
    expect((error as Error).message).toBe(
      "Input 'registry': Artifact Registry refused Artifact Registry repository projects/p/locations/us/repositories/r (INVALID_ARGUMENT: invalid location).",
    )
  })

  it('names the read permission and the direct-WIF principal when the lookup is denied', async () => {
    const session = scripted([
      { status: 403, data: { error: { code: 403, status: 'PERMISSION_DENIED', message: 'denied' } } },
    ])
    await expect(ensureGarRepository(session, ref)).rejects.toThrow(
      /Grant principalSet:\/\/iam\.googleapis\.com\/projects\/123456789\/locations\/global\/workloadIdentityPools\/github\/attribute\.repository\/OWNER\/REPO artifactregistry\.repositories\.get/,
    )
  })
})
