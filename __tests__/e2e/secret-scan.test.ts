/**
 * Secret scans of whole runs of the bundled action (main step and post step, as the runner runs them): for each
 * flow, every secret it was given or handed out is searched raw, lower-cased, URL-encoded and base64-encoded (see
 * support/secret-scan.ts) in both steps' logs (except the `::add-mask::` lines the runner consumes), GITHUB_OUTPUT,
 * GITHUB_STATE and GITHUB_STEP_SUMMARY, everything left in RUNNER_TEMP after the post step, the build records
 * BuildKit keeps, the pushed image (manifests, config and history, every layer, as the registry holds it and as
 * the engine shows it after a pull) and the exported build cache. Zero findings everywhere.
 *
 * The flows: a login with username and password, ECR and Artifact Registry through their stand-ins (OIDC token, STS
 * keys, registry password), a wrong password, a failing build, a dry run, a symbolic link to a file outside the
 * workspace, and build secrets (the `secrets` input, and `pip_secret_mounts` that pip really reads). The first
 * describe block shows the scan finds each form where it was planted, so the zeros below can fail.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { withActionDefaults } from '../support/action-defaults.js'
import { e2eEnv } from '../support/e2e-env.js'
import { maskedValues } from '../support/job-log.js'
import { runAction, runStep, type StepResult } from '../support/run-action.js'
import { needlesFor, SecretScan, type RegistryAccess, type Secret } from '../support/secret-scan.js'
import * as artifactRegistry from '../support/standins/artifact-registry.js'
import * as awsEcr from '../support/standins/aws-ecr.js'
import * as awsSts from '../support/standins/aws-sts.js'
import * as gcpIam from '../support/standins/gcp-iam-credentials.js'
import * as gcpSts from '../support/standins/gcp-sts.js'
import * as githubOidc from '../support/standins/github-oidc.js'
import { manifestDigest } from '../support/tls-registry.js'

const env = e2eEnv()
const STAMP = `e2e-scan-${Date.now().toString(36)}`
const BUILD_TIMEOUT = 600_000
const USER = env.E2E_AUTH_USER as string
const PASSWORD = env.E2E_AUTH_PASSWORD as string
const AUTH_REGISTRY = env.E2E_AUTH_REGISTRY as string
const OPEN: RegistryAccess = { scheme: 'http' }
const AUTH: RegistryAccess = { scheme: 'http', username: USER, password: PASSWORD }
const LOGIN_SECRET: Secret = { label: 'E2E_AUTH_PASSWORD', value: PASSWORD, user: USER }

/** A secret of this run, with characters that URL-encoding and base64 change. */
const fresh = (prefix: string) => `${prefix}/${randomBytes(9).toString('base64url')}+Pa55=word&x`

const dirs: string[] = []
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  dirs.push(dir)
  return dir
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

interface Flow {
  main: StepResult
  post: StepResult
  runnerTemp: string
  started: Date
}

/** The main step and the post step with one RUNNER_TEMP, as on a runner. */
async function runFlow(
  inputs: Record<string, string>,
  workspace: string,
  extraEnv: Record<string, string> = {},
): Promise<Flow> {
  const runnerTemp = path.join(tempDir('e2e-scan-runner-'), 'temp')
  // BuildKit's record times and this clock are the same machine's; a second of slack for rounding.
  const started = new Date(Date.now() - 1000)
  const { main, post } = await runAction(inputs, { workspace, env: { RUNNER_TEMP: runnerTemp, ...extraEnv } })
  return { main, post, runnerTemp, started }
}

/** Everything the job leaves outside the registry: both steps, RUNNER_TEMP after the post step, build records. */
async function scanJob(scan: SecretScan, flow: Flow): Promise<void> {
  scan.step('main', flow.main)
  scan.step('post', flow.post)
  await scan.dir(flow.runnerTemp)
  scan.buildHistory(flow.started)
}

/** The pushed image as the registry holds it and as the engine shows it after a pull. */
async function scanImage(scan: SecretScan, image: string, access: RegistryAccess): Promise<void> {
  await scan.image(image, access)
  scan.dockerImage(image, access)
}

const ok = (step: StepResult) => ({
  exitCode: step.exitCode,
  log: step.exitCode === 0 ? '' : step.log.slice(-3000),
})

const errors = (log: string) =>
  log
    .split('\n')
    .filter((l) => l.startsWith('::error::'))
    .join('\n')

/** Bytes searched in the image's layers: a scan of nothing finds nothing. */
const layerBytes = (scan: SecretScan) =>
  scan.searched.filter((s) => / layer sha256:/.test(s.where)).reduce((n, s) => n + s.bytes, 0)

/** One image of the e2e package index's smallest package, under `registry`. */
function small(registry: string, name: string, extra: Record<string, string> = {}): Record<string, string> {
  return withActionDefaults({
    installer: 'pip',
    network: 'host',
    'flytekit-version': 'none',
    name,
    registry,
    'base-image': env.E2E_BASE_IMAGE as string,
    'pip-index': env.E2E_PIP_INDEX as string,
    packages: 'ispec-demo-b==1.0',
    ...extra,
  })
}

/** The tags a repository of the password registry has, or null when it has none. */
async function tagsOf(
  registry: string,
  repository: string,
  access: RegistryAccess,
): Promise<string[] | null> {
  const headers: Record<string, string> =
    access.username !== undefined
      ? {
          authorization: `Basic ${Buffer.from(`${access.username}:${access.password ?? ''}`).toString('base64')}`,
        }
      : {}
  const res = await fetch(`http://${registry}/v2/${repository}/tags/list`, { headers })
  if (res.status === 404) return null
  const body = (await res.json()) as { tags?: string[] | null }
  return body.tags ?? null
}

const py = (script: string, ...args: string[]) =>
  execFileSync('python3', ['-c', script, ...args], { encoding: 'utf8' }).replace(/\n$/, '')

describe('the scan finds each form of a secret where it was planted', () => {
  const SECRET = 'Plant/ed+Secret=Value&42'
  const planted: Secret = { label: 'planted', value: SECRET, user: 'runner' }

  test("the needles are Python's encodings: base64 at every alignment, docker's auth field, URL-encoding", () => {
    const forms = Object.fromEntries(needlesFor(planted).map((n) => [n.form, n.bytes.toString()]))
    const [b64, auth, quoted] = py(
      'import base64, sys, urllib.parse; s = sys.argv[1]\n' +
        'print(base64.b64encode(s.encode()).decode()); print(base64.b64encode(("runner:" + s).encode()).decode())\n' +
        'print(urllib.parse.quote(s, safe=""))',
      SECRET,
    ).split('\n')
    expect([
      forms.raw,
      forms['lower-cased'],
      forms.base64,
      forms['base64(user:secret)'],
      forms['url-encoded'],
    ]).toEqual([SECRET, 'plant/ed+secret=value&42', b64, auth, quoted])
    // Go's JSON encoder writes & as \u0026 (image configs, docker's and BuildKit's records).
    expect([forms['json-escaped'], forms['go-json-escaped'], forms['lower-cased go-json-escaped']]).toEqual([
      undefined, // the same text as raw: no second needle
      'Plant/ed+Secret=Value\\u002642',
      'plant/ed+secret=value\\u002642',
    ])
    // A secret of whole base64 groups is base64@0 itself.
    expect(forms['base64@0']).toBeUndefined()
    // The secret after 0, 1 or 2 other bytes: one of the alignment forms is inside Python's base64 of it.
    for (const [prefix, form] of [
      ['', 'base64'],
      ['x', 'base64@2'],
      ['xy', 'base64@1'],
    ] as const) {
      const encoded = py(
        'import base64, sys; print(base64.b64encode((sys.argv[1] + sys.argv[2]).encode()).decode())',
        prefix,
        SECRET,
      )
      expect(encoded).toContain(forms[form])
    }
  })

  test('a log: any line but the ::add-mask:: one', () => {
    const scan = new SecretScan([planted])
    scan.log('masked only', `::add-mask::${SECRET}\nall good\n`)
    scan.log('leaked', `::add-mask::${SECRET}\nlogin with ${SECRET}\n`)
    expect(scan.report()).toEqual(['leaked (offset 11): planted as raw'])
  })

  test('a folder: files, gzip files decompressed, link targets', async () => {
    const dir = tempDir('e2e-scan-plant-')
    mkdirSync(path.join(dir, 'nested'))
    const auth = Buffer.from(`runner:${SECRET}`).toString('base64')
    writeFileSync(path.join(dir, 'nested', 'config.json'), JSON.stringify({ auths: { 'ghcr.io': { auth } } }))
    writeFileSync(path.join(dir, 'cache.gz'), gzipSync(Buffer.from(`x${SECRET.toLowerCase()}x`)))
    symlinkSync(`/tmp/${encodeURIComponent(SECRET)}`, path.join(dir, 'link'))
    const scan = new SecretScan([planted])
    await scan.dir(dir)
    expect(scan.findings.map((f) => [path.relative(dir, f.where), f.form]).sort()).toEqual([
      ['cache.gz (decompressed)', 'lower-cased'],
      ['link (link target)', 'url-encoded'],
      // 'runner:' is 7 bytes: the secret starts at 7, so base64@2 is inside docker's auth field too.
      ['nested/config.json', 'base64(user:secret)'],
      ['nested/config.json', 'base64@2'],
    ])
  })

  test(
    'an image: config and history, every layer (deleted files too), the engine views, the build record',
    async () => {
      const ctx = tempDir('e2e-scan-plant-ctx-')
      const [inBase64, quoted] = py(
        'import base64, sys, urllib.parse; s = sys.argv[1]\n' +
          'print(base64.b64encode(("x" + s).encode()).decode()); print(urllib.parse.quote(s, safe=""))',
        SECRET,
      ).split('\n')
      writeFileSync(path.join(ctx, 'x.b64'), `${inBase64}\n`)
      writeFileSync(path.join(ctx, 'gone'), `${SECRET}\n`)
      writeFileSync(
        path.join(ctx, 'Dockerfile'),
        [
          `FROM ${env.E2E_BASE_IMAGE}`,
          'COPY x.b64 /root/x.b64',
          'COPY gone /root/gone',
          'RUN rm /root/gone',
          `LABEL planted="${quoted}"`,
          `ENV PLANTED=${SECRET.toLowerCase()}`,
          '',
        ].join('\n'),
      )
      const image = `${env.E2E_REGISTRY}/${STAMP}/planted:1`
      const started = new Date(Date.now() - 1000)
      const built = spawnSync(
        'docker',
        [
          'buildx',
          'build',
          '--push',
          '--provenance=false',
          '--build-arg',
          `PLANTED_ARG=${SECRET}`,
          '-t',
          image,
          ctx,
        ],
        { encoding: 'utf8' },
      )
      expect(built.stderr.slice(-2000)).not.toMatch(/ERROR/)
      const scan = new SecretScan([planted])
      await scanImage(scan, image, OPEN)
      scan.buildHistory(started)
      const found = new Set(
        scan.findings.map((f) => {
          const place = f.where
            .replace(/sha256:[a-f0-9]{64}/g, 'D')
            .replace(/build record \S+/, 'build record')
          return `${place.replace(image, 'IMAGE')} ${f.at.startsWith('file ') ? f.at : ''}: ${f.form}`
        }),
      )
      expect([...found].sort()).toEqual(
        [
          // The label; the ENV as Go's JSON writes it (& as \u0026).
          'IMAGE config D : url-encoded',
          'IMAGE config D : lower-cased go-json-escaped',
          // The file after 'x', and the file a later layer deleted.
          'IMAGE layer D file root/x.b64: base64@2',
          'IMAGE layer D file root/gone: raw',
          // docker image inspect writes & as it is; the history as Go's JSON.
          'docker image inspect IMAGE : url-encoded',
          'docker image inspect IMAGE : lower-cased',
          'docker history IMAGE : url-encoded',
          'docker history IMAGE : lower-cased go-json-escaped',
          // The build argument, in BuildKit's record of the build.
          'build record (inspect) : go-json-escaped',
        ].sort(),
      )
    },
    BUILD_TIMEOUT,
  )
})

describe('username and password: logged in, built, pushed to the password registry, cache exported', () => {
  const cacheDir = path.join(tempDir('e2e-scan-cache-'), 'cache')
  let flow: Flow

  beforeAll(async () => {
    flow = await runFlow(
      small(`${AUTH_REGISTRY}/${STAMP}`, 'login', {
        username: USER,
        password: PASSWORD,
        'cache-to': `type=local,dest=${cacheDir},mode=max`,
      }),
      tempDir('e2e-scan-ws-'),
    )
  }, BUILD_TIMEOUT)

  test('the image is pushed; the password was masked; the post step succeeded', () => {
    expect(ok(flow.main)).toEqual({ exitCode: 0, log: '' })
    expect(flow.main.outputs.built).toBe('true')
    expect(maskedValues(flow.main.log)).toContain(PASSWORD)
    expect(flow.post.exitCode).toBe(0)
  })

  test('nothing in the logs, outputs, state, summary, RUNNER_TEMP or build records', async () => {
    const scan = new SecretScan([LOGIN_SECRET])
    await scanJob(scan, flow)
    expect(scan.report()).toEqual([])
  })

  test('nothing in the pushed image', async () => {
    const scan = new SecretScan([LOGIN_SECRET])
    await scanImage(scan, flow.main.outputs.image as string, AUTH)
    expect(scan.report()).toEqual([])
    expect(layerBytes(scan)).toBeGreaterThan(1_000_000)
  }, 120_000)

  test("the post step removed the job's Docker config from RUNNER_TEMP", () => {
    expect(flow.main.state['docker-config']).toMatch(/imagespec-docker-/)
    expect(existsSync(flow.main.state['docker-config'] as string)).toBe(false)
    expect(readdirSync(flow.runnerTemp).filter((n) => n.startsWith('imagespec-docker-'))).toEqual([])
  })

  test(
    '(before the post step, the scan finds the login in RUNNER_TEMP: the zeros above can fail)',
    async () => {
      const runnerTemp = path.join(tempDir('e2e-scan-runner-'), 'temp')
      const inputs = small(`${AUTH_REGISTRY}/${STAMP}`, 'login', {
        username: USER,
        password: PASSWORD,
        force: 'true',
      })
      const workspace = tempDir('e2e-scan-ws-')
      const main = await runStep(inputs, {
        workspace,
        env: { RUNNER_TEMP: runnerTemp },
      })
      try {
        expect(ok(main)).toEqual({ exitCode: 0, log: '' })
        const scan = new SecretScan([LOGIN_SECRET])
        await scan.dir(runnerTemp)
        expect(scan.findings.map((f) => [path.basename(f.where), f.form])).toContainEqual([
          'config.json',
          'base64(user:secret)',
        ])
      } finally {
        await runStep(inputs, { workspace, env: { RUNNER_TEMP: runnerTemp }, state: main.state })
      }
    },
    BUILD_TIMEOUT,
  )

  test('nothing in the exported build cache', async () => {
    expect(existsSync(path.join(cacheDir, 'index.json'))).toBe(true)
    const scan = new SecretScan([LOGIN_SECRET])
    await scan.dir(cacheDir)
    expect(scan.report()).toEqual([])
    expect(scan.searched.some((s) => s.where.endsWith('(decompressed)'))).toBe(true)
  }, 120_000)
})

describe('ECR through an assumed role (OIDC token, STS keys, ECR password)', () => {
  const ECR_HOST = env.E2E_ECR_HOST as string
  const ECR_PASSWORD = env.E2E_ECR_PASSWORD as string
  const REGISTRY = `${ECR_HOST}/${STAMP}`
  const access: RegistryAccess = {
    scheme: 'https',
    ca: env.E2E_TLS_CA as string,
    username: 'AWS',
    password: ECR_PASSWORD,
  }
  const cacheDir = path.join(tempDir('e2e-scan-cache-'), 'cache')
  let oidc: githubOidc.GitHubOidcStandIn
  let sts: awsSts.StsStandIn
  let ecr: awsEcr.EcrStandIn
  let flow: Flow

  /** Every secret the stand-ins handed out, and the runner's request token. */
  const secrets = (): Secret[] => [
    { label: 'ECR password', value: ECR_PASSWORD, user: 'AWS' },
    { label: 'OIDC request token', value: oidc.requestToken },
    ...oidc.calls.flatMap((c, i) => (c.token ? [{ label: `OIDC token ${i}`, value: c.token }] : [])),
    ...sts.issued.flatMap((c, i) => [
      { label: `STS access key id ${i}`, value: c.accessKeyId },
      { label: `STS secret access key ${i}`, value: c.secretAccessKey },
      { label: `STS session token ${i}`, value: c.sessionToken },
    ]),
  ]

  beforeAll(async () => {
    oidc = await githubOidc.start({ repository: 'example-org/flyte-project' })
    sts = await awsSts.start()
    ecr = await awsEcr.start({
      password: ECR_PASSWORD,
      acceptCredentials: (key, token) =>
        sts.issued.some((c) => c.accessKeyId === key && c.sessionToken === token),
      findImage: (repository, tag) =>
        manifestDigest(`${ECR_HOST}/${repository}:${tag}`, {
          username: 'AWS',
          password: ECR_PASSWORD,
          ca: env.E2E_TLS_CA as string,
        }) ?? undefined,
    })
    const ws = tempDir('e2e-scan-ws-')
    flow = await runFlow(
      small(REGISTRY, 'app', {
        'aws-role-to-assume': 'arn:aws:iam::123456789012:role/imagespec-pusher',
        'cache-to': `type=local,dest=${cacheDir},mode=max`,
      }),
      ws,
      {
        ...oidc.env,
        AWS_ENDPOINT_URL_STS: sts.url,
        AWS_ENDPOINT_URL_ECR: ecr.url,
        AWS_CONFIG_FILE: path.join(ws, 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(ws, 'no-aws-credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
        NODE_EXTRA_CA_CERTS: env.E2E_TLS_CA as string,
      },
    )
  }, BUILD_TIMEOUT)

  afterAll(async () => {
    await Promise.all([oidc.close(), sts.close(), ecr.close()])
  })

  test('the image is pushed with the credentials STS issued', () => {
    expect(ok(flow.main)).toEqual({ exitCode: 0, log: '' })
    expect(flow.main.outputs.built).toBe('true')
    expect(sts.issued).toHaveLength(1)
    expect(oidc.calls.filter((c) => c.token)).toHaveLength(1)
    expect(flow.post.exitCode).toBe(0)
  })

  test('nothing in the logs, outputs, state, summary, RUNNER_TEMP or build records', async () => {
    const scan = new SecretScan(secrets())
    await scanJob(scan, flow)
    expect(scan.report()).toEqual([])
  })

  test('nothing in the pushed image or the exported build cache', async () => {
    const scan = new SecretScan(secrets())
    await scanImage(scan, flow.main.outputs.image as string, access)
    await scan.dir(cacheDir)
    expect(scan.report()).toEqual([])
    expect(layerBytes(scan)).toBeGreaterThan(1_000_000)
  }, 120_000)
})

describe('Artifact Registry through workload identity federation (OIDC token, federated and access tokens)', () => {
  const GAR_HOST = env.E2E_GAR_HOST as string
  const TOKEN = env.E2E_GAR_TOKEN as string
  const PROVIDER = 'projects/123456789/locations/global/workloadIdentityPools/github/providers/flyte-project'
  const SA = 'pusher@my-project.iam.gserviceaccount.com'
  const access: RegistryAccess = {
    scheme: 'https',
    ca: env.E2E_TLS_CA as string,
    username: 'oauth2accesstoken',
    password: TOKEN,
  }
  const cacheDir = path.join(tempDir('e2e-scan-cache-'), 'cache')
  let oidc: githubOidc.GitHubOidcStandIn
  let sts: gcpSts.GcpStsStandIn
  let iam: gcpIam.GcpIamCredentialsStandIn
  let ar: artifactRegistry.ArtifactRegistryStandIn
  let flow: Flow

  const secrets = (): Secret[] => [
    { label: 'GAR access token', value: TOKEN, user: 'oauth2accesstoken' },
    { label: 'OIDC request token', value: oidc.requestToken },
    ...oidc.calls.flatMap((c, i) => (c.token ? [{ label: `OIDC token ${i}`, value: c.token }] : [])),
    ...sts.issued.map((t, i) => ({ label: `federated token ${i}`, value: t })),
    ...iam.issued.map((t, i) => ({ label: `impersonated token ${i}`, value: t })),
  ]

  beforeAll(async () => {
    oidc = await githubOidc.start({ repository: 'example-org/flyte-project' })
    sts = await gcpSts.start({ audience: `//iam.googleapis.com/${PROVIDER}`, signingKey: oidc.signingKey })
    iam = await gcpIam.start({
      serviceAccounts: [SA],
      acceptToken: (t) => sts.issued.includes(t),
      accessToken: TOKEN,
    })
    ar = await artifactRegistry.start({ acceptToken: (t) => iam.issued.includes(t) })
    flow = await runFlow(
      small(`${GAR_HOST}/my-project/my-repo`, 'scan', {
        env: `E2E_RUN=${STAMP}`,
        'gcp-workload-identity-provider': PROVIDER,
        'gcp-service-account': SA,
        'cache-to': `type=local,dest=${cacheDir},mode=max`,
      }),
      tempDir('e2e-scan-ws-'),
      {
        ...oidc.env,
        IMAGESPEC_GCP_ENDPOINT_STS: sts.url,
        IMAGESPEC_GCP_ENDPOINT_IAMCREDENTIALS: iam.url,
        IMAGESPEC_GCP_ENDPOINT_ARTIFACTREGISTRY: ar.url,
        NODE_EXTRA_CA_CERTS: env.E2E_TLS_CA as string,
      },
    )
  }, BUILD_TIMEOUT)

  afterAll(async () => {
    await Promise.all([oidc.close(), sts.close(), iam.close(), ar.close()])
  })

  test('the image is pushed with the impersonated token', () => {
    expect(ok(flow.main)).toEqual({ exitCode: 0, log: '' })
    expect(flow.main.outputs.built).toBe('true')
    expect(sts.issued.length).toBeGreaterThan(0)
    expect(iam.issued.length).toBeGreaterThan(0)
    expect(flow.post.exitCode).toBe(0)
  })

  test('nothing in the logs, outputs, state, summary, RUNNER_TEMP or build records', async () => {
    const scan = new SecretScan(secrets())
    await scanJob(scan, flow)
    expect(scan.report()).toEqual([])
  })

  test('nothing in the pushed image or the exported build cache', async () => {
    const scan = new SecretScan(secrets())
    await scanImage(scan, flow.main.outputs.image as string, access)
    await scan.dir(cacheDir)
    expect(scan.report()).toEqual([])
    expect(layerBytes(scan)).toBeGreaterThan(1_000_000)
  }, 120_000)
})

describe('a wrong password', () => {
  const WRONG = fresh('wrong')
  const repository = `${STAMP}-wrong`
  let flow: Flow

  beforeAll(async () => {
    flow = await runFlow(
      small(`${AUTH_REGISTRY}/${repository}`, 'app', { username: USER, password: WRONG }),
      tempDir('e2e-scan-ws-'),
    )
  }, BUILD_TIMEOUT)

  test('fails naming the inputs, and pushes nothing', async () => {
    expect(flow.main.exitCode).toBe(1)
    expect(errors(flow.main.log)).toMatch(/'username' and 'password'/)
    expect(await tagsOf(AUTH_REGISTRY, `${repository}/app`, AUTH)).toBeNull()
    expect(flow.post.exitCode).toBe(0)
  })

  test('neither the wrong nor the right password is anywhere', async () => {
    const scan = new SecretScan([{ label: 'wrong password', value: WRONG, user: USER }, LOGIN_SECRET])
    await scanJob(scan, flow)
    expect(scan.report()).toEqual([])
  })
})

describe('a build that fails after the login', () => {
  const repository = `${STAMP}-failed`
  let flow: Flow

  beforeAll(async () => {
    flow = await runFlow(
      small(`${AUTH_REGISTRY}/${repository}`, 'app', {
        username: USER,
        password: PASSWORD,
        commands: 'exit 3',
      }),
      tempDir('e2e-scan-ws-'),
    )
  }, BUILD_TIMEOUT)

  test('fails with the RUN step that failed, and pushes nothing', async () => {
    expect(flow.main.exitCode).toBe(1)
    expect(errors(flow.main.log)).toMatch(/exit 3.*did not complete successfully: exit code: 3/)
    expect(await tagsOf(AUTH_REGISTRY, `${repository}/app`, AUTH)).toBeNull()
    expect(flow.post.exitCode).toBe(0)
  })

  test('the password is nowhere', async () => {
    const scan = new SecretScan([LOGIN_SECRET])
    await scanJob(scan, flow)
    expect(scan.report()).toEqual([])
  })
})

describe('a dry run with a login', () => {
  let flow: Flow

  beforeAll(async () => {
    flow = await runFlow(
      small(`${AUTH_REGISTRY}/${STAMP}`, 'dry', { username: USER, password: PASSWORD, 'dry-run': 'true' }),
      tempDir('e2e-scan-ws-'),
      { DOCKER_HOST: 'unix:///nonexistent.sock' },
    )
  }, BUILD_TIMEOUT)

  test('succeeds without Docker and writes the Dockerfile and spec file', () => {
    expect(ok(flow.main)).toEqual({ exitCode: 0, log: '' })
    expect(existsSync(flow.main.outputs.dockerfile as string)).toBe(true)
    expect(existsSync(flow.main.outputs['spec-file'] as string)).toBe(true)
  })

  test('the password is nowhere, the Dockerfile and spec file included', async () => {
    const scan = new SecretScan([LOGIN_SECRET])
    await scanJob(scan, flow)
    await scan.file(flow.main.outputs.dockerfile as string)
    await scan.file(flow.main.outputs['spec-file'] as string)
    expect(scan.report()).toEqual([])
  })
})

describe('a copy entry that is a symbolic link to a docker config outside the workspace', () => {
  const MARKER = fresh('marker')
  const marker: Secret = { label: 'marker', value: MARKER, user: 'runner' }
  const home = tempDir('e2e-scan-home-')
  const config = path.join(home, '.docker', 'config.json')
  const workspace = tempDir('e2e-scan-ws-links-')
  const repository = `${STAMP}-links`
  let flow: Flow

  beforeAll(async () => {
    mkdirSync(path.dirname(config), { recursive: true })
    const auth = Buffer.from(`runner:${MARKER}`).toString('base64')
    writeFileSync(config, JSON.stringify({ auths: { 'ghcr.io': { auth } }, token: MARKER }))
    mkdirSync(path.join(workspace, 'data'))
    writeFileSync(path.join(workspace, 'data', 'hello.txt'), 'hello\n')
    symlinkSync(config, path.join(workspace, 'data', 'config.json'))
    writeFileSync(
      path.join(workspace, 'imagespec.yaml'),
      [
        'name: leak',
        `registry: ${env.E2E_REGISTRY}/${repository}`,
        `base_image: ${env.E2E_BASE_IMAGE}`,
        'copy:',
        '  - data/hello.txt',
        '  - data/config.json',
        '',
      ].join('\n'),
    )
    flow = await runFlow(
      withActionDefaults({ spec: 'imagespec.yaml', installer: 'pip', network: 'host' }),
      workspace,
    )
  }, BUILD_TIMEOUT)

  test('the step refuses the link, naming where it leads, and pushes nothing', async () => {
    expect(flow.main.exitCode).toBe(1)
    expect(errors(flow.main.log)).toContain(
      `imagespec.yaml:6: copy[1]: 'data/config.json' is a symbolic link to ${config}, outside the working directory`,
    )
    expect(await tagsOf(env.E2E_REGISTRY as string, `${repository}/leak`, OPEN)).toBeNull()
  })

  test('the marker is nowhere', async () => {
    const scan = new SecretScan([marker])
    await scanJob(scan, flow)
    expect(scan.report()).toEqual([])
  })

  test('(the scan finds the marker in the file the link leads to)', async () => {
    const scan = new SecretScan([marker])
    await scan.file(config)
    expect(scan.findings.map((f) => f.form).sort()).toEqual(['base64(user:secret)', 'base64@2', 'raw'])
  })
})

describe('build secrets: the secrets input and a pip configuration mounted with pip_secret_mounts', () => {
  const INDEX_PASSWORD = fresh('index')
  const TOKEN = fresh('tok')
  const scanned: Secret[] = [
    { label: 'index password', value: INDEX_PASSWORD, user: 'e2e-index' },
    { label: 'secrets input tok', value: TOKEN },
  ]
  const cacheDir = path.join(tempDir('e2e-scan-cache-'), 'cache')
  let flow: Flow

  beforeAll(async () => {
    const ws = tempDir('e2e-scan-ws-secrets-')
    // pip reads /etc/pip.conf: an extra index whose URL carries the password, as private indexes are configured.
    writeFileSync(
      path.join(ws, 'pip.conf'),
      `[global]\nextra-index-url = http://e2e-index:${encodeURIComponent(INDEX_PASSWORD)}@127.0.0.1:8081/simple\n`,
    )
    // pip_secret_mounts holds tuples, which only a Python spec can give.
    writeFileSync(
      path.join(ws, 'image.py'),
      [
        'from flytekit import ImageSpec',
        '',
        'image = ImageSpec(',
        '    name="secrets",',
        `    registry="${env.E2E_REGISTRY}/${STAMP}",`,
        `    base_image="${env.E2E_BASE_IMAGE}",`,
        `    pip_index="${env.E2E_PIP_INDEX}",`,
        '    packages=["ispec-demo-b==1.0"],',
        '    pip_secret_mounts=[("pip.conf", "/etc/pip.conf")],',
        ')',
        '',
      ].join('\n'),
    )
    flow = await runFlow(
      withActionDefaults({
        spec: 'image.py',
        installer: 'pip',
        network: 'host',
        'flytekit-version': 'none',
        secrets: 'id=tok,env=TOK',
        'cache-to': `type=local,dest=${cacheDir},mode=max`,
        // A secret mount is not part of a step's cache key: without this, an earlier run's pip step is reused.
        'no-cache': 'true',
      }),
      ws,
      { TOK: TOKEN },
    )
  }, BUILD_TIMEOUT)

  test('the image is pushed, and pip used the mounted configuration (its log shows the URL redacted)', () => {
    expect(ok(flow.main)).toEqual({ exitCode: 0, log: '' })
    expect(flow.main.outputs.built).toBe('true')
    expect(flow.main.log).toContain('http://e2e-index:****@127.0.0.1:8081/simple')
  })

  test('nothing in the logs, outputs, state, summary, RUNNER_TEMP or build records', async () => {
    const scan = new SecretScan(scanned)
    await scanJob(scan, flow)
    expect(scan.report()).toEqual([])
  })

  test('nothing in the pushed image or the exported build cache', async () => {
    const scan = new SecretScan(scanned)
    await scanImage(scan, flow.main.outputs.image as string, OPEN)
    await scan.dir(cacheDir)
    expect(scan.report()).toEqual([])
    expect(layerBytes(scan)).toBeGreaterThan(1_000_000)
    expect(
      scan.searched.some((s) => s.where.startsWith(cacheDir) && s.where.endsWith('(decompressed)')),
    ).toBe(true)
  }, 120_000)
})
