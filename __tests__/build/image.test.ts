/**
 * The per-image decisions of buildImage: reuse, build, keep, fail closed. The registry and the two docker steps are
 * recording fakes; the build context is written for real into a temporary folder.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import type { RegistryConnection } from '../../src/connections/connection.js'
import { buildImage, type BuildSettings, type Builder, type JobEnv } from '../../src/build/image.js'
import type { BuildPlan } from '../../src/docker/buildx-args.js'
import type { BuildResult, BuilderInfo, DockerContext, PrepareOptions } from '../../src/docker/buildx.js'
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

/** A registry connection that answers as told and writes every call into `calls`. */
class FakeConnection implements RegistryConnection {
  readonly registry = REGISTRY
  readonly describe = 'fake registry'

  constructor(
    private readonly calls: string[],
    private readonly answer: CheckAnswer,
    private readonly immutable = false,
  ) {}

  async check(name: string, tag: string): Promise<CheckResult> {
    this.calls.push(`check ${name} ${tag}`)
    if ('throws' in this.answer) throw new Error(this.answer.throws)
    return this.answer
  }

  async prepareRepository(name: string): Promise<{ immutable: boolean }> {
    this.calls.push(`prepareRepository ${name}`)
    return { immutable: this.immutable }
  }

  async loginForPush(configDir: string): Promise<void> {
    this.calls.push(`loginForPush ${configDir}`)
  }
}

/** Docker steps that record their calls and the plans they were handed, and build nothing. */
class FakeBuilder implements Builder {
  readonly plans: BuildPlan[] = []
  readonly prepareOptions: PrepareOptions[] = []

  constructor(
    private readonly calls: string[],
    private readonly result: BuildResult = { digest: BUILT_DIGEST, metadata: {} },
  ) {}

  prepare = async (ctx: DockerContext, options: PrepareOptions): Promise<BuilderInfo> => {
    this.calls.push(`builder.prepare ${ctx.configDir}`)
    this.prepareOptions.push(options)
    return { name: 'default', driver: 'docker-container' }
  }

  run = async (ctx: DockerContext, plan: BuildPlan): Promise<BuildResult> => {
    this.calls.push(`builder.run ${ctx.configDir}`)
    this.plans.push(plan)
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
}

function harness(
  answer: CheckAnswer | 'no connection',
  options: { immutable?: boolean; result?: BuildResult } = {},
): Harness {
  const calls: string[] = []
  const builder = new FakeBuilder(calls, options.result)
  const logger = new MemoryLogger()
  const connection =
    answer === 'no connection' ? undefined : new FakeConnection(calls, answer, options.immutable)
  const env: JobEnv = {
    cwd,
    workDir,
    docker: async () => ({ configDir: CONFIG_DIR, logger }),
    connection,
    logger,
    builder,
  }
  return { calls, builder, logger, env }
}

const warnings = (logger: MemoryLogger): string[] => logger.lines.filter((l) => l.startsWith('warning: '))

describe('buildImage decisions', () => {
  const cases: {
    name: string
    answer: CheckAnswer
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
      name: 'image missing: builder checked, repository made, logged in, built and pushed',
      answer: { exists: false },
      settings: {},
      calls: [
        'check app k3p0TbQ7vHlFQnWW1pyZqA',
        'builder.prepare /job/docker-config',
        'prepareRepository app',
        'loginForPush /job/docker-config',
        'builder.run /job/docker-config',
      ],
      result: { built: true, pushed: true, digest: BUILT_DIGEST },
    },
    {
      name: 'check fails with on-check-error build: warns and builds',
      answer: { throws: 'registry said 503 Service Unavailable' },
      settings: { onCheckError: 'build' },
      calls: [
        'check app k3p0TbQ7vHlFQnWW1pyZqA',
        'builder.prepare /job/docker-config',
        'prepareRepository app',
        'loginForPush /job/docker-config',
        'builder.run /job/docker-config',
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
      answer: { exists: true, digest: CHECKED_DIGEST },
      settings: { force: true },
      calls: [
        'check app k3p0TbQ7vHlFQnWW1pyZqA',
        'prepareRepository app',
        'builder.prepare /job/docker-config',
        'prepareRepository app',
        'loginForPush /job/docker-config',
        'builder.run /job/docker-config',
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
    const h = harness({ exists: false })
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
    const h = harness({ exists: false })
    await buildImage({ ...job(), baseImage: 'registry.example.test/team/base:abc' }, settings(), h.env)
    const sent = h.builder.plans[0] as BuildPlan
    expect(await readFile(sent.dockerfile as string, 'utf8')).toContain('registry.example.test/team/base:abc')
  })
})
