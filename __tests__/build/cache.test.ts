/**
 * The default registry build cache: the `registry-cache` input's forms, the cache reference of each image, the
 * buildx flags it becomes, the user's cache-from/cache-to replacing it, and the one notice on a builder that
 * cannot export cache. Expected references and flags are written out by hand.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { buildImage, type BuildSettings, type Builder, type JobEnv } from '../../src/build/image.js'
import { registryCacheSetting } from '../../src/build/settings.js'
import { buildxArgs, registryCacheRef, type BuildPlan } from '../../src/docker/buildx-args.js'
import { parseRegistryCache } from '../../src/docker/buildx-options.js'
import {
  BuildFailedError,
  type BuilderInfo,
  type DockerContext,
  type PrepareOptions,
} from '../../src/docker/buildx.js'
import { MemoryLogger } from '../../src/log.js'
import type { ImageJob } from '../../src/plan/graph.js'
import { previewTagMatcher } from '../../src/preview/tags.js'
import { getInputs } from '../../src/inputs.js'
import { TempDirs } from '../support/temp-dirs.js'

const EXPORT_ATTRS = 'mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true'

function plan(fields: Partial<BuildPlan> = {}): BuildPlan {
  return { context: '/ctx', tags: ['r.example/app:t'], output: 'push', metadataFile: '/m.json', ...fields }
}

/** The `--cache-from` / `--cache-to` values of an argv, in order. */
function cacheFlags(argv: string[]): string[][] {
  return argv.flatMap((a, i) =>
    a === '--cache-from' || a === '--cache-to' ? [[a, argv[i + 1] as string]] : [],
  )
}

describe('registry-cache input', () => {
  test.each([
    ['', { kind: 'auto' }],
    ['auto', { kind: 'auto' }],
    ['true', { kind: 'auto' }],
    ['false', { kind: 'off' }],
    ['off', { kind: 'off' }],
    ['ghcr.io/My-Org/cache', { kind: 'template', template: 'ghcr.io/my-org/cache/{name}' }],
    ['localhost:5000', { kind: 'template', template: 'localhost:5000/{name}' }],
    ['{registry}/{name}-cache:latest', { kind: 'template', template: '{registry}/{name}-cache:latest' }],
  ])('%j is read as %j', (text, setting) => {
    expect(parseRegistryCache(text)).toEqual({ setting })
  })

  test.each([
    [
      'ghcr.io/org/cache:v1',
      "'ghcr.io/org/cache:v1' has a tag; a registry gets <registry>/<name>:buildcache",
    ],
    ['ghcr.io/org/{registry}', 'has no {name}, so every image would share one cache and overwrite it'],
    ['ghcr.io/org/cache:{name}', 'the tag cannot hold {name} or {registry}, which may contain /'],
    ['ghcr.io/org/{nam}', 'uses {nam}; the placeholders are {registry} and {name}'],
    ['https://ghcr.io/org', "starts with 'https://'"],
    ['{registry}/{name}:Bad Tag', 'which is not an image reference'],
    ['{registry}/{name}/CACHE', 'which is not an image reference'],
  ])('%j is refused: %s', (text, message) => {
    const read = parseRegistryCache(text)
    expect('problem' in read && read.problem).toContain(message)
  })
})

describe('the cache reference of an image', () => {
  const image = { registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com/team', name: 'group/app' }

  test.each([
    [{ kind: 'auto' } as const, '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/group/app:buildcache'],
    [{ kind: 'off' } as const, undefined],
    [
      { kind: 'template', template: 'ghcr.io/org/cache/{name}' } as const,
      'ghcr.io/org/cache/group/app:buildcache',
    ],
    [{ kind: 'template', template: 'localhost:5000/{name}' } as const, 'localhost:5000/group/app:buildcache'],
    [
      { kind: 'template', template: '{registry}/{name}-cache:main' } as const,
      `${image.registry}/group/app-cache:main`,
    ],
  ])('%j gives %s', (setting, ref) => {
    expect(registryCacheRef(setting, image)).toBe(ref)
  })

  test('an image without a registry has no cache', () => {
    expect(registryCacheRef({ kind: 'auto' }, { registry: '', name: 'app' })).toBeUndefined()
  })
})

describe('buildx flags of the registry cache', () => {
  test('a push to a plain registry imports and exports it', () => {
    expect(cacheFlags(buildxArgs(plan({ registryCache: '127.0.0.1:5000/team/app:buildcache' })))).toEqual([
      ['--cache-from', 'type=registry,ref=127.0.0.1:5000/team/app:buildcache'],
      ['--cache-to', `type=registry,ref=127.0.0.1:5000/team/app:buildcache,${EXPORT_ATTRS}`],
    ])
  })

  test('a push to ECR gets image-manifest=true,oci-mediatypes=true', () => {
    const ref = '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:buildcache'
    const to = cacheFlags(buildxArgs(plan({ registryCache: ref }))).find(([flag]) => flag === '--cache-to')
    expect(to?.[1]).toBe(
      'type=registry,ref=123456789012.dkr.ecr.us-east-1.amazonaws.com/app:buildcache,mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true',
    )
  })

  test('with a reproducible push the image output and the cache export are both there', () => {
    const argv = buildxArgs(plan({ registryCache: 'r.example/app:buildcache', rewriteTimestamp: true }))
    expect(argv).toContain('type=image,push=true,rewrite-timestamp=true,store=false')
    expect(cacheFlags(argv).map(([flag]) => flag)).toEqual(['--cache-from', '--cache-to'])
  })

  test('the build-only run before a push with short-lived credentials imports it but does not export', () => {
    expect(
      cacheFlags(buildxArgs(plan({ output: 'cache', registryCache: 'r.example/app:buildcache' }))),
    ).toEqual([['--cache-from', 'type=registry,ref=r.example/app:buildcache']])
  })

  test("the user's cache-from or cache-to replaces it", () => {
    const ref = 'r.example/app:buildcache'
    expect(cacheFlags(buildxArgs(plan({ registryCache: ref, cacheTo: ['type=gha,mode=max'] })))).toEqual([
      ['--cache-to', 'type=gha,mode=max'],
    ])
    expect(cacheFlags(buildxArgs(plan({ registryCache: ref, cacheFrom: ['type=gha'] })))).toEqual([
      ['--cache-from', 'type=gha'],
    ])
  })

  test('no cache, no flags', () => {
    expect(cacheFlags(buildxArgs(plan()))).toEqual([])
  })
})

describe('registry cache in effect for a step', () => {
  const inputs = { push: true, cacheFrom: [] as string[], cacheTo: [] as string[] }

  test('on by default when pushing, off when not', () => {
    expect(registryCacheSetting({ ...inputs, registryCache: '' })).toEqual({ kind: 'auto' })
    expect(registryCacheSetting({ ...inputs, push: false, registryCache: '' })).toEqual({ kind: 'off' })
    expect(registryCacheSetting({ ...inputs, registryCache: 'false' })).toEqual({ kind: 'off' })
  })

  test("off when the user's cache-from or cache-to is set", () => {
    expect(registryCacheSetting({ ...inputs, cacheFrom: ['type=gha'], registryCache: '' })).toEqual({
      kind: 'off',
    })
    expect(registryCacheSetting({ ...inputs, cacheTo: ['type=local,dest=/c'], registryCache: '' })).toEqual({
      kind: 'off',
    })
  })

  test('a bad value names the input', () => {
    expect(() => registryCacheSetting({ ...inputs, registryCache: 'ghcr.io/x/{nam}' })).toThrow(
      "Input 'registry-cache': 'ghcr.io/x/{nam}' uses {nam}",
    )
  })
})

describe('preview tags and cleanup never take the cache tag for a preview tag', () => {
  test.each([[[]], [['pr-{pr}']], [['{tag}-pr{pr}']], [['pr{pr}', 'buildcache-{pr}']]])('%j', (patterns) => {
    for (const pr of [1, 7, 123]) expect(previewTagMatcher(patterns, pr).matches('buildcache')).toBe(false)
  })
})

describe('buildImage with the registry cache', () => {
  const dirs = new TempDirs()
  let cwd: string
  let workDir: string
  beforeEach(async () => {
    cwd = await dirs.make('imagespec-cache-cwd-')
    workDir = await dirs.make('imagespec-cache-work-')
  })
  afterEach(() => dirs.removeAll())

  const REGISTRY = '127.0.0.1:5000/team'
  function job(name: string): ImageJob {
    return {
      spec: { name, registry: REGISTRY, platform: 'linux/amd64', python_version: '3.11', packages: ['x==1'] },
      tagged: {
        tag: 'k3p0TbQ7vHlFQnWW1pyZqA',
        image: `${REGISTRY}/${name}:k3p0TbQ7vHlFQnWW1pyZqA`,
        id: name.replaceAll('/', '-'),
        hashInput: '',
        idHashInput: '',
      },
    }
  }

  function setup(info: BuilderInfo) {
    const plans: BuildPlan[] = []
    const builder: Builder = {
      prepare: async (_ctx: DockerContext, _o: PrepareOptions) => info,
      run: async (_ctx: DockerContext, p: BuildPlan) => {
        plans.push(p)
        return { digest: 'sha256:' + 'b'.repeat(64), metadata: {} }
      },
    }
    const logger = new MemoryLogger()
    const env: JobEnv = {
      cwd,
      workDir,
      docker: async () => ({ configDir: '/job/docker-config', logger }),
      connection: undefined,
      logger,
      builder,
    }
    const settings: BuildSettings = {
      installer: 'pip',
      flytekitRequirement: null,
      defaultPythonVersion: async () => '3.12',
      push: false,
      force: false,
      onCheckError: 'fail',
      plan: {},
      buildxVersion: '0.19.3',
      registryCache: { kind: 'auto' },
    }
    return { plans, logger, env, settings }
  }

  test('a push gets <registry>/<name>:buildcache for each image', async () => {
    const { plans, env, settings } = setup({ name: 'ci', driver: 'docker-container', cacheExport: true })
    const push = { ...settings, push: true }
    await buildImage(job('app'), push, env)
    await buildImage(job('group/other'), push, env)
    expect(plans.map((p) => p.registryCache)).toEqual([
      '127.0.0.1:5000/team/app:buildcache',
      '127.0.0.1:5000/team/group/other:buildcache',
    ])
  })

  test('a builder without cache export: built without the cache, with one notice for the step', async () => {
    const { plans, logger, env, settings } = setup({
      name: 'default',
      driver: 'docker',
      containerdImageStore: false,
      cacheExport: false,
    })
    const push = { ...settings, push: true }
    await buildImage(job('app'), push, env)
    await buildImage(job('other'), push, env)
    expect(plans.map((p) => p.registryCache)).toEqual([undefined, undefined])
    const notices = logger.lines.filter((l) => l.startsWith('notice: '))
    expect(notices).toHaveLength(1)
    expect(notices[0]).toContain(
      "The Docker Buildx builder 'default' (driver: docker, without the containerd image store) cannot export a build cache",
    )
    expect(notices[0]).toContain('set registry-cache: false')
  })

  test('without a push there is no cache', async () => {
    const { plans, env, settings } = setup({ name: 'ci', driver: 'docker-container', cacheExport: true })
    await buildImage(job('app'), settings, env)
    expect(plans[0]?.registryCache).toBeUndefined()
  })
})

describe('registry-cache as the runner passes it', () => {
  const set = (vars: Record<string, string>) => {
    for (const [k, v] of Object.entries(vars)) process.env[`INPUT_${k.toUpperCase()}`] = v
  }
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) delete process.env[k]
  })

  test('a bad value is reported naming the input', () => {
    set({ spec: 'imagespec.yaml', 'registry-cache': 'ghcr.io/org/cache:{name}' })
    expect(() => getInputs()).toThrow(
      "Input 'registry-cache': 'ghcr.io/org/cache:{name}': the tag cannot hold {name} or {registry}",
    )
  })

  test('a place of its own next to cache-to is refused, saying which to keep', () => {
    set({ spec: 'imagespec.yaml', 'registry-cache': 'ghcr.io/org/cache', 'cache-to': 'type=gha' })
    expect(() => getInputs()).toThrow(
      "'cache-from' / 'cache-to' replace 'registry-cache', which would be ignored",
    )
  })

  test('auto next to cache-to is fine: the user cache replaces it', () => {
    set({ spec: 'imagespec.yaml', 'cache-to': 'type=gha' })
    expect(getInputs().registryCache).toBe('')
  })
})

describe('a failed cache export', () => {
  test('builds the image again without the registry cache, with a warning', async () => {
    const dirs = new TempDirs()
    const cwd = await dirs.make('imagespec-cache-cwd-')
    const workDir = await dirs.make('imagespec-cache-work-')
    const plans: BuildPlan[] = []
    const stderr = [
      '#16 exporting cache to registry',
      '#16 ERROR: not found',
      '------',
      ' > exporting cache to registry:',
      '------',
      'ERROR: failed to build: failed to solve: not found',
    ].join('\n')
    const builder: Builder = {
      prepare: async () => ({
        name: 'default',
        driver: 'docker',
        containerdImageStore: true,
        cacheExport: true,
      }),
      run: async (_ctx: DockerContext, p: BuildPlan) => {
        plans.push(p)
        if (plans.length === 1) throw new BuildFailedError(stderr)
        return { digest: 'sha256:' + 'c'.repeat(64), metadata: {} }
      },
    }
    const logger = new MemoryLogger()
    const registry = '127.0.0.1:5000/team'
    const result = await buildImage(
      {
        spec: { name: 'app', registry, platform: 'linux/amd64', python_version: '3.11', packages: ['x==1'] },
        tagged: { tag: 't1', image: `${registry}/app:t1`, id: 'app', hashInput: '', idHashInput: '' },
      },
      {
        installer: 'pip',
        flytekitRequirement: null,
        defaultPythonVersion: async () => '3.12',
        push: true,
        force: false,
        onCheckError: 'fail',
        plan: {},
        buildxVersion: '0.19.3',
        registryCache: { kind: 'auto' },
      },
      {
        cwd,
        workDir,
        docker: async () => ({ configDir: '/c', logger }),
        connection: undefined,
        logger,
        builder,
      },
    )
    await dirs.removeAll()
    expect(result.digest).toBe('sha256:' + 'c'.repeat(64))
    expect(plans.map((p) => p.registryCache)).toEqual(['127.0.0.1:5000/team/app:buildcache', undefined])
    expect(logger.lines.filter((l) => l.startsWith('warning: '))).toEqual([
      'warning: Writing the build cache 127.0.0.1:5000/team/app:buildcache failed for 127.0.0.1:5000/team/app:t1 (ERROR: failed to build: failed to solve: not found); building it again without the registry cache.',
    ])
  })
})
