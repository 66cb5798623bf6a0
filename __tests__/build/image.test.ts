/**
 * The per-image decisions of buildImage: reuse, build, keep, fail closed. The registry and the two docker steps are
 * recording fakes; the build context is written for real into a temporary folder.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import type { RegistryConnection } from '../../src/connections/connection.js'
import {
  buildImage,
  RETRY_DELAY_MS,
  type BuildSettings,
  type Builder,
  type JobEnv,
} from '../../src/build/image.js'
import type { BuildPlan } from '../../src/docker/buildx-args.js'
import {
  BuildFailedError,
  type BuildResult,
  type BuilderInfo,
  type DockerContext,
  type PrepareOptions,
} from '../../src/docker/buildx.js'
import { ActionError } from '../../src/errors.js'
import { MemoryLogger } from '../../src/log.js'
import type { CheckResult } from '../../src/registry/check.js'
import type { ImageJob } from '../../src/plan/graph.js'
import type { ImageSpec } from '../../src/spec/model.js'
import { rejectionOf } from '../support/rejection.js'
import { TempDirs } from '../support/temp-dirs.js'

const CHECKED_DIGEST = 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
const BUILT_DIGEST = 'sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'
const REGISTRY = 'registry.example.test/team'
const IMAGE = 'registry.example.test/team/app:k3p0TbQ7vHlFQnWW1pyZqA'
const CONFIG_DIR = '/job/docker-config'

type CheckAnswer = CheckResult | { throws: string }

/**
 * A registry connection that answers as told and writes every call into `calls`. A list of answers is used one
 * check after the other, the last one from then on: the check before the build, then the read-back after the push.
 */
class FakeConnection implements RegistryConnection {
  readonly registry = REGISTRY
  readonly describe = 'fake registry'
  private checks = 0

  constructor(
    private readonly calls: string[],
    private readonly answers: CheckAnswer | CheckAnswer[],
    private readonly immutable = false,
  ) {}

  async check(name: string, tag: string): Promise<CheckResult> {
    this.calls.push(`check ${name} ${tag}`)
    const list = Array.isArray(this.answers) ? this.answers : [this.answers]
    const answer = list[Math.min(this.checks++, list.length - 1)] as CheckAnswer
    if ('throws' in answer) throw new Error(answer.throws)
    return answer
  }

  async prepareRepository(name: string): Promise<{ immutable: boolean }> {
    this.calls.push(`prepareRepository ${name}`)
    return { immutable: this.immutable }
  }

  async loginForPush(configDir: string): Promise<void> {
    this.calls.push(`loginForPush ${configDir}`)
  }
}

/**
 * Docker steps that record their calls and the plans they were handed, and build nothing. `failures` are buildx's
 * stderr for the first runs, which fail as runBuild fails; the runs after them succeed.
 */
class FakeBuilder implements Builder {
  readonly plans: BuildPlan[] = []
  readonly prepareOptions: PrepareOptions[] = []
  readonly runOptions: unknown[] = []

  constructor(
    private readonly calls: string[],
    private readonly result: BuildResult = { digest: BUILT_DIGEST, metadata: {} },
    private readonly info: BuilderInfo = { name: 'default', driver: 'docker-container' },
    private readonly failures: string[] = [],
  ) {}

  prepare = async (ctx: DockerContext, options: PrepareOptions): Promise<BuilderInfo> => {
    this.calls.push(`builder.prepare ${ctx.configDir}`)
    this.prepareOptions.push(options)
    return this.info
  }

  run = async (ctx: DockerContext, plan: BuildPlan, options?: unknown): Promise<BuildResult> => {
    this.calls.push(`builder.run ${ctx.configDir}`)
    this.plans.push(plan)
    this.runOptions.push(options)
    const failure = this.failures.shift()
    if (failure !== undefined) throw new BuildFailedError(failure)
    return this.result
  }
}

const dirs = new TempDirs()
let cwd: string
let workDir: string

beforeEach(async () => {
  cwd = await dirs.make('imagespec-build-cwd-')
  workDir = await dirs.make('imagespec-build-work-')
})
afterEach(() => dirs.removeAll())

function spec(fields: Partial<ImageSpec> = {}): ImageSpec {
  return {
    name: 'app',
    registry: REGISTRY,
    platform: 'linux/amd64',
    python_version: '3.11',
    packages: ['requests==2.32.3'],
    ...fields,
  }
}

function job(fields: Partial<ImageSpec> = {}, image = IMAGE): ImageJob {
  return {
    spec: spec(fields),
    tagged: {
      tag: 'k3p0TbQ7vHlFQnWW1pyZqA',
      image,
      id: 'spec-id-1',
      hashInput: '',
      idHashInput: '',
    },
  }
}

function settings(fields: Partial<BuildSettings> = {}): BuildSettings {
  return {
    installer: 'pip',
    flytekitRequirement: null,
    defaultPythonVersion: async () => '3.12',
    push: true,
    force: false,
    onCheckError: 'fail',
    plan: {},
    buildxVersion: '0.19.3',
    ...fields,
  }
}

interface Harness {
  calls: string[]
  builder: FakeBuilder
  logger: MemoryLogger
  env: JobEnv
  /** What the retry waited, instead of waiting. */
  slept: number[]
}

function harness(
  answer: CheckAnswer | CheckAnswer[] | 'no connection',
  options: { immutable?: boolean; result?: BuildResult; info?: BuilderInfo; failures?: string[] } = {},
): Harness {
  const calls: string[] = []
  const builder = new FakeBuilder(calls, options.result, options.info, options.failures)
  const logger = new MemoryLogger()
  const connection =
    answer === 'no connection' ? undefined : new FakeConnection(calls, answer, options.immutable)
  const slept: number[] = []
  const env: JobEnv = {
    cwd,
    workDir,
    docker: async () => ({ configDir: CONFIG_DIR, logger }),
    connection,
    logger,
    builder,
    sleep: async (ms) => {
      calls.push(`sleep ${ms}`)
      slept.push(ms)
    },
  }
  return { calls, builder, logger, env, slept }
}

/** Not in the registry before the build; the pushed digest there afterwards. */
const MISSING_THEN_PUSHED: CheckAnswer[] = [{ exists: false }, { exists: true, digest: BUILT_DIGEST }]

const warnings = (logger: MemoryLogger): string[] => logger.lines.filter((l) => l.startsWith('warning: '))

describe('buildImage decisions', () => {
  const cases: {
    name: string
    answer: CheckAnswer | CheckAnswer[]
    immutable?: boolean
    settings: Partial<BuildSettings>
    calls: string[]
    result: { built: boolean; pushed: boolean; digest: string }
    warning?: string[]
  }[] = [
    {
      name: 'image exists, no force: reused, nothing prepared, logged in or built',
      answer: { exists: true, digest: CHECKED_DIGEST },
      settings: {},
      calls: ['check app k3p0TbQ7vHlFQnWW1pyZqA'],
      result: { built: false, pushed: false, digest: CHECKED_DIGEST },
    },
    {
      name: 'image missing: builder checked, repository made, logged in, built, pushed and its digest read back',
      answer: MISSING_THEN_PUSHED,
      settings: {},
      calls: [
        'check app k3p0TbQ7vHlFQnWW1pyZqA',
        'builder.prepare /job/docker-config',
        'prepareRepository app',
        'loginForPush /job/docker-config',
        'builder.run /job/docker-config',
        'check app k3p0TbQ7vHlFQnWW1pyZqA',
      ],
      result: { built: true, pushed: true, digest: BUILT_DIGEST },
    },
    {
      name: 'check fails with on-check-error build: warns and builds',
      answer: [{ throws: 'registry said 503 Service Unavailable' }, { exists: true, digest: BUILT_DIGEST }],
      settings: { onCheckError: 'build' },
      calls: [
        'check app k3p0TbQ7vHlFQnWW1pyZqA',
        'builder.prepare /job/docker-config',
        'prepareRepository app',
        'loginForPush /job/docker-config',
        'builder.run /job/docker-config',
        'check app k3p0TbQ7vHlFQnWW1pyZqA',
      ],
      result: { built: true, pushed: true, digest: BUILT_DIGEST },
      warning: [
        "Could not check whether registry.example.test/team/app:k3p0TbQ7vHlFQnWW1pyZqA exists; building it because on-check-error is 'build'. registry said 503 Service Unavailable",
      ],
    },
    {
      name: 'exists, force, IMMUTABLE repository: kept, not rebuilt',
      answer: { exists: true, digest: CHECKED_DIGEST },
      immutable: true,
      settings: { force: true },
      calls: ['check app k3p0TbQ7vHlFQnWW1pyZqA', 'prepareRepository app'],
      result: { built: false, pushed: false, digest: CHECKED_DIGEST },
      warning: [
        "force is set, but the repository's tags are IMMUTABLE: registry.example.test/team/app:k3p0TbQ7vHlFQnWW1pyZqA is kept, not overwritten",
      ],
    },
    {
      name: 'exists, force, mutable repository: rebuilt and pushed over the old image',
      answer: [
        { exists: true, digest: CHECKED_DIGEST },
        { exists: true, digest: BUILT_DIGEST },
      ],
      settings: { force: true },
      calls: [
        'check app k3p0TbQ7vHlFQnWW1pyZqA',
        'prepareRepository app',
        'builder.prepare /job/docker-config',
        'prepareRepository app',
        'loginForPush /job/docker-config',
        'builder.run /job/docker-config',
        'check app k3p0TbQ7vHlFQnWW1pyZqA',
      ],
      result: { built: true, pushed: true, digest: BUILT_DIGEST },
    },
    {
      name: 'push false: no check, no login, built and loaded',
      answer: { throws: 'the registry must not be asked when nothing is pushed' },
      settings: { push: false },
      calls: ['builder.prepare /job/docker-config', 'builder.run /job/docker-config'],
      result: { built: true, pushed: false, digest: BUILT_DIGEST },
    },
  ]

  test.each(cases)('$name', async (c) => {
    const h = harness(c.answer, c.immutable === undefined ? {} : { immutable: c.immutable })
    const result = await buildImage(job(), settings(c.settings), h.env)

    expect(h.calls).toEqual(c.calls)
    expect(warnings(h.logger)).toEqual((c.warning ?? []).map((w) => `warning: ${w}`))
    expect(result).toMatchObject({
      registry: REGISTRY,
      image: IMAGE,
      tag: 'k3p0TbQ7vHlFQnWW1pyZqA',
      specId: 'spec-id-1',
      ...c.result,
    })
    if (c.result.built) {
      expect(typeof result.buildSeconds).toBe('number')
      expect(result.buildSeconds).toBeGreaterThanOrEqual(0)
      expect(h.builder.plans).toHaveLength(1)
      expect(h.builder.plans[0]?.output).toBe(c.result.pushed ? 'push' : 'load')
      expect(result.dockerfile).toBe(h.builder.plans[0]?.dockerfile)
      expect(existsSync(result.dockerfile)).toBe(true)
    } else {
      expect(result.buildSeconds).toBeUndefined()
      expect(result.dockerfile).toBe('')
      expect(h.builder.plans).toEqual([])
    }
  })

  test('check fails with on-check-error fail: rejects, says why, builds nothing', async () => {
    const h = harness({ throws: 'registry said 401 Unauthorized: token expired' })
    const err = await rejectionOf(buildImage(job(), settings({ onCheckError: 'fail' }), h.env))

    expect(err).toBeInstanceOf(ActionError)
    expect(err.message).toContain('registry said 401 Unauthorized: token expired')
    expect(err.message).toContain('The image was not built')
    expect(err.message).toContain('on-check-error: build')
    expect(h.calls).toEqual(['check app k3p0TbQ7vHlFQnWW1pyZqA'])
    expect(h.builder.plans).toEqual([])
  })

  test('push with no registry in the spec: an error naming registry and push: false, nothing built', async () => {
    const h = harness('no connection')
    const err = await rejectionOf(
      buildImage(job({ registry: undefined }, 'app:k3p0TbQ7vHlFQnWW1pyZqA'), settings({ push: true }), h.env),
    )

    expect(err).toBeInstanceOf(ActionError)
    expect(err.message).toContain('Cannot push app:k3p0TbQ7vHlFQnWW1pyZqA')
    expect(err.message).toContain("'registry'")
    expect(err.message).toContain('push: false')
    expect(h.calls).toEqual([])
  })

  test('push false without a registry or connection: built and loaded', async () => {
    const h = harness('no connection', { result: { metadata: {} } })
    const result = await buildImage(
      job({ registry: undefined }, 'app:k3p0TbQ7vHlFQnWW1pyZqA'),
      settings({ push: false }),
      h.env,
    )

    expect(h.calls).toEqual(['builder.prepare /job/docker-config', 'builder.run /job/docker-config'])
    expect(result).toMatchObject({ registry: '', built: true, pushed: false, digest: '' })
  })
})

describe('the BuildPlan handed to the builder', () => {
  test('tags, platforms, output, secrets and metadata file', async () => {
    const h = harness(MISSING_THEN_PUSHED)
    const plan: BuildSettings['plan'] = {
      builder: 'ci-builder',
      labels: { 'org.opencontainers.image.source': 'https://example.test/team/app' },
      secrets: [{ id: 'token', env: 'BUILD_TOKEN' }],
      provenance: false,
    }
    await buildImage(
      job({ platform: 'linux/amd64, linux/arm64', pip_secret_mounts: [['secrets/netrc', '/root/.netrc']] }),
      settings({ plan, buildxVersion: '0.19.3' }),
      h.env,
    )

    expect(h.builder.plans).toHaveLength(1)
    const sent = h.builder.plans[0] as BuildPlan
    // The context is a fresh folder named after the image under workDir.
    const folder = path.dirname(sent.context)
    expect(path.dirname(folder)).toBe(workDir)
    expect(path.basename(folder)).toMatch(/^app-/)
    expect(path.basename(sent.context)).toBe('context')
    expect(sent).toEqual({
      builder: 'ci-builder',
      labels: { 'org.opencontainers.image.source': 'https://example.test/team/app' },
      provenance: false,
      context: sent.context,
      dockerfile: path.join(sent.context, 'Dockerfile'),
      tags: ['registry.example.test/team/app:k3p0TbQ7vHlFQnWW1pyZqA'],
      platforms: ['linux/amd64', 'linux/arm64'],
      output: 'push',
      metadataFile: path.join(folder, 'metadata.json'),
      secrets: [
        { id: 'token', env: 'BUILD_TOKEN' },
        { id: 'secret_0', src: path.join(cwd, 'secrets', 'netrc') },
      ],
    })
    expect(existsSync(path.join(sent.context, 'Dockerfile'))).toBe(true)
    // The builder is checked against the same plan that is built, with the configured buildx version.
    expect(h.builder.prepareOptions).toEqual([{ plan: sent, installVersion: '0.19.3' }])
  })

  test('a nested base image: the plan builds from the given FROM', async () => {
    const h = harness(MISSING_THEN_PUSHED)
    await buildImage({ ...job(), baseImage: 'registry.example.test/team/base:abc' }, settings(), h.env)
    const sent = h.builder.plans[0] as BuildPlan
    expect(await readFile(sent.dockerfile as string, 'utf8')).toContain('registry.example.test/team/base:abc')
  })
})

const OTHER_DIGEST = 'sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc'
const CREATED = 'org.opencontainers.image.created'
const CAN_REWRITE: BuilderInfo = {
  name: 'default',
  driver: 'docker',
  containerdImageStore: true,
  rewriteTimestamp: true,
}

describe('reproducible images', () => {
  test('the epoch stamps the created label and the build, and the builder that can rewrites layer times', async () => {
    const h = harness(MISSING_THEN_PUSHED, { info: CAN_REWRITE })
    const plan: BuildSettings['plan'] = { labels: { 'org.opencontainers.image.revision': 'deadbeef' } }
    await buildImage(job(), settings({ plan, sourceDateEpoch: async () => 1700000000 }), h.env)

    const sent = h.builder.plans[0] as BuildPlan
    // 1700000000 is 2023-11-14T22:13:20Z (date -u -d @1700000000).
    expect(sent.labels).toEqual({
      [CREATED]: '2023-11-14T22:13:20Z',
      'org.opencontainers.image.revision': 'deadbeef',
    })
    expect(sent.sourceDateEpoch).toBe(1700000000)
    expect(sent.rewriteTimestamp).toBe(true)
    // The builder is asked about the plan before rewriting is decided, and told about itself when it runs.
    expect(h.builder.prepareOptions[0]?.plan.rewriteTimestamp).toBeUndefined()
    expect(h.builder.prepareOptions[0]?.plan.sourceDateEpoch).toBe(1700000000)
    expect(h.builder.runOptions).toEqual([{ builder: CAN_REWRITE }])
  })

  test('a builder that cannot rewrite still gets the epoch', async () => {
    const h = harness(MISSING_THEN_PUSHED, { info: { ...CAN_REWRITE, rewriteTimestamp: false } })
    await buildImage(job(), settings({ sourceDateEpoch: async () => 0 }), h.env)
    const sent = h.builder.plans[0] as BuildPlan
    expect(sent.labels).toEqual({ [CREATED]: '1970-01-01T00:00:00Z' })
    expect(sent.sourceDateEpoch).toBe(0)
    expect('rewriteTimestamp' in sent).toBe(false)
  })

  test("a created label from the 'labels' input wins", async () => {
    const h = harness(MISSING_THEN_PUSHED, { info: CAN_REWRITE })
    const plan: BuildSettings['plan'] = { labels: { [CREATED]: 'by hand' } }
    await buildImage(job(), settings({ plan, sourceDateEpoch: async () => 5 }), h.env)
    expect(h.builder.plans[0]?.labels).toEqual({ [CREATED]: 'by hand' })
  })

  test('without an epoch nothing is stamped or rewritten', async () => {
    const h = harness(MISSING_THEN_PUSHED, { info: CAN_REWRITE })
    await buildImage(job(), settings(), h.env)
    const sent = h.builder.plans[0] as BuildPlan
    expect([sent.labels, sent.sourceDateEpoch, sent.rewriteTimestamp]).toEqual([
      undefined,
      undefined,
      undefined,
    ])
  })
})

// Real buildx 0.29 error output (see __tests__/docker/buildx.test.ts for where each line came from).
const RESET =
  'ERROR: failed to build: failed to solve: failed to push registry.example.test/team/app:k3p0TbQ7vHlFQnWW1pyZqA: failed commit on ref "config-sha256:75f022c64c4fa3263958192c9b9a5ab1306626ce929af9e72ee00caa9995ff67": failed to do request: Put "https://registry.example.test/v2/team/app/blobs/uploads/17bdd765": read tcp 10.1.0.4:40476->140.82.112.34:443: read: connection reset by peer'
const TOO_MANY =
  'ERROR: failed to build: failed to solve: failed to push registry.example.test/team/app:k3p0TbQ7vHlFQnWW1pyZqA: failed commit on ref "manifest-sha256:9990d81bb92aed3d147827dbad9170dbc4c0bf2b4463e38e6e6b7dce4e6542a7": unexpected status from PUT request to https://registry.example.test/v2/team/app/manifests/k3p0TbQ7vHlFQnWW1pyZqA: 429 Too Many Requests'
const RUN_FAILED = `#5 [2/2] RUN pip install nosuchpkg
#5 1.021 ERROR: No matching distribution found for nosuchpkg
#5 ERROR: process "/bin/sh -c pip install nosuchpkg" did not complete successfully: exit code: 1
------
 > [2/2] RUN pip install nosuchpkg:
1.021 ERROR: No matching distribution found for nosuchpkg
------
ERROR: failed to solve: process "/bin/sh -c pip install nosuchpkg" did not complete successfully: exit code: 1
`
const UNAUTHORIZED =
  'ERROR: failed to build: failed to solve: failed to push registry.example.test/team/app:k3p0TbQ7vHlFQnWW1pyZqA: unexpected status from HEAD request to https://registry.example.test/v2/team/app/blobs/sha256:c3e4a36484924a89a0c251cfdd6d5915a487230694df527f176c3dbfbd1b70d8: 401 Unauthorized'
const REWRITE_REFUSED =
  'ERROR: failed to build: failed to solve: exporter option "rewrite-timestamp" conflicts with "unpack"'

describe('a build that fails', () => {
  test('on a transient error: tried once more after a pause, from the cache, and logged', async () => {
    const h = harness(MISSING_THEN_PUSHED, { failures: [`#9 pushing layers\n${RESET}\n`] })
    const result = await buildImage(job(), settings(), h.env)

    expect(result).toMatchObject({ built: true, pushed: true, digest: BUILT_DIGEST })
    expect(h.calls).toEqual([
      'check app k3p0TbQ7vHlFQnWW1pyZqA',
      'builder.prepare /job/docker-config',
      'prepareRepository app',
      'loginForPush /job/docker-config',
      'builder.run /job/docker-config',
      'sleep 5000',
      'builder.run /job/docker-config',
      'check app k3p0TbQ7vHlFQnWW1pyZqA',
    ])
    expect(h.slept).toEqual([RETRY_DELAY_MS])
    // The second attempt is the same build: the same plan, so buildx finds every layer in its cache.
    expect(h.builder.plans[1]).toEqual(h.builder.plans[0])
    expect(warnings(h.logger)).toEqual([
      `warning: The build of ${IMAGE} failed on a transient error; trying once more in 5 s, from the build cache: ${RESET}`,
    ])
  })

  test('on a transient error twice: fails after the one retry, saying so', async () => {
    const h = harness(MISSING_THEN_PUSHED, { failures: [RESET, TOO_MANY] })
    const err = await rejectionOf(buildImage(job(), settings(), h.env))

    expect(err).toBeInstanceOf(ActionError)
    expect(err.message).toBe(
      `docker buildx build failed: ${TOO_MANY}\n` +
        'Nothing was tagged: a registry moves a tag only once the whole image is in, so a re-run finishes the push.\n' +
        `This was the second attempt: the first failed on a transient error too (${RESET}). Re-run the job once the registry answers again.`,
    )
    expect(h.calls.filter((c) => c.startsWith('builder.run'))).toHaveLength(2)
    expect(h.slept).toEqual([RETRY_DELAY_MS])
  })

  test.each([
    ['a failed RUN step', RUN_FAILED],
    ['refused credentials', UNAUTHORIZED],
  ])('on %s: not tried again', async (_name, stderr) => {
    const h = harness(MISSING_THEN_PUSHED, { failures: [stderr] })
    const err = await rejectionOf(buildImage(job(), settings(), h.env))

    expect(err).toBeInstanceOf(BuildFailedError)
    expect(err.message.startsWith('docker buildx build failed: ERROR: failed to')).toBe(true)
    expect(h.calls.filter((c) => c.startsWith('builder.run'))).toHaveLength(1)
    expect(h.slept).toEqual([])
    expect(warnings(h.logger)).toEqual([])
  })

  test('because the builder refused rewrite-timestamp: built again without it, with a warning', async () => {
    const h = harness(MISSING_THEN_PUSHED, { info: CAN_REWRITE, failures: [REWRITE_REFUSED] })
    const result = await buildImage(job(), settings({ sourceDateEpoch: async () => 7 }), h.env)

    expect(result.digest).toBe(BUILT_DIGEST)
    expect(h.builder.plans.map((p) => p.rewriteTimestamp)).toEqual([true, false])
    expect(h.slept).toEqual([])
    expect(warnings(h.logger)).toEqual([
      `warning: The builder refused to rewrite layer timestamps for ${IMAGE} (${REWRITE_REFUSED}); building it again without rewrite-timestamp, so two builds of this spec can push different digests.`,
    ])
  })

  test('with short-lived credentials, the cache-only build is retried the same way', async () => {
    const h = harness(MISSING_THEN_PUSHED, { failures: [TOO_MANY] })
    const connection = h.env.connection as FakeConnection
    Object.assign(connection, { shortLivedCredentials: true })
    await buildImage(job(), settings(), h.env)
    expect(h.builder.plans.map((p) => p.output)).toEqual(['cache', 'cache', 'push'])
    expect(h.slept).toEqual([RETRY_DELAY_MS])
  })
})

describe('the digest output after a push', () => {
  test("is the registry's when the tag points elsewhere, with a warning", async () => {
    const h = harness([{ exists: false }, { exists: true, digest: OTHER_DIGEST }])
    const result = await buildImage(job(), settings(), h.env)

    expect(result.digest).toBe(OTHER_DIGEST)
    expect(warnings(h.logger)).toEqual([
      `warning: ${IMAGE} points at ${OTHER_DIGEST} in the registry, not at ${BUILT_DIGEST} that this build pushed: another run pushed the same tag at about the same time (builds of one spec differ when their commits' times or their builders differ). The digest output is the registry's, ${OTHER_DIGEST}.`,
    ])
  })

  test("is buildx's when the registry cannot say, with a warning", async () => {
    const h = harness([{ exists: false }, { throws: 'registry said 502 Bad Gateway' }])
    const result = await buildImage(job(), settings(), h.env)

    expect(result.digest).toBe(BUILT_DIGEST)
    expect(warnings(h.logger)).toEqual([
      `warning: Could not read back the digest of ${IMAGE} after its push (registry said 502 Bad Gateway); the digest output is the one buildx recorded, ${BUILT_DIGEST}.`,
    ])
  })

  test("is buildx's when the registry does not list the tag yet, with a warning", async () => {
    const h = harness({ exists: false })
    const result = await buildImage(job(), settings(), h.env)

    expect(result.digest).toBe(BUILT_DIGEST)
    expect(warnings(h.logger)).toEqual([
      `warning: ${IMAGE} was pushed, but the registry does not list the tag right after the push; the digest output is the one buildx recorded, ${BUILT_DIGEST}.`,
    ])
  })
})
