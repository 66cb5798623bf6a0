/**
 * The image graph, end to end: several spec files and their nested base specs become one set of images keyed by
 * full reference, each checked, logged in to and pushed at its own registry (the open one and the one behind
 * htpasswd, from scripts/e2e/up.sh), a shared base built once and before the images on it. Expected images and
 * tags come from Python reading the YAML (graph-workspace.ts), never from our code; the registries are asked
 * directly over HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import {
  buildsOf,
  dockerfilesOf,
  entryFor,
  errorText,
  flytekitChain,
  imagesOf,
  manifestDigest,
  outcome,
  repositoriesUnder,
  setting,
  Workspace,
  type FlytekitImage,
  type ImageEntry,
} from '../support/graph-workspace.js'
import { runAction, runStep, type StepResult } from '../support/run-action.js'

const OPEN_HOST = setting('E2E_REGISTRY')
const AUTH_HOST = setting('E2E_AUTH_REGISTRY')
const BASE_IMAGE = setting('E2E_BASE_IMAGE')
const PIP_INDEX = setting('E2E_PIP_INDEX')
/** Unique per run, so that images left by earlier runs can neither satisfy nor hide anything. */
const STAMP = `e2e-graph-${Date.now().toString(36)}`
const OPEN = `${OPEN_HOST}/${STAMP}`
const AUTH = `${AUTH_HOST}/${STAMP}`

const COMMON = { installer: 'pip', network: 'host', 'flytekit-version': 'none' }
const LOGIN = { username: setting('E2E_AUTH_USER'), password: setting('E2E_AUTH_PASSWORD') }
const SUCCESS = { exitCode: 0, log: '' }
const BUILD_TIMEOUT = 600_000

afterAll(() => {
  spawnSync('docker', ['image', 'prune', '-f'])
})

/**
 * Three spec files under `specs/`: alpha (open registry) and beta (login registry) on the same nested base
 * mapping `shared` (open registry), and gamma (open registry) on the base image with a requirements file.
 */
function writeGraphSpecs(ws: Workspace, area: string): void {
  const shared = [
    'base_image:',
    '  name: shared',
    `  registry: ${OPEN}/${area}`,
    `  base_image: ${BASE_IMAGE}`,
    `  pip_index: ${PIP_INDEX}`,
    '  packages: [ispec-demo-b==1.0]',
  ]
  ws.write('specs/a.yaml', [
    'name: alpha',
    `registry: ${OPEN}/${area}`,
    `pip_index: ${PIP_INDEX}`,
    'packages: [ispec-demo-a==1.0]',
    ...shared,
  ])
  ws.write('specs/b.yaml', [
    'name: beta',
    `registry: ${AUTH}/${area}`,
    `pip_index: ${PIP_INDEX}`,
    'packages: [ispec-demo-c==0.1]',
    ...shared,
  ])
  ws.write('specs/c.yaml', [
    'name: gamma',
    `registry: ${OPEN}/${area}`,
    `base_image: ${BASE_IMAGE}`,
    `pip_index: ${PIP_INDEX}`,
    'requirements: requirements/gamma.txt',
  ])
  ws.write('requirements/gamma.txt', ['ispec-demo-a==2.0'])
}

const GRAPH_SPECS = 'specs/a.yaml\nspecs/b.yaml\nspecs/c.yaml'

/** The images of writeGraphSpecs as Python computes them. */
function graphImages(ws: Workspace): {
  shared: FlytekitImage
  alpha: FlytekitImage
  beta: FlytekitImage
  gamma: FlytekitImage
} {
  const [shared, alpha] = flytekitChain(ws, 'specs/a.yaml') as [FlytekitImage, FlytekitImage]
  const [sharedToo, beta] = flytekitChain(ws, 'specs/b.yaml') as [FlytekitImage, FlytekitImage]
  const [gamma] = flytekitChain(ws, 'specs/c.yaml') as [FlytekitImage]
  // Identical nested mappings are one image: the premise of the shared base.
  expect(sharedToo).toEqual(shared)
  return { shared, alpha, beta, gamma }
}

/** What Python computed, in the shape of an `images` entry. */
function expected(image: FlytekitImage): Partial<ImageEntry> {
  return {
    name: image.name,
    registry: image.registry,
    image: image.image,
    tag: image.tag,
    'spec-id': image.id,
  }
}

const ORIGIN = (file: string) => new RegExp(`^${file.replaceAll('.', '\\.')}:\\d+$`)

/** Every entry's digest is the registry's digest of its image. */
async function expectDigestsMatchRegistry(entries: ImageEntry[]): Promise<void> {
  for (const e of entries) {
    expect(e.digest).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect({ image: e.image, digest: await manifestDigest(e.image) }).toEqual({
      image: e.image,
      digest: e.digest,
    })
  }
}

describe('a nested base whose registry differs from its image (the bug)', () => {
  const ws = new Workspace()
  const area = 'bug'
  let base: FlytekitImage
  let child: FlytekitImage
  let first: { main: StepResult; post: StepResult }
  const inputs = { ...COMMON, ...LOGIN, spec: 'specs/app.yaml' }

  beforeAll(async () => {
    ws.write('specs/app.yaml', [
      'name: child',
      `registry: ${OPEN}/${area}`,
      `pip_index: ${PIP_INDEX}`,
      'packages: [ispec-demo-a==2.0]',
      'base_image:',
      '  name: base',
      `  registry: ${AUTH}/${area}`,
      `  base_image: ${BASE_IMAGE}`,
      `  pip_index: ${PIP_INDEX}`,
      '  packages: [ispec-demo-b==1.0]',
    ])
    ;[base, child] = flytekitChain(ws, 'specs/app.yaml') as [FlytekitImage, FlytekitImage]
    first = await runAction(inputs, { workspace: ws.dir })
  }, BUILD_TIMEOUT)

  test('run 1 builds the base at its own (login) registry and the image at its own', async () => {
    expect(outcome(first.main)).toEqual(SUCCESS)
    const images = imagesOf(first.main)
    expect(images.map((e) => e.image).sort()).toEqual([base.image, child.image].sort())
    const b = entryFor(images, base.image)
    const c = entryFor(images, child.image)
    expect(b).toMatchObject({ ...expected(base), built: true, 'nested-base': true, result: 'built' })
    expect(c).toMatchObject({ ...expected(child), built: true, 'nested-base': false, result: 'built' })
    expect(b.origin).toMatch(ORIGIN('specs/app.yaml'))
    expect(c.origin).toMatch(ORIGIN('specs/app.yaml'))
    // The base is at 127.0.0.1:5001 (asked with basic auth), the image at 127.0.0.1:5000.
    await expectDigestsMatchRegistry([b, c])
    // Nothing of the base went through the image's registry: not its name there, not any other repository.
    expect(await manifestDigest(`${OPEN}/${area}/base:${base.tag}`)).toBeNull()
    expect(await repositoriesUnder(OPEN_HOST, `${STAMP}/${area}/`)).toEqual([`${STAMP}/${area}/child`])
    expect(await repositoriesUnder(AUTH_HOST, `${STAMP}/${area}/`)).toEqual([`${STAMP}/${area}/base`])
    expect(buildsOf(first.main.log, base.image)).toHaveLength(1)
    expect(buildsOf(first.main.log, child.image)).toHaveLength(1)
    // The base is built before the image that starts FROM it.
    expect(buildsOf(first.main.log, base.image)[0]).toBeLessThan(
      buildsOf(first.main.log, child.image)[0] ?? 0,
    )
  }, 60_000)

  test('with one spec line, image, tag, spec-id, digest and spec-file keep their meaning', () => {
    const c = entryFor(imagesOf(first.main), child.image)
    expect(first.main.outputs).toMatchObject({
      image: child.image,
      tag: child.tag,
      'spec-id': child.id,
      digest: c.digest,
      built: 'true',
    })
    expect(first.main.outputs['spec-file']).toMatch(/\.yaml$/)
    expect(first.post.exitCode).toBe(0)
  }, 60_000)

  test('the image is built on the base', () => {
    const r = spawnSync(
      'docker',
      [
        'run',
        '--rm',
        child.image,
        'sh',
        '-c',
        'python -c "import ispec_demo_a, ispec_demo_b; print(ispec_demo_a.__version__, ispec_demo_b.__version__)"',
      ],
      { encoding: 'utf8' },
    )
    expect({ status: r.status, stdout: r.stdout.trim(), stderr: r.status === 0 ? '' : r.stderr }).toEqual({
      status: 0,
      stdout: '2.0 1.0',
      stderr: '',
    })
  }, 120_000)

  test(
    'run 2 reuses both images, each checked at its own registry, and builds nothing',
    async () => {
      const again = await runAction(inputs, { workspace: ws.dir })
      expect(outcome(again.main)).toEqual(SUCCESS)
      const before = imagesOf(first.main)
      const images = imagesOf(again.main)
      expect(images.map((e) => e.image).sort()).toEqual([base.image, child.image].sort())
      for (const image of [base, child]) {
        expect(entryFor(images, image.image)).toMatchObject({
          ...expected(image),
          built: false,
          result: 'reused',
          digest: entryFor(before, image.image).digest,
        })
      }
      expect(again.main.log).not.toContain('buildx build')
      expect(again.main.outputs.built).toBe('false')
      expect(again.post.exitCode).toBe(0)
    },
    BUILD_TIMEOUT,
  )
})

describe('three spec files, one graph', () => {
  const ws = new Workspace()
  let want: ReturnType<typeof graphImages>
  let first: { main: StepResult; post: StepResult }
  const inputs = { ...COMMON, ...LOGIN, spec: GRAPH_SPECS }

  beforeAll(async () => {
    writeGraphSpecs(ws, 'graph')
    want = graphImages(ws)
    first = await runAction(inputs, { workspace: ws.dir })
  }, BUILD_TIMEOUT)

  test('the shared base is built once, first, and every image is at its registry under its flytekit tag', async () => {
    expect(outcome(first.main)).toEqual(SUCCESS)
    const { shared, alpha, beta, gamma } = want
    const images = imagesOf(first.main)
    expect(images.map((e) => e.image).sort()).toEqual(
      [shared.image, alpha.image, beta.image, gamma.image].sort(),
    )
    for (const image of [shared, alpha, beta, gamma]) {
      expect(entryFor(images, image.image)).toMatchObject({
        ...expected(image),
        built: true,
        result: 'built',
        'nested-base': image === shared,
      })
    }
    expect(entryFor(images, shared.image).origin).toMatch(/^specs\/[ab]\.yaml:\d+$/)
    expect(entryFor(images, alpha.image).origin).toMatch(ORIGIN('specs/a.yaml'))
    expect(entryFor(images, beta.image).origin).toMatch(ORIGIN('specs/b.yaml'))
    expect(entryFor(images, gamma.image).origin).toMatch(ORIGIN('specs/c.yaml'))
    // alpha and shared at 127.0.0.1:5000, beta at 127.0.0.1:5001 (asked with basic auth).
    await expectDigestsMatchRegistry(images)
    expect(beta.image.startsWith(`${AUTH_HOST}/`)).toBe(true)
    const log = first.main.log
    for (const image of [shared, alpha, beta, gamma]) {
      expect({ image: image.image, builds: buildsOf(log, image.image).length }).toEqual({
        image: image.image,
        builds: 1,
      })
    }
    const sharedBuild = buildsOf(log, shared.image)[0] ?? Infinity
    expect(sharedBuild).toBeLessThan(buildsOf(log, alpha.image)[0] ?? 0)
    expect(sharedBuild).toBeLessThan(buildsOf(log, beta.image)[0] ?? 0)
    expect(first.post.exitCode).toBe(0)
  }, 60_000)

  test('the images are built on their bases', () => {
    const run = (image: string, code: string) =>
      spawnSync('docker', ['run', '--rm', image, 'sh', '-c', `python -c "${code}"`], { encoding: 'utf8' })
    const beta = run(
      want.beta.image,
      'import ispec_demo_b, ispec_demo_c; print(ispec_demo_b.__version__, ispec_demo_c.__version__)',
    )
    expect({ status: beta.status, stdout: beta.stdout.trim() }).toEqual({ status: 0, stdout: '1.0 0.1' })
    const gamma = run(want.gamma.image, 'import ispec_demo_a; print(ispec_demo_a.__version__)')
    expect({ status: gamma.status, stdout: gamma.stdout.trim() }).toEqual({ status: 0, stdout: '2.0' })
  }, 120_000)

  test('with several spec lines, the single-image outputs are empty and the summary lists every image', () => {
    const { outputs, summary } = first.main
    expect({
      image: outputs.image,
      tag: outputs.tag,
      'spec-id': outputs['spec-id'],
      digest: outputs.digest,
      'spec-file': outputs['spec-file'],
    }).toEqual({ image: '', tag: '', 'spec-id': '', digest: '', 'spec-file': '' })
    expect(summary).toContain('images')
    for (const e of imagesOf(first.main)) {
      expect(summary).toContain(e.image)
      expect(summary).toContain(e.digest)
    }
    for (const file of ['specs/a.yaml', 'specs/b.yaml', 'specs/c.yaml']) expect(summary).toContain(file)
    expect(summary).toContain('pyflyte register')
  }, 60_000)

  test(
    'a second run builds nothing',
    async () => {
      const again = await runStep(inputs, { workspace: ws.dir })
      expect(outcome(again)).toEqual(SUCCESS)
      const before = imagesOf(first.main)
      const images = imagesOf(again)
      expect(images).toHaveLength(4)
      for (const e of images) {
        expect(e).toMatchObject({
          built: false,
          result: 'reused',
          digest: entryFor(before, e.image).digest,
        })
      }
      expect(again.log).not.toContain('buildx build')
      expect(again.summary).toContain('reused')
    },
    BUILD_TIMEOUT,
  )

  test(
    "a changed requirement of one spec rebuilds only that spec's image",
    async () => {
      const changed = ws.copy()
      changed.write('specs/a.yaml', [
        'name: alpha',
        `registry: ${OPEN}/graph`,
        `pip_index: ${PIP_INDEX}`,
        'packages: [ispec-demo-a==2.0]',
        'base_image:',
        '  name: shared',
        `  registry: ${OPEN}/graph`,
        `  base_image: ${BASE_IMAGE}`,
        `  pip_index: ${PIP_INDEX}`,
        '  packages: [ispec-demo-b==1.0]',
      ])
      const now = graphImages(changed)
      expect(now.shared).toEqual(want.shared)
      expect(now.alpha.tag).not.toBe(want.alpha.tag)
      const step = await runStep(inputs, { workspace: changed.dir })
      expect(outcome(step)).toEqual(SUCCESS)
      const before = imagesOf(first.main)
      const images = imagesOf(step)
      expect(images.map((e) => e.image).sort()).toEqual(
        [now.shared.image, now.alpha.image, now.beta.image, now.gamma.image].sort(),
      )
      const alpha = entryFor(images, now.alpha.image)
      expect(alpha).toMatchObject({ ...expected(now.alpha), built: true, result: 'built' })
      await expectDigestsMatchRegistry([alpha])
      for (const image of [now.shared, now.beta, now.gamma]) {
        expect(entryFor(images, image.image)).toMatchObject({
          built: false,
          result: 'reused',
          digest: entryFor(before, image.image).digest,
        })
        expect(buildsOf(step.log, image.image)).toHaveLength(0)
      }
      expect(buildsOf(step.log, now.alpha.image)).toHaveLength(1)
    },
    BUILD_TIMEOUT,
  )
})

describe('a broken spec among valid ones', () => {
  test('fails the step with every problem at its file and line, and pushes nothing', async () => {
    const ws = new Workspace()
    const area = 'broken'
    writeGraphSpecs(ws, area)
    ws.write('specs/broken.yaml', [
      'name: broken',
      `registry: ${OPEN}/${area}`,
      `base_image: ${BASE_IMAGE}`,
      'packages: 3',
    ])
    ws.write('specs/typo.yaml', [
      'name: typo',
      `registry: ${OPEN}/${area}`,
      'pakages: [ispec-demo-a==1.0]',
      `base_image: ${BASE_IMAGE}`,
    ])
    const { main, post } = await runAction(
      {
        ...COMMON,
        ...LOGIN,
        spec: 'specs/a.yaml\nspecs/broken.yaml\nspecs/b.yaml\nspecs/typo.yaml\nspecs/c.yaml',
      },
      { workspace: ws.dir },
    )
    expect(main.exitCode).not.toBe(0)
    const errors = errorText(main)
    expect(errors).toMatch(/specs\/broken\.yaml:4\b[^\n]*packages/)
    expect(errors).toMatch(/specs\/typo\.yaml:3\b[^\n]*pakages/)
    expect(main.log).not.toContain('buildx build')
    // Not even the valid specs' images (or their shared base) reached a registry.
    expect(await repositoriesUnder(OPEN_HOST, `${STAMP}/${area}/`)).toEqual([])
    expect(await repositoriesUnder(AUTH_HOST, `${STAMP}/${area}/`)).toEqual([])
    expect(post.exitCode).toBe(0)
  }, 120_000)
})

describe('one image fails to build', () => {
  const ws = new Workspace()
  const area = 'fail'
  let step: StepResult
  let ok: FlytekitImage
  let fails: FlytekitImage
  let failingBase: FlytekitImage
  let onFailed: FlytekitImage

  beforeAll(async () => {
    ws.write('specs/ok.yaml', [
      'name: ok',
      `registry: ${OPEN}/${area}`,
      `base_image: ${BASE_IMAGE}`,
      `pip_index: ${PIP_INDEX}`,
      'packages: [ispec-demo-a==1.0]',
    ])
    ws.write('specs/fails.yaml', [
      'name: fails',
      `registry: ${OPEN}/${area}`,
      `base_image: ${BASE_IMAGE}`,
      'commands: ["exit 3"]',
    ])
    ws.write('specs/on-failed.yaml', [
      'name: on-failed',
      `registry: ${OPEN}/${area}`,
      `pip_index: ${PIP_INDEX}`,
      'packages: [ispec-demo-a==1.0]',
      'base_image:',
      '  name: failing-base',
      `  registry: ${OPEN}/${area}`,
      `  base_image: ${BASE_IMAGE}`,
      '  commands: ["exit 3"]',
    ])
    ;[ok] = flytekitChain(ws, 'specs/ok.yaml') as [FlytekitImage]
    ;[fails] = flytekitChain(ws, 'specs/fails.yaml') as [FlytekitImage]
    ;[failingBase, onFailed] = flytekitChain(ws, 'specs/on-failed.yaml') as [FlytekitImage, FlytekitImage]
    step = await runStep(
      { ...COMMON, spec: 'specs/fails.yaml\nspecs/ok.yaml\nspecs/on-failed.yaml' },
      { workspace: ws.dir },
    )
  }, BUILD_TIMEOUT)

  test('the other images are still built, pushed and reported; the step fails', async () => {
    expect(step.exitCode).not.toBe(0)
    const images = imagesOf(step)
    expect(images.map((e) => e.image).sort()).toEqual(
      [ok.image, fails.image, failingBase.image, onFailed.image].sort(),
    )
    const good = entryFor(images, ok.image)
    expect(good).toMatchObject({ ...expected(ok), built: true, result: 'built' })
    await expectDigestsMatchRegistry([good])
  }, 60_000)

  test('the failed images are reported with why, and the image on a failed base is skipped', async () => {
    const images = imagesOf(step)
    for (const image of [fails, failingBase]) {
      const e = entryFor(images, image.image)
      expect(e).toMatchObject({ ...expected(image), built: false, result: 'failed' })
      expect(e.error).toMatch(/exit (code:? )?3/)
      expect(await manifestDigest(image.image)).toBeNull()
    }
    expect(entryFor(images, failingBase.image)['nested-base']).toBe(true)
    expect(entryFor(images, onFailed.image)).toMatchObject({
      ...expected(onFailed),
      built: false,
      result: 'skipped',
    })
    expect(await manifestDigest(onFailed.image)).toBeNull()
    expect(buildsOf(step.log, onFailed.image)).toHaveLength(0)
    const errors = errorText(step)
    expect(errors).toContain(fails.image)
    expect(errors).toContain(failingBase.image)
  }, 60_000)
})

describe('inline inputs', () => {
  test('with two spec lines fail the step, naming the inline inputs', async () => {
    const ws = new Workspace()
    writeGraphSpecs(ws, 'inline')
    const step = await runStep(
      {
        ...COMMON,
        spec: 'specs/a.yaml\nspecs/c.yaml',
        name: 'inline',
        packages: 'ispec-demo-a==1.0',
      },
      { workspace: ws.dir },
    )
    expect(step.exitCode).not.toBe(0)
    const errors = errorText(step)
    expect(errors).toMatch(/\bname\b/)
    expect(errors).toMatch(/\bpackages\b/)
    expect(errors).toMatch(/one spec/i)
    expect(step.log).not.toContain('buildx build')
    expect(await repositoriesUnder(OPEN_HOST, `${STAMP}/inline/`)).toEqual([])
  }, 120_000)
})

describe('dry run with three spec files', () => {
  test('lists the whole graph once, bases first, with tags and Dockerfiles; touches no registry or Docker', async () => {
    const ws = new Workspace()
    const area = 'dry'
    writeGraphSpecs(ws, area)
    const { shared, alpha, beta, gamma } = graphImages(ws)
    const { main } = await runAction(
      { ...COMMON, spec: GRAPH_SPECS, 'dry-run': 'true' },
      { workspace: ws.dir, env: { DOCKER_HOST: 'unix:///nonexistent.sock' } },
    )
    expect(outcome(main)).toEqual(SUCCESS)
    const images = imagesOf(main)
    expect(images.map((e) => e.image).sort()).toEqual(
      [shared.image, alpha.image, beta.image, gamma.image].sort(),
    )
    for (const image of [shared, alpha, beta, gamma]) {
      expect(entryFor(images, image.image)).toMatchObject({
        ...expected(image),
        built: false,
        result: 'dry-run',
        'nested-base': image === shared,
      })
      expect(main.log).toContain(image.tag)
      // Each image's Dockerfile (it ends with its spec id) is shown exactly once.
      expect({ image: image.image, dockerfiles: dockerfilesOf(main.log, image.id).length }).toEqual({
        image: image.image,
        dockerfiles: 1,
      })
    }
    const at = (image: FlytekitImage) => dockerfilesOf(main.log, image.id)[0] ?? -1
    expect(at(shared)).toBeLessThan(at(alpha))
    expect(at(shared)).toBeLessThan(at(beta))
    expect(main.log).toContain(`FROM ${shared.image}`)
    expect(main.log).not.toContain('buildx build')
    expect(await repositoriesUnder(OPEN_HOST, `${STAMP}/${area}/`)).toEqual([])
    expect(await repositoriesUnder(AUTH_HOST, `${STAMP}/${area}/`)).toEqual([])
  }, 120_000)
})
