/**
 * The bundled action pushing to "ECR" for real: the AWS SDK assumes a role at a loopback STS with a token from a
 * loopback GitHub OIDC endpoint, talks to a loopback ECR API, and the real Docker engine logs in and pushes to the
 * e2e environment's TLS registry under the real-looking host 123456789012.dkr.ecr.us-east-1.amazonaws.com.
 * The ECR stand-in answers image lookups from that registry, so "exists" means the registry really has it.
 * Expected tags come from Python (its own repr and hashlib), never from our code.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { withActionDefaults } from '../support/action-defaults.js'
import { e2eEnv } from '../support/e2e-env.js'
import { py, pythonTag } from '../support/flytekit-tag.js'
import { expectNoLeaks, maskedValues } from '../support/job-log.js'
import { runAction, runStep, type StepResult } from '../support/run-action.js'
import * as awsEcr from '../support/standins/aws-ecr.js'
import * as awsSts from '../support/standins/aws-sts.js'
import * as githubOidc from '../support/standins/github-oidc.js'
import { manifestDigest } from '../support/tls-registry.js'

const env = e2eEnv()
const ECR_HOST = env.E2E_ECR_HOST as string
const PASSWORD = env.E2E_ECR_PASSWORD as string
const REGISTRY = `${ECR_HOST}/team`
const ROLE = 'arn:aws:iam::123456789012:role/imagespec-pusher'
// A value unique to this run, in the spec: every run pushes a tag the registry has never seen.
const RUN = `r${Date.now().toString(36)}`
const registryAuth = { username: 'AWS', password: PASSWORD, ca: env.E2E_TLS_CA as string }
const workspace = mkdtempSync(path.join(os.tmpdir(), 'e2e-ecr-'))

function tagFor(name: string): string {
  return pythonTag(
    `{'name': ${py(name)}, 'env': {'E2E_RUN': ${py(RUN)}}, 'registry': ${py(REGISTRY)}, ` +
      `'packages': ['ispec-demo-b==1.0'], 'base_image': ${py(env.E2E_BASE_IMAGE as string)}, ` +
      `'platform': 'linux/amd64', 'pip_index': ${py(env.E2E_PIP_INDEX as string)}}`,
  )
}

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
    'aws-role-to-assume': ROLE,
    ...extra,
  })
}

let oidc: githubOidc.GitHubOidcStandIn
let sts: awsSts.StsStandIn
let ecr: awsEcr.EcrStandIn

/** What a job with `permissions: id-token: write` sees, pointed at the stand-ins; no AWS config of the host. */
function jobEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...oidc.env,
    AWS_ENDPOINT_URL_STS: sts.url,
    AWS_ENDPOINT_URL_ECR: ecr.url,
    AWS_CONFIG_FILE: path.join(workspace, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(workspace, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    NODE_EXTRA_CA_CERTS: env.E2E_TLS_CA as string,
    ...extra,
  }
}

/** The main step, then the post step (so no run leaves a login behind); the main step's result. */
async function run(
  extra: Record<string, string> = {},
  envExtra: Record<string, string> = {},
): Promise<StepResult> {
  const { main, post } = await runAction(inputs(extra), { workspace, env: jobEnv(envExtra) })
  expect(post.exitCode).toBe(0)
  return main
}

const ok = (step: StepResult) => ({
  exitCode: step.exitCode,
  log: step.exitCode === 0 ? '' : step.log.slice(-3000),
})

/** Every secret any stand-in handed out, and the runner's request token. */
function secrets(): string[] {
  return [
    PASSWORD,
    Buffer.from(`AWS:${PASSWORD}`).toString('base64'),
    oidc.requestToken,
    ...oidc.calls.flatMap((c) => (c.token ? [c.token] : [])),
    ...sts.issued.flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken]),
  ]
}

beforeAll(async () => {
  oidc = await githubOidc.start({ repository: 'example-org/flyte-project' })
  sts = await awsSts.start()
  ecr = await awsEcr.start({
    password: PASSWORD,
    // Only the keys STS handed out sign valid calls.
    acceptCredentials: (key, token) =>
      sts.issued.some((c) => c.accessKeyId === key && c.sessionToken === token),
    findImage: (repository, tag) =>
      manifestDigest(`${ECR_HOST}/${repository}:${tag}`, registryAuth) ?? undefined,
  })
})

afterAll(async () => {
  await Promise.all([oidc.close(), sts.close(), ecr.close()])
  rmSync(workspace, { recursive: true, force: true })
})

describe('ECR through an assumed role', () => {
  const tag = () => tagFor('app')
  const image = () => `${REGISTRY}/app:${tag()}`
  let main: StepResult
  let post: StepResult
  let dockerConfig: string
  let configJson: { auths?: Record<string, { auth?: string }> }

  beforeAll(async () => {
    expect(manifestDigest(image(), registryAuth)).toBeNull()
    main = await runStep(inputs(), { workspace, env: jobEnv() })
    dockerConfig = main.state['docker-config'] ?? ''
    configJson = existsSync(path.join(dockerConfig, 'config.json'))
      ? (JSON.parse(readFileSync(path.join(dockerConfig, 'config.json'), 'utf8')) as typeof configJson)
      : {}
    post = await runStep(inputs(), { workspace, env: jobEnv(), state: main.state })
  }, 240_000)

  test("assumes the role with the job's OIDC token and signs every ECR call with what STS issued", () => {
    expect(ok(main)).toEqual({ exitCode: 0, log: '' })
    expect(oidc.calls).toHaveLength(1)
    expect(oidc.calls[0]).toMatchObject({
      audience: 'sts.amazonaws.com',
      authorization: `Bearer ${oidc.requestToken}`,
    })
    expect(sts.calls).toHaveLength(1)
    expect(sts.calls[0]).toMatchObject({
      action: 'AssumeRoleWithWebIdentity',
      roleArn: ROLE,
      roleSessionName: 'imagespec-action',
      durationSeconds: 3600,
      webIdentityToken: oidc.calls[0]?.token,
    })
    expect(sts.calls[0]?.claims).toMatchObject({
      aud: 'sts.amazonaws.com',
      sub: 'repo:example-org/flyte-project:ref:refs/heads/main',
    })
    const issued = sts.issued[0] as awsSts.IssuedCredentials
    expect(ecr.calls.length).toBeGreaterThan(0)
    for (const call of ecr.calls) {
      expect([call.operation, call.accessKeyId, call.scope]).toEqual([
        call.operation,
        issued.accessKeyId,
        { region: 'us-east-1', service: 'ecr' },
      ])
    }
  })

  test('creates the missing repository team/app, then logs in with GetAuthorizationToken', () => {
    expect(ecr.calls.map((c) => [c.operation, c.errorType ?? 'ok'])).toEqual([
      ['BatchGetImage', 'RepositoryNotFoundException'],
      ['DescribeRepositories', 'RepositoryNotFoundException'],
      ['CreateRepository', 'ok'],
      ['GetAuthorizationToken', 'ok'],
      // After the push: the digest the tag points at, read back.
      ['BatchGetImage', 'ok'],
    ])
    expect(ecr.calls[0]?.input).toMatchObject({
      registryId: '123456789012',
      repositoryName: 'team/app',
      imageIds: [{ imageTag: tag() }],
    })
    expect(ecr.calls[2]?.input).toMatchObject({
      registryId: '123456789012',
      repositoryName: 'team/app',
      imageTagMutability: 'MUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
    })
    expect(ecr.repositories.get('team/app')?.imageTagMutability).toBe('MUTABLE')
    // The real `docker login`, as AWS with the password inside the authorization token.
    expect(configJson.auths?.[ECR_HOST]?.auth).toBe(Buffer.from(`AWS:${PASSWORD}`).toString('base64'))
  })

  test("the image is in the registry under flytekit's tag, with the registry's digest as output", () => {
    expect(main.outputs.tag).toBe(tag())
    expect(main.outputs.image).toBe(image())
    expect(main.outputs.built).toBe('true')
    const digest = manifestDigest(image(), registryAuth)
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect(main.outputs.digest).toBe(digest)
    expect(main.outputs['image-digest']).toBe(`${REGISTRY}/app@${digest}`)
  })

  test('no secret reaches the log except on ::add-mask:: lines', () => {
    const issued = sts.issued[0] as awsSts.IssuedCredentials
    // Masked the moment they existed ...
    expect(maskedValues(main.log)).toEqual(
      expect.arrayContaining([
        oidc.calls[0]?.token,
        issued.accessKeyId,
        issued.secretAccessKey,
        issued.sessionToken,
        PASSWORD,
      ]),
    )
    // ... and nowhere else.
    expectNoLeaks(main.log, secrets())
    expectNoLeaks(post.log, secrets())
    expectNoLeaks(main.summary + JSON.stringify(main.outputs), secrets())
  })

  test("the post step removes the job's DOCKER_CONFIG and its credentials", () => {
    expect(dockerConfig).toMatch(/imagespec-docker-/)
    expect(configJson.auths?.[ECR_HOST]).toBeDefined()
    expect(post.exitCode).toBe(0)
    expect(existsSync(dockerConfig)).toBe(false)
  })

  test('a second run finds the image through the ECR API and builds nothing', async () => {
    const before = ecr.calls.length
    const again = await run()
    expect(ok(again)).toEqual({ exitCode: 0, log: '' })
    expect(again.outputs.built).toBe('false')
    expect(again.outputs.digest).toBe(main.outputs.digest)
    expect(ecr.calls.slice(before).map((c) => [c.operation, c.input.repositoryName, c.status])).toEqual([
      ['BatchGetImage', 'team/app', 200],
    ])
    expect(again.log).not.toContain('buildx build')
    expect(again.summary).toContain('reused')
  }, 60_000)

  test('force on an IMMUTABLE repository keeps the existing image instead of overwriting it', async () => {
    const repo = ecr.repositories.get('team/app') as awsEcr.EcrRepository
    repo.imageTagMutability = 'IMMUTABLE'
    const before = ecr.calls.length
    const digest = manifestDigest(image(), registryAuth)
    const forced = await run({ force: 'true' })
    expect(ok(forced)).toEqual({ exitCode: 0, log: '' })
    expect(forced.outputs.built).toBe('false')
    expect(forced.outputs.digest).toBe(digest)
    expect(forced.log).toMatch(/::warning::.*IMMUTABLE.*kept, not overwritten/)
    expect(forced.log).not.toContain('buildx build')
    expect(ecr.calls.slice(before).map((c) => c.operation)).toEqual(['BatchGetImage', 'DescribeRepositories'])
    expect(manifestDigest(image(), registryAuth)).toBe(digest)
  }, 60_000)
})

describe('ECR with a repository that already exists', () => {
  test('pushes into it without creating anything', async () => {
    ecr.repositories.set('team/prebuilt', awsEcr.repository({ repositoryName: 'team/prebuilt' }))
    const image = `${REGISTRY}/prebuilt:${tagFor('prebuilt')}`
    expect(manifestDigest(image, registryAuth)).toBeNull()
    const before = ecr.calls.length
    const step = await run({ name: 'prebuilt' })
    expect(ok(step)).toEqual({ exitCode: 0, log: '' })
    expect(step.outputs.image).toBe(image)
    expect(step.outputs.built).toBe('true')
    expect(ecr.calls.slice(before).map((c) => [c.operation, c.status])).toEqual([
      ['BatchGetImage', 200],
      ['DescribeRepositories', 200],
      ['GetAuthorizationToken', 200],
      ['BatchGetImage', 200],
    ])
    expect(manifestDigest(image, registryAuth)).toBe(step.outputs.digest)
  }, 240_000)
})

describe('ECR failures say what to fix', () => {
  const noToken = { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' }

  test('without `permissions: id-token: write` it fails before any AWS call, telling to add it', async () => {
    const stsBefore = sts.calls.length
    const ecrBefore = ecr.calls.length
    const step = await run({}, noToken)
    expect(step.exitCode).not.toBe(0)
    expect(step.log).toMatch(
      /::error::.*No GitHub OIDC token is available to this job \(needed for AWS \(aws-role-to-assume\)\)/,
    )
    // The runner prints the multi-line message with %0A for each line break.
    expect(step.log).toMatch(
      /::error::.*Give the job permission to request one:%0A%0A {4}permissions:%0A {6}id-token: write/,
    )
    expect(step.log).not.toContain('This run is a pull request from the fork')
    expect(sts.calls.length).toBe(stsBefore)
    expect(ecr.calls.length).toBe(ecrBefore)
    expect(step.log).not.toContain('buildx build')
  }, 60_000)

  test('a pull request from a fork is told that forks never get an OIDC token', async () => {
    const event = path.join(workspace, 'pull_request.json')
    writeFileSync(
      event,
      JSON.stringify({
        action: 'opened',
        number: 7,
        pull_request: {
          number: 7,
          head: { ref: 'patch-1', repo: { full_name: 'contributor/flyte-project' } },
          base: { ref: 'main', repo: { full_name: 'example-org/flyte-project' } },
        },
      }),
    )
    // fail-on-fork: without it the step ends with a notice and succeeds (see preview.test.ts).
    const step = await run(
      { 'fail-on-fork': 'true' },
      { ...noToken, GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event },
    )
    expect(step.exitCode).not.toBe(0)
    expect(step.log).toMatch(
      /::error::.*pull request from the fork 'contributor\/flyte-project' into 'example-org\/flyte-project'.*never gives pull requests from forks an OIDC token/,
    )
    expect(step.log).not.toContain('buildx build')
  }, 60_000)

  test('STS AccessDenied names aws-role-to-assume and the trust policy, and leaks no token', async () => {
    const denying = await awsSts.start({ refuse: () => awsSts.ACCESS_DENIED })
    try {
      const ecrBefore = ecr.calls.length
      const step = await run({}, { AWS_ENDPOINT_URL_STS: denying.url })
      expect(step.exitCode).not.toBe(0)
      expect(denying.calls.map((c) => [c.roleArn, c.error])).toEqual([[ROLE, 'AccessDenied']])
      expect(step.log).toMatch(
        new RegExp(
          `::error::.*Input 'aws-role-to-assume': AWS refused to let this workflow assume '${ROLE}' \\(AccessDenied: `,
        ),
      )
      expect(step.log).toContain("sub 'repo:example-org/flyte-project:ref:refs/heads/main'")
      expect(step.log).toContain('trust policy')
      expect(ecr.calls.length).toBe(ecrBefore)
      expectNoLeaks(step.log, [oidc.requestToken, ...oidc.calls.flatMap((c) => (c.token ? [c.token] : []))])
    } finally {
      await denying.close()
    }
  }, 60_000)
})
