/**
 * examples/flyte-project end to end: a Flyte project whose ImageSpecs are Python code (a shared base, an image
 * derived with `with_packages`, an image built on the base as a nested ImageSpec, and one written inline in a
 * `@task`), built by the bundled action from `spec: workflows/` with the registry, base image and package index in
 * environment variables the code reads. The expected images come from Python importing the project with a
 * flytekit stand-in that hashes as flytekit does (support/flyte-project.ts), never from the action's code; the
 * registry is asked directly over HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { withActionDefaults } from '../support/action-defaults.js'
import {
  copyExample,
  flytekitImages,
  imageNamed,
  lineOf,
  type ProjectImage,
} from '../support/flyte-project.js'
import {
  buildsOf,
  dockerfilesOf,
  entryFor,
  errorText,
  imagesOf,
  manifestDigest,
  outcome,
  repositoriesUnder,
  setting,
  type ImageEntry,
} from '../support/graph-workspace.js'
import { runAction, runStep, type StepResult } from '../support/run-action.js'

const HOST = setting('E2E_REGISTRY')
/** Unique per run, so that images left by earlier runs can neither satisfy nor hide anything. */
const STAMP = `e2e-flyte-project-${Date.now().toString(36)}`
const SUCCESS = { exitCode: 0, log: '' }
const BUILD_TIMEOUT = 600_000

/** The inputs of the workflow step; the project's settings are environment variables, as in its README. */
const INPUTS = withActionDefaults({ spec: 'workflows/', installer: 'pip', network: 'host' })

/** The step's environment for one area of the registry (each describe block pushes under its own). */
function projectEnv(area: string): Record<string, string> {
  return {
    IMAGE_REGISTRY: `${HOST}/${STAMP}/${area}`,
    BASE_IMAGE: setting('E2E_BASE_IMAGE'),
    PIP_INDEX: setting('E2E_PIP_INDEX'),
  }
}

afterAll(() => {
  spawnSync('docker', ['image', 'prune', '-f'])
})

/** The four images of the project, each by the Python name that gives it. */
function projectImages(dir: string, env: Record<string, string>) {
  const all = flytekitImages(dir, env)
  const images = {
    base: imageNamed(all, 'workflows.images.base'),
    etl: imageNamed(all, 'workflows.etl.etl_image'),
    train: imageNamed(all, 'workflows.train.train_image'),
    report: imageNamed(all, 'workflows.train.report'),
  }
  return { all, ...images }
}

/** What Python computed, in the shape of an `images` entry. */
function expected(image: ProjectImage): Partial<ImageEntry> {
  return {
    name: image.name,
    registry: image.registry,
    image: image.image,
    tag: image.tag,
    'spec-id': image.id,
    'nested-base': image.nestedBase,
  }
}

function refs(images: { image: string }[]): string[] {
  return images.map((i) => i.image).sort()
}

/** Every entry's digest is the registry's digest of its image (HEAD with the four manifest Accept types). */
async function expectDigestsMatchRegistry(entries: ImageEntry[]): Promise<void> {
  for (const e of entries) {
    expect(e.digest).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect({ image: e.image, digest: await manifestDigest(e.image) }).toEqual({
      image: e.image,
      digest: e.digest,
    })
  }
}

describe('examples/flyte-project, read from its Python code', () => {
  const ws = copyExample()
  const env = projectEnv('project')
  let want: ReturnType<typeof projectImages>
  let first: { main: StepResult; post: StepResult }

  beforeAll(async () => {
    want = projectImages(ws.dir, env)
    first = await runAction(INPUTS, { workspace: ws.dir, env })
  }, BUILD_TIMEOUT)

  test('flytekit names four images: the base, its with_packages copy, an image on the base, an inline one', () => {
    const { all, base, etl, train, report } = want
    expect(all).toHaveLength(4)
    // with_packages keeps the name: another tag of the same repository.
    expect(etl.name).toBe(base.name)
    expect(etl.tag).not.toBe(base.tag)
    expect(train.base).toBe(base.image)
    expect(report.base).toBeNull()
    for (const image of all) expect(image.registry).toBe(env.IMAGE_REGISTRY)
    // The base is named in images.py itself, so it is one of the project's images, not only a nested base.
    expect(all.map((i) => i.nestedBase)).toEqual([false, false, false, false])
  })

  test('run 1 builds and pushes every image under its flytekit tag, the base before the image on it', async () => {
    expect(outcome(first.main)).toEqual(SUCCESS)
    const images = imagesOf(first.main)
    expect(refs(images)).toEqual(refs(want.all))
    for (const image of want.all) {
      expect(entryFor(images, image.image)).toMatchObject({
        ...expected(image),
        built: true,
        pushed: true,
        result: 'built',
      })
    }
    await expectDigestsMatchRegistry(images)
    // Each image is at file:line of the code that names it.
    const at = (file: string, text: string) => `${file}:${lineOf(ws.dir, file, text)}`
    expect(entryFor(images, want.base.image).origin).toBe(at('workflows/images.py', 'base = ImageSpec('))
    expect(entryFor(images, want.etl.image).origin).toBe(at('workflows/etl.py', 'etl_image = '))
    expect(entryFor(images, want.train.image).origin).toBe(
      at('workflows/train.py', 'train_image = ImageSpec('),
    )
    const inline = lineOf(ws.dir, 'workflows/train.py', 'container_image=ImageSpec(')
    expect([`workflows/train.py:${inline - 1}`, `workflows/train.py:${inline}`]).toContain(
      entryFor(images, want.report.image).origin,
    )
    const log = first.main.log
    for (const image of want.all) {
      expect({ image: image.image, builds: buildsOf(log, image.image).length }).toEqual({
        image: image.image,
        builds: 1,
      })
    }
    expect(buildsOf(log, want.base.image)[0] ?? Infinity).toBeLessThan(
      buildsOf(log, want.train.image)[0] ?? 0,
    )
    expect(log).toContain(`FROM ${want.base.image}`)
    // The summary lists every image and says how to register the same code.
    for (const e of images) expect(first.main.summary).toContain(e.image)
    expect(first.main.summary).toMatch(/pyflyte register workflows\//)
    expect(first.post.exitCode).toBe(0)
  }, 60_000)

  test('each image holds what its spec installs, and the spec id flytekit checks at run time', () => {
    const probe =
      'import importlib, os\n' +
      'def v(m):\n' +
      '    try: return importlib.import_module(m).__version__\n' +
      '    except ImportError: return "-"\n' +
      'print(v("ispec_demo_a"), v("ispec_demo_b"), v("ispec_demo_c"), os.environ.get("_F_IMG_ID"))'
    const run = (image: ProjectImage) => {
      const r = spawnSync('docker', ['run', '--rm', image.image, 'python', '-c', probe], { encoding: 'utf8' })
      return {
        image: image.name,
        status: r.status,
        stdout: r.stdout.trim(),
        stderr: r.status ? r.stderr : '',
      }
    }
    const { base, etl, train, report } = want
    const ok = (image: ProjectImage, versions: string) => ({
      image: image.name,
      status: 0,
      stdout: `${versions} ${image.id}`,
      stderr: '',
    })
    // requirements/base.txt gives b, the base's packages c; etl adds a 1.0, train (FROM the base) a 2.0.
    expect(run(base)).toEqual(ok(base, '- 1.0 0.1'))
    expect(run(etl)).toEqual(ok(etl, '1.0 1.0 0.1'))
    expect(run(train)).toEqual(ok(train, '2.0 1.0 0.1'))
    expect(run(report)).toEqual(ok(report, '2.0 - -'))
  }, 180_000)

  test(
    'a second run builds nothing',
    async () => {
      const again = await runStep(INPUTS, { workspace: ws.dir, env })
      expect(outcome(again)).toEqual(SUCCESS)
      const before = imagesOf(first.main)
      const images = imagesOf(again)
      expect(refs(images)).toEqual(refs(want.all))
      for (const image of want.all) {
        expect(entryFor(images, image.image)).toMatchObject({
          ...expected(image),
          built: false,
          pushed: false,
          result: 'reused',
          digest: entryFor(before, image.image).digest,
        })
      }
      expect(again.log).not.toContain('buildx build')
    },
    BUILD_TIMEOUT,
  )

  test(
    'editing requirements/base.txt rebuilds the images that install it (the base, its copy, the image on it) and reuses the report image',
    async () => {
      const changed = ws.copy()
      const file = path.join(changed.dir, 'requirements/base.txt')
      changed.write('requirements/base.txt', [
        ...readFileSync(file, 'utf8').trimEnd().split('\n'),
        '# Pinned again after the 1.0 release notes were checked.',
      ])
      const now = projectImages(changed.dir, env)
      // Which images depend on the file follows from the specs: the base reads it, etl is a copy of the base
      // (same requirements), train is built FROM the base (its tag hashes the base's image name).
      const uses = (i: ProjectImage) => i.requirements.includes('requirements/base.txt')
      expect(refs(now.all.filter(uses))).toEqual(refs([now.base, now.etl, now.train]))
      for (const key of ['base', 'etl', 'train'] as const) expect(now[key].tag).not.toBe(want[key].tag)
      expect(now.report).toEqual(want.report)

      const step = await runStep(INPUTS, { workspace: changed.dir, env })
      expect(outcome(step)).toEqual(SUCCESS)
      const images = imagesOf(step)
      expect(refs(images)).toEqual(refs(now.all))
      for (const key of ['base', 'etl', 'train'] as const) {
        expect(entryFor(images, now[key].image)).toMatchObject({
          ...expected(now[key]),
          built: true,
          result: 'built',
        })
      }
      expect(entryFor(images, now.report.image)).toMatchObject({
        ...expected(now.report),
        built: false,
        result: 'reused',
        digest: entryFor(imagesOf(first.main), want.report.image).digest,
      })
      await expectDigestsMatchRegistry(images)
      expect(buildsOf(step.log, now.report.image)).toHaveLength(0)
      expect(step.log).toContain(`FROM ${now.base.image}`)
      // The images of run 1 are still there under their own tags.
      for (const image of want.all) expect(await manifestDigest(image.image)).not.toBeNull()
    },
    BUILD_TIMEOUT,
  )
})

describe('a spec the static reader cannot evaluate', () => {
  test('fails the step naming file:line, and pushes nothing of the project', async () => {
    const ws = copyExample()
    const area = 'refused'
    const file = path.join(ws.dir, 'workflows/train.py')
    ws.write('workflows/train.py', [
      ...readFileSync(file, 'utf8').trimEnd().split('\n'),
      '',
      '',
      'def nightly(name: str) -> ImageSpec:',
      '    return ImageSpec(name=name, registry=REGISTRY, base_image=BASE_IMAGE, pip_index=PIP_INDEX)',
      '',
      '',
      'nightly_image = nightly("flyte-project-nightly")',
    ])
    const line = lineOf(ws.dir, 'workflows/train.py', 'nightly_image = ')
    const { main, post } = await runAction(INPUTS, { workspace: ws.dir, env: projectEnv(area) })
    expect(main.exitCode).not.toBe(0)
    const errors = errorText(main)
    expect(errors).toContain(`workflows/train.py:${line}:`)
    expect(errors).toMatch(/nightly/)
    expect(errors).toMatch(/cannot be read without running code/)
    expect(main.log).not.toContain('buildx build')
    // Not even the project's valid images reached the registry.
    expect(await repositoriesUnder(HOST, `${STAMP}/${area}/`)).toEqual([])
    expect(post.exitCode).toBe(0)
  }, 120_000)
})

describe('dry run', () => {
  test('lists every image of the project with its tag and Dockerfile, and touches no registry', async () => {
    const ws = copyExample()
    const area = 'dry'
    const env = projectEnv(area)
    const want = projectImages(ws.dir, env)
    const { main } = await runAction(
      { ...INPUTS, 'dry-run': 'true' },
      { workspace: ws.dir, env: { ...env, DOCKER_HOST: 'unix:///nonexistent.sock' } },
    )
    expect(outcome(main)).toEqual(SUCCESS)
    const images = imagesOf(main)
    expect(refs(images)).toEqual(refs(want.all))
    for (const image of want.all) {
      expect(entryFor(images, image.image)).toMatchObject({
        ...expected(image),
        built: false,
        result: 'dry-run',
      })
      expect({ image: image.image, dockerfiles: dockerfilesOf(main.log, image.id).length }).toEqual({
        image: image.image,
        dockerfiles: 1,
      })
    }
    expect(dockerfilesOf(main.log, want.base.id)[0] ?? Infinity).toBeLessThan(
      dockerfilesOf(main.log, want.train.id)[0] ?? 0,
    )
    expect(main.log).not.toContain('buildx build')
    expect(await repositoriesUnder(HOST, `${STAMP}/${area}/`)).toEqual([])
  }, 120_000)
})
