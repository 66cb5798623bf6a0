import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import type { RegistryApi } from '../../src/connections/connection.js'
import { authenticateGcp, type GcpSession } from '../../src/cloud/gcp/credentials.js'
import { garImageTarget, parseRegistry, type GarRegistry } from '../../src/registry/hosts.js'
import { MemoryLogger } from '../../src/log.js'
import { planCleanup } from '../../src/preview/cleanup-plan.js'
import { deleteGarTag } from '../../src/preview/gar-tags.js'
import { tagStore } from '../../src/preview/tag-store.js'
import { previewTagMatcher } from '../../src/preview/tags.js'
import * as artifactRegistry from '../support/standins/artifact-registry.js'
import * as gcpIam from '../support/standins/gcp-iam-credentials.js'
import * as gcpSts from '../support/standins/gcp-sts.js'
import * as githubOidc from '../support/standins/github-oidc.js'
import { recordingMask, rejectionOf } from '../support/secrets.js'

// Artifact Registry tag deletion with google-auth-library's real external-account client (GitHub OIDC -> STS ->
// service account impersonation) against the loopback stand-ins.

const PROVIDER = 'projects/123456789/locations/global/workloadIdentityPools/github/providers/my-repo'
const AUDIENCE = `//iam.googleapis.com/${PROVIDER}`
const SA = 'pusher@my-project.iam.gserviceaccount.com'
const REGISTRY = 'us-east1-docker.pkg.dev/my-project/images'
const PKG = 'projects/my-project/locations/us-east1/repositories/images/packages/team%2Fapp'
const FLYTE = 'Ab3xQ9cV1s2d4f5g6h7j8k'
const IMAGE = `sha256:${'a'.repeat(64)}`
const OTHER = `sha256:${'b'.repeat(64)}`
const saved = { ...process.env }

let oidc: githubOidc.GitHubOidcStandIn
let sts: gcpSts.GcpStsStandIn
let iam: gcpIam.GcpIamCredentialsStandIn
let ar: artifactRegistry.ArtifactRegistryStandIn

beforeAll(async () => {
  oidc = await githubOidc.start({ repository: 'octo-org/octo-repo' })
  sts = await gcpSts.start({ audience: AUDIENCE, signingKey: oidc.signingKey })
  iam = await gcpIam.start({ serviceAccounts: [SA], acceptToken: (t) => sts.issued.includes(t) })
})
afterAll(async () => {
  await oidc.close()
  await sts.close()
  await iam.close()
})
beforeEach(() => {
  Object.assign(process.env, oidc.env, { GITHUB_EVENT_NAME: 'pull_request' })
})
afterEach(async () => {
  process.env = { ...saved }
  await ar?.close()
})

async function startAr(
  tags: Record<string, string>,
  refuse?: artifactRegistry.ArtifactRegistryOptions['refuse'],
): Promise<GcpSession> {
  ar = await artifactRegistry.start({
    acceptToken: (t) => iam.issued.includes(t),
    tags: Object.fromEntries(Object.entries(tags).map(([tag, digest]) => [`${PKG}/tags/${tag}`, digest])),
    ...(refuse ? { refuse } : {}),
  })
  return authenticateGcp({
    workloadIdentityProvider: PROVIDER,
    serviceAccount: SA,
    mask: recordingMask(),
    endpoints: { sts: sts.url, iamCredentials: iam.url, artifactRegistry: ar.url },
  })
}

const target = () => garImageTarget(parseRegistry(REGISTRY) as GarRegistry, 'team/app')
const liveTags = () =>
  Object.fromEntries([...ar.tags].map(([name, digest]) => [name.slice(`${PKG}/tags/`.length), digest]))

function garApi(session: GcpSession): RegistryApi {
  return {
    kind: 'gar',
    session,
    target: (name) => garImageTarget(parseRegistry(REGISTRY) as GarRegistry, name),
    credentials: async () => undefined,
  }
}

describe('Artifact Registry tags through the REST API', () => {
  test('deleting a preview tag removes only that tag; the image keeps its flytekit tag', async () => {
    const session = await startAr({ [FLYTE]: IMAGE, 'pr-5': IMAGE, 'pr-50': OTHER })

    await expect(deleteGarTag(session, target(), 'pr-5')).resolves.toBe('deleted')

    expect(liveTags()).toEqual({ [FLYTE]: IMAGE, 'pr-50': OTHER })
    const call = ar.calls.find((c) => c.kind === 'delete-tag')
    expect(call).toMatchObject({
      method: 'DELETE',
      path: `/v1/${PKG}/tags/pr-5`,
      tag: 'pr-5',
      bearer: iam.issued.at(-1),
      status: 200,
    })
  })

  test('a tag that is already gone is success', async () => {
    const session = await startAr({ [FLYTE]: IMAGE })

    await expect(deleteGarTag(session, target(), 'pr-5')).resolves.toBe('gone')
    expect(ar.calls.map((c) => `${c.kind}:${c.status}`)).toEqual(['delete-tag:404'])
    expect(liveTags()).toEqual({ [FLYTE]: IMAGE })
  })

  test('the tag store deletes each tag of a group; the keep rule does not apply, as the image stays', async () => {
    const session = await startAr({ [FLYTE]: IMAGE, 'pr-5': IMAGE, 'pr-5-abcdef1': IMAGE, latest: OTHER })
    const store = tagStore(REGISTRY, garApi(session), new MemoryLogger())
    expect(store.deletesByDigest).toBe(false)

    // With tag-only deletes, a preview tag on an image the flytekit tag also names is deleted, not kept.
    const plan = planCleanup(
      new Map([
        [FLYTE, IMAGE],
        ['pr-5', IMAGE],
        ['pr-5-abcdef1', IMAGE],
        ['latest', OTHER],
      ]),
      previewTagMatcher([], 5).matches,
      store.deletesByDigest,
    )
    expect(plan).toEqual({ delete: [{ digest: IMAGE, tags: ['pr-5', 'pr-5-abcdef1'] }], keep: [] })

    await expect(store.deleteTags('team/app', IMAGE, ['pr-5', 'pr-5-abcdef1'])).resolves.toBe('deleted')
    expect(liveTags()).toEqual({ [FLYTE]: IMAGE, latest: OTHER })
    expect(ar.calls.filter((c) => c.kind === 'delete-tag').map((c) => c.tag)).toEqual([
      'pr-5',
      'pr-5-abcdef1',
    ])

    // Run again (a retried job): everything is already gone.
    await expect(store.deleteTags('team/app', IMAGE, ['pr-5', 'pr-5-abcdef1'])).resolves.toBe('gone')
    expect(liveTags()).toEqual({ [FLYTE]: IMAGE, latest: OTHER })
  })

  test('a refused delete names the permission and the service account', async () => {
    const session = await startAr({ 'pr-5': IMAGE }, (call) =>
      call.kind === 'delete-tag'
        ? {
            code: 403,
            status: 'PERMISSION_DENIED',
            message: "Permission 'artifactregistry.tags.delete' denied",
          }
        : undefined,
    )
    const error = await rejectionOf(
      () => deleteGarTag(session, target(), 'pr-5'),
      () => [...iam.issued],
    )

    expect(error.message).toContain('artifactregistry.tags.delete')
    expect(error.message).toContain(`serviceAccount:${SA}`)
    expect(error.message).toContain(`${PKG}/tags/pr-5`)
    expect(liveTags()).toEqual({ 'pr-5': IMAGE })
  })
})

describe('the Artifact Registry stand-in tag endpoints', () => {
  test('create, get and list answer like the API', async () => {
    const session = await startAr({ [FLYTE]: IMAGE })
    const base = `${ar.url}/v1/${PKG}/tags`
    const created = await session.client.request({
      url: `${base}?tagId=pr-5`,
      method: 'POST',
      data: { version: `${PKG}/versions/${IMAGE}` },
    })
    expect(created.data).toEqual({ name: `${PKG}/tags/pr-5`, version: `${PKG}/versions/${IMAGE}` })
    const got = await session.client.request({ url: `${base}/pr-5` })
    expect(got.data).toEqual({ name: `${PKG}/tags/pr-5`, version: `${PKG}/versions/${IMAGE}` })
    const page1 = await session.client.request<{ tags: unknown[]; nextPageToken?: string }>({
      url: `${base}?pageSize=1`,
    })
    expect(page1.data.tags).toEqual([{ name: `${PKG}/tags/${FLYTE}`, version: `${PKG}/versions/${IMAGE}` }])
    expect(page1.data.nextPageToken).toBe('1')
    await expect(
      session.client.request({
        url: `${base}?tagId=pr-5`,
        method: 'POST',
        data: { version: `${PKG}/versions/${OTHER}` },
      }),
    ).rejects.toMatchObject({ status: 409 })
  })
})
