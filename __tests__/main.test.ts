/**
 * `run` as the action runs it (inputs from INPUT_* variables, outputs and summary into the runner's files), with
 * fakes only at the edges: two loopback registries speaking the distribution API (one behind a login, whose
 * credentials come from the runner's Docker config as an earlier login step leaves them), and docker steps that
 * record the builds instead of running them. No module of ours is replaced.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Builder } from '../src/build/image.js'
import type { BuildPlan } from '../src/docker/buildx-args.js'
import { MemoryLogger } from '../src/log.js'
import { run } from '../src/main.js'
import { withActionDefaults } from './support/action-defaults.js'
import { FakeRegistry, manifestBody, OCI_MANIFEST } from './support/fake-registry.js'
import { py, pythonTag } from './support/flytekit-tag.js'
import { parseCommandFile } from './support/run-action.js'
import { basicAuth, TempDirs } from './support/temp-dirs.js'

const BUILT = 'sha256:' + 'c'.repeat(64)

/** Records every build; fails those whose tag contains a marker. */
class RecordingBuilder implements Builder {
  readonly plans: BuildPlan[] = []
  readonly dockerfiles = new Map<string, string>()
  constructor(private readonly failFor = '') {}
  prepare: Builder['prepare'] = async () => ({ name: 'default', driver: 'docker' })
  run: Builder['run'] = async (_ctx, plan) => {
    this.plans.push(plan)
    this.dockerfiles.set(plan.tags[0] as string, await readFile(plan.dockerfile as string, 'utf8'))
    if (this.failFor && (plan.tags[0] as string).includes(this.failFor))
      throw new Error('docker buildx build failed: ERROR: process "/bin/sh -c exit 3" did not complete')
    return { digest: BUILT, metadata: {} }
  }
}

const dirs = new TempDirs()
let open: FakeRegistry
let locked: FakeRegistry
let workspace: string
let files: { output: string; summary: string }
const saved = { ...process.env }

let summaryFile: string
beforeAll(async () => {
  summaryFile = path.join(await dirs.make('imagespec-main-summary-'), 'summary')
  open = await FakeRegistry.start()
  locked = await FakeRegistry.start({ scheme: 'basic', users: { ci: 'hunter2' } })
})
afterAll(async () => {
  await dirs.removeAll()
  await open.close()
  await locked.close()
})

beforeEach(async () => {
  workspace = await dirs.make('imagespec-main-ws-')
  const runner = await dirs.make('imagespec-main-runner-')
  const dockerConfig = path.join(runner, 'docker')
  await mkdir(dockerConfig)
  // The runner's logins, as an earlier docker/login-action step leaves them.
  await writeFile(
    path.join(dockerConfig, 'config.json'),
    JSON.stringify({ auths: { [locked.host]: { auth: basicAuth('ci', 'hunter2') } } }),
  )
  files = { output: path.join(runner, 'output'), summary: summaryFile }
  await writeFile(files.output, '')
  // @actions/core keeps the summary path it saw first: one file for the whole test file, emptied per test.
  await writeFile(files.summary, '')
  Object.assign(process.env, {
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: path.join(runner, 'temp'),
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: path.join(runner, 'state'),
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_EVENT_NAME: 'push',
    DOCKER_CONFIG: dockerConfig,
  })
  await writeFile(path.join(runner, 'state'), '')
})

afterEach(async () => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
  Object.assign(process.env, saved)
  process.exitCode = 0
})

async function step(inputs: Record<string, string>, builder: Builder) {
  for (const [k, v] of Object.entries(
    withActionDefaults({ installer: 'pip', 'flytekit-version': 'none', ...inputs }),
  ))
    process.env[`INPUT_${k.toUpperCase()}`] = v
  const logger = new MemoryLogger()
  // The runner reads `::error::` lines from stdout: keep them to see what the step failed with.
  const written: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stdout.write
  try {
    await run({ builder, logger })
  } finally {
    process.stdout.write = write
  }
  const outputs = parseCommandFile(await readFile(files.output, 'utf8'))
  return {
    logger,
    outputs,
    images: JSON.parse(outputs.images ?? '[]') as Record<string, unknown>[],
    summary: await readFile(files.summary, 'utf8'),
    exitCode: process.exitCode ?? 0,
    errors: written
      .filter((w) => w.startsWith('::error::'))
      .join('')
      .replaceAll('%0A', '\n'),
  }
}

async function specs(bodies: Record<string, string>): Promise<void> {
  for (const [rel, body] of Object.entries(bodies)) {
    await mkdir(path.dirname(path.join(workspace, rel)), { recursive: true })
    await writeFile(path.join(workspace, rel), body)
  }
}

describe('run', () => {
  test('two specs, a nested base in the login registry: each image checked and pushed at its own registry', async () => {
    const team = `${open.host}/team`
    const other = `${locked.host}/other`
    await specs({
      'specs/app.yaml': `name: app\nregistry: ${team}\nbase_image:\n  name: base\n  registry: ${other}\n`,
      'specs/tool.yaml': `name: tool\nregistry: ${team}\n`,
    })
    // The base is already in its registry under the tag flytekit gives it (computed by Python).
    const baseTag = pythonTag(`{'name': 'base', 'registry': ${py(other)}, 'platform': 'linux/amd64'}`)
    const baseDigest = locked.put('other/base', baseTag, manifestBody(OCI_MANIFEST, 'base'))
    const builder = new RecordingBuilder()

    const r = await step({ spec: 'specs/app.yaml\nspecs/tool.yaml' }, builder)

    expect(r.exitCode).toBe(0)
    expect(r.images.map((i) => [i.name, i.origin, i['nested-base'], i.result])).toEqual([
      ['base', 'specs/app.yaml:4', true, 'reused'],
      ['app', 'specs/app.yaml:1', false, 'built'],
      ['tool', 'specs/tool.yaml:1', false, 'built'],
    ])
    expect(r.images[0]).toMatchObject({ image: `${other}/base:${baseTag}`, digest: baseDigest, built: false })
    // The bug: the base was asked of its own registry, never of the child's.
    expect(locked.manifestRequests().map((q) => q.path)).toContain(`/v2/other/base/manifests/${baseTag}`)
    expect(open.manifestRequests().some((q) => q.path.includes('/base/'))).toBe(false)
    // Its child is built FROM it.
    expect(builder.dockerfiles.get(r.images[1]?.image as string)).toMatch(
      new RegExp(`^FROM ${`${other}/base:${baseTag}`.replaceAll('.', '\\.')}`, 'm'),
    )
    expect(builder.plans.map((p) => p.tags[0])).toHaveLength(2)
    // With several specs the single-image outputs are empty and the summary says why.
    expect(r.outputs.image).toBe('')
    expect(r.outputs.digest).toBe('')
    expect(r.summary).toContain('read `images`')
    expect(r.summary).toContain('| specs/app.yaml:4 (nested base) |')
    expect(r.summary).toContain('pyflyte register --image specs/tool.yaml')
  })

  test('one spec keeps the single-image outputs', async () => {
    await specs({ 'imagespec.yaml': `name: solo\nregistry: ${open.host}/team\n` })
    const r = await step({ spec: 'imagespec.yaml' }, new RecordingBuilder())
    expect(r.exitCode).toBe(0)
    expect(r.outputs.image).toBe(r.images[0]?.image)
    expect(r.outputs.digest).toBe(BUILT)
    expect(r.outputs['spec-file']).toMatch(/imagespec\.yaml$/)
    expect(r.summary).not.toContain('read `images`')
  })

  test('one failing build: the others are pushed and reported, the step fails naming it', async () => {
    const team = `${open.host}/team`
    await specs({
      'a.yaml': `name: good\nregistry: ${team}\n`,
      'b.yaml': `name: broken\nregistry: ${team}\n`,
      'c.yaml': `name: above\nregistry: ${team}\nbase_image:\n  name: broken\n  registry: ${team}\n`,
    })
    const r = await step({ spec: 'a.yaml\nb.yaml\nc.yaml' }, new RecordingBuilder('/broken:'))
    expect(r.exitCode).toBe(1)
    expect(r.images.map((i) => [i.name, i.result])).toEqual([
      ['good', 'built'],
      ['broken', 'failed'],
      ['above', 'skipped'],
    ])
    expect(r.images[1]?.error).toMatch(/exit 3/)
    expect(r.images[0]?.digest).toBe(BUILT)
    expect(r.summary).toContain('**failed**')
    expect(r.errors).toMatch(/2 of 3 images did not make it/)
    expect(r.errors).toMatch(/team\/broken:\S+ \(b\.yaml:1\): docker buildx build failed/)
    expect(r.errors).toMatch(/team\/above:\S+ \(c\.yaml:1\): not built: its base image .*broken/)
  })

  test('a broken spec stops everything before any registry is asked', async () => {
    const team = `${open.host}/team`
    await specs({
      'ok.yaml': `name: fine\nregistry: ${team}\n`,
      'bad.yaml': `name: bad\nregistry: ${team}\napt_packages: 7\n`,
    })
    const before = open.requests.length
    const builder = new RecordingBuilder()
    const r = await step({ spec: 'ok.yaml\nbad.yaml' }, builder)
    expect(r.exitCode).toBe(1)
    expect(open.requests.length).toBe(before)
    expect(builder.plans).toEqual([])
    expect(r.outputs.images).toBeUndefined()
    expect(r.errors).toMatch(/bad\.yaml:3: apt_packages: /)
  })

  test('inline inputs with two specs are refused, naming the inputs', async () => {
    await specs({ 'a.yaml': 'name: a\n', 'b.yaml': 'name: b\n' })
    const r = await step({ spec: 'a.yaml\nb.yaml', packages: 'numpy' }, new RecordingBuilder())
    expect(r.exitCode).toBe(1)
    expect(r.errors).toMatch(/Input 'packages': inline ImageSpec inputs change exactly one spec/)
    expect(r.outputs.images).toBeUndefined()
  })

  test('a Python project: its specs read statically, registry from the environment, every image built', async () => {
    process.env.IMAGE_REGISTRY = `${open.host}/py`
    await specs({
      'flows/__init__.py': '',
      'flows/images.py':
        'import os\nfrom flytekit import ImageSpec\n\n' +
        'base = ImageSpec(name="py-base", registry=os.environ.get("IMAGE_REGISTRY"), packages=["numpy"])\n',
      'flows/train.py':
        'from flytekit import task\nfrom flows.images import base\n\n' +
        'train = base.with_packages("torch")\n\n\n@task(container_image=train)\ndef t() -> None:\n    ...\n',
    })
    const builder = new RecordingBuilder()
    const r = await step({ spec: 'flows/' }, builder)
    expect(r.errors).toBe('')
    expect(r.images.map((i) => [i.name, i.origin, i.result])).toEqual([
      ['py-base', 'flows/images.py:4', 'built'],
      ['py-base', 'flows/train.py:4', 'built'],
    ])
    // with_packages keeps the name and registry and adds the package: two tags of one repository.
    const [base, train] = r.images.map((i) => String(i.image))
    expect(base).toMatch(new RegExp(`^${open.host.replaceAll('.', '\\.')}/py/py-base:`))
    expect(train?.startsWith(`${open.host}/py/py-base:`)).toBe(true)
    expect(train).not.toBe(base)
    expect(r.summary).toContain('pyflyte register flows/')
  })

  test('inline inputs with a Python source are refused: register would not see them', async () => {
    await specs({ 'wf.py': 'from flytekit import ImageSpec\nimage = ImageSpec(name="x")\n' })
    const r = await step({ spec: 'wf.py', packages: 'numpy' }, new RecordingBuilder())
    expect(r.exitCode).toBe(1)
    expect(r.errors).toMatch(/input 'packages': inline ImageSpec inputs never apply to Python sources/)
  })

  test('a Python spec the reader cannot evaluate fails the step with file:line:col and the fix', async () => {
    await specs({
      'wf.py':
        'from flytekit import ImageSpec\n\ndef make():\n    return ImageSpec(name="x")\n\nimage = make()\n',
    })
    const builder = new RecordingBuilder()
    const r = await step({ spec: 'wf.py' }, builder)
    expect(r.exitCode).toBe(1)
    expect(r.errors).toMatch(
      /wf\.py:6:9: cannot be read without running code: a call of a user-defined function \(make\)/,
    )
    expect(r.errors).toMatch(/`make\(\)`/)
    expect(builder.plans).toEqual([])
  })
})
