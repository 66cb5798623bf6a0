/**
 * The bundled action pushing to "Artifact Registry" for real: google-auth-library exchanges a token from a
 * loopback GitHub OIDC endpoint at a loopback Google STS (workload identity federation), impersonates a service
 * account at a loopback IAM Credentials API, creates the repository through a loopback Artifact Registry API, and
 * the real Docker engine logs in as oauth2accesstoken and pushes to the e2e environment's TLS registry under the
 * real-looking host us-east1-docker.pkg.dev. The Google endpoints are given through IMAGESPEC_GCP_ENDPOINT_*.
 * Expected tags come from Python (its own repr and hashlib), never from our code.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { withActionDefaults } from '../support/action-defaults.js'
import { e2eEnv } from '../support/e2e-env.js'
import { py, pythonTag } from '../support/flytekit-tag.js'
import { expectNoLeaks, maskedValues } from '../support/job-log.js'
import { runAction, runStep, type StepResult } from '../support/run-action.js'
import * as artifactRegistry from '../support/standins/artifact-registry.js'
import * as gcpIam from '../support/standins/gcp-iam-credentials.js'
import * as gcpSts from '../support/standins/gcp-sts.js'
import * as githubOidc from '../support/standins/github-oidc.js'
import { manifestDigest } from '../support/tls-registry.js'

const env = e2eEnv()
const GAR_HOST = env.E2E_GAR_HOST as string
const TOKEN = env.E2E_GAR_TOKEN as string
const REGISTRY = `${GAR_HOST}/my-project/my-repo`
const PROVIDER = 'projects/123456789/locations/global/workloadIdentityPools/github/providers/flyte-project'
const AUDIENCE = `//iam.googleapis.com/${PROVIDER}`
const SA = 'pusher@my-project.iam.gserviceaccount.com'
const REPOSITORY = 'projects/my-project/locations/us-east1/repositories/my-repo'
// A value unique to this run, in the spec: every run pushes a tag the registry has never seen.
const RUN = `r${Date.now().toString(36)}`
const registryAuth = { username: 'oauth2accesstoken', password: TOKEN, ca: env.E2E_TLS_CA as string }
const workspace = mkdtempSync(path.join(os.tmpdir(), 'e2e-gar-'))

const TAG = pythonTag(
  `{'name': 'app', 'env': {'E2E_RUN': ${py(RUN)}}, 'registry': ${py(REGISTRY)}, ` +
    `'packages': ['ispec-demo-b==1.0'], 'base_image': ${py(env.E2E_BASE_IMAGE as string)}, ` +
    `'platform': 'linux/amd64', 'pip_index': ${py(env.E2E_PIP_INDEX as string)}}`,
)
const IMAGE = `${REGISTRY}/app:${TAG}`

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return withActionDefaults({
    installer: 'pip',
    network: 'host',
    name: 'app',
    registry: REGISTRY,
    'base-image': env.E2E_BASE_IMAGE as string,
    'pip-index': env.E2E_PIP_INDEX as string,
    packages: 'ispec-demo-b==1.0',
    env: `E2E_RUN=${RUN}`,
    'gcp-workload-identity-provider': PROVIDER,
    'gcp-service-account': SA,
    ...extra,
  })
}

let oidc: githubOidc.GitHubOidcStandIn
let sts: gcpSts.GcpStsStandIn
let iam: gcpIam.GcpIamCredentialsStandIn
let ar: artifactRegistry.ArtifactRegistryStandIn

/** What a job with `permissions: id-token: write` sees, with Google's APIs at the stand-ins. */
function jobEnv(): Record<string, string> {
  return {
    ...oidc.env,
    IMAGESPEC_GCP_ENDPOINT_STS: sts.url,
    IMAGESPEC_GCP_ENDPOINT_IAMCREDENTIALS: iam.url,
    IMAGESPEC_GCP_ENDPOINT_ARTIFACTREGISTRY: ar.url,
    NODE_EXTRA_CA_CERTS: env.E2E_TLS_CA as string,
  }
}

const step = (extra: Record<string, string> = {}, state?: Record<string, string>) =>
  runStep(inputs(extra), { workspace, env: jobEnv(), ...(state ? { state } : {}) })

/** The main step, then the post step (so no run leaves a login behind); the main step's result. */
async function run(extra: Record<string, string> = {}): Promise<StepResult> {
  const { main, post } = await runAction(inputs(extra), { workspace, env: jobEnv() })
  expect(post.exitCode).toBe(0)
  return main
}

const ok = (step: StepResult) => ({
  exitCode: step.exitCode,
  log: step.exitCode === 0 ? '' : step.log.slice(-3000),
})

beforeAll(async () => {
  oidc = await githubOidc.start({ repository: 'example-org/flyte-project' })
  // Only tokens the OIDC stand-in signed, for this provider.
  sts = await gcpSts.start({ audience: AUDIENCE, signingKey: oidc.signingKey })
  // The impersonated token is the one the TLS registry's htpasswd knows for oauth2accesstoken.
  iam = await gcpIam.start({
    serviceAccounts: [SA],
    acceptToken: (t) => sts.issued.includes(t),
    accessToken: TOKEN,
  })
  ar = await artifactRegistry.start({ acceptToken: (t) => iam.issued.includes(t) })
})

afterAll(async () => {
  await Promise.all([oidc.close(), sts.close(), iam.close(), ar.close()])
  rmSync(workspace, { recursive: true, force: true })
})

describe('Artifact Registry through workload identity federation', () => {
  let main: StepResult
  let post: StepResult
  let dockerConfig: string
  let configJson: { auths?: Record<string, { auth?: string }> }

  beforeAll(async () => {
    expect(manifestDigest(IMAGE, registryAuth)).toBeNull()
    main = await step()
    dockerConfig = main.state['docker-config'] ?? ''
    configJson = existsSync(path.join(dockerConfig, 'config.json'))
      ? (JSON.parse(readFileSync(path.join(dockerConfig, 'config.json'), 'utf8')) as typeof configJson)
      : {}
    post = await step({}, main.state)
  }, 240_000)

  test('exchanges the OIDC token at STS and impersonates the service account', () => {
    expect(ok(main)).toEqual({ exitCode: 0, log: '' })
    expect(oidc.calls.map((c) => c.audience)).toEqual([AUDIENCE])
    expect(sts.calls).toHaveLength(1)
    expect(sts.calls[0]).toMatchObject({
      grantType: 'urn:ietf:params:oauth:grant-type:token-exchange',
      audience: AUDIENCE,
      subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt',
      subjectToken: oidc.calls[0]?.token,
    })
    expect(sts.calls[0]?.claims).toMatchObject({ repository: 'example-org/flyte-project', aud: AUDIENCE })
    expect(iam.calls).toHaveLength(1)
    expect(iam.calls[0]).toMatchObject({
      serviceAccount: SA,
      bearer: sts.issued[0],
      status: 200,
      issued: TOKEN,
    })
  })

  test('creates the missing DOCKER repository in us-east1 with the impersonated token', () => {
    expect(ar.calls.map((c) => [c.kind, c.path, c.status])).toEqual([
      ['get-repository', `/v1/${REPOSITORY}`, 404],
      ['create-repository', '/v1/projects/my-project/locations/us-east1/repositories', 200],
      [
        'get-operation',
        expect.stringMatching(/^\/v1\/projects\/my-project\/locations\/us-east1\/operations\//),
        200,
      ],
    ])
    expect(ar.calls.map((c) => c.bearer)).toEqual([TOKEN, TOKEN, TOKEN])
    expect(ar.calls[1]).toMatchObject({ repositoryId: 'my-repo', body: { format: 'DOCKER' } })
    expect(ar.repositories.get(REPOSITORY)).toMatchObject({ name: REPOSITORY, format: 'DOCKER' })
  })

  test("logs docker in as oauth2accesstoken and pushes under flytekit's tag, digest as in the registry", () => {
    expect(configJson.auths?.[GAR_HOST]?.auth).toBe(
      Buffer.from(`oauth2accesstoken:${TOKEN}`).toString('base64'),
    )
    expect(main.outputs.tag).toBe(TAG)
    expect(main.outputs.image).toBe(IMAGE)
    expect(main.outputs.built).toBe('true')
    const digest = manifestDigest(IMAGE, registryAuth)
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect(main.outputs.digest).toBe(digest)
    expect(main.outputs['image-digest']).toBe(`${REGISTRY}/app@${digest}`)
  })

  test('builds into the cache first, then logs in with a fresh token and pushes (a long build cannot outlive it)', () => {
    const build = main.log.indexOf('--output type=cacheonly')
    const login = main.log.indexOf(`login --username oauth2accesstoken`)
    const push = main.log.indexOf('::group::Push ')
    expect(build).toBeGreaterThan(-1)
    expect(login).toBeGreaterThan(build)
    expect(push).toBeGreaterThan(login)
  })

  test('no token reaches the log except on ::add-mask:: lines, and the post step removes the credentials', () => {
    expect(maskedValues(main.log)).toEqual(expect.arrayContaining([oidc.calls[0]?.token, TOKEN]))
    const secrets = [
      TOKEN,
      oidc.requestToken,
      ...oidc.calls.flatMap((c) => (c.token ? [c.token] : [])),
      ...sts.issued,
    ]
    expectNoLeaks(main.log, secrets)
    expectNoLeaks(post.log, secrets)
    expectNoLeaks(main.summary + JSON.stringify(main.outputs), secrets)
    expect(dockerConfig).toMatch(/imagespec-docker-/)
    expect(post.exitCode).toBe(0)
    expect(existsSync(dockerConfig)).toBe(false)
  })

  test('a second run finds the image in the registry with the token and builds nothing', async () => {
    const arBefore = ar.calls.length
    const again = await run()
    expect(ok(again)).toEqual({ exitCode: 0, log: '' })
    expect(again.outputs.built).toBe('false')
    expect(again.outputs.digest).toBe(main.outputs.digest)
    expect(again.log).not.toContain('buildx build')
    expect(ar.calls.length).toBe(arBefore)
  }, 60_000)
})

describe('Artifact Registry input mistakes', () => {
  test('a pool given as the provider fails naming gcp-workload-identity-provider, before any exchange', async () => {
    const pool = 'projects/123456789/locations/global/workloadIdentityPools/github'
    const stsBefore = sts.calls.length
    const failed = await run({ 'gcp-workload-identity-provider': pool })
    expect(failed.exitCode).not.toBe(0)
    expect(failed.log).toMatch(
      new RegExp(
        `::error::.*Input 'gcp-workload-identity-provider': '${pool}' is a workload identity pool, not a provider: append /providers/PROVIDER_ID`,
      ),
    )
    expect(sts.calls.length).toBe(stsBefore)
    expect(failed.log).not.toContain('buildx build')
  }, 60_000)
})
