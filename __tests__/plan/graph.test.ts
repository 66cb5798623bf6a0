/**
 * The image graph from real spec files: sources read from YAML, tags computed, nodes keyed by image reference.
 * Expectations are relations the issue states (one node per reference, bases first, each image in its own
 * registry, problems located), not values copied from the code.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { SpecError } from '../../src/errors.js'
import { planImages, type PlanOptions } from '../../src/plan/plan-images.js'
import { rejectionOf } from '../support/rejection.js'
import { yamlPlanOptions } from '../support/plan-options.js'
import { TempDirs } from '../support/temp-dirs.js'

const dirs = new TempDirs()
let cwd: string

beforeEach(async () => {
  cwd = await dirs.make('imagespec-graph-')
})
afterEach(() => dirs.removeAll())

async function write(files: Record<string, string>): Promise<void> {
  for (const [rel, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(cwd, rel)), { recursive: true })
    await writeFile(path.join(cwd, rel), body)
  }
}

function options(files: string[], extra: Partial<PlanOptions> = {}): PlanOptions {
  return yamlPlanOptions(cwd, files, extra)
}

/** A nested base spec, as the value of `base_image:` (on the line after it). */
const SHARED_BASE = `  name: shared-base
  registry: other.example/base
  packages: [numpy]
`

const summary = (nodes: Awaited<ReturnType<typeof planImages>>['nodes']) =>
  nodes.map((n) => ({
    image: n.tagged.image.replace(/:[^:/]+$/, ''),
    origin: n.origin,
    nestedBase: n.nestedBase,
    from: n.baseImage?.replace(/:[^:/]+$/, '') ?? null,
  }))

describe('the image graph', () => {
  test('one spec: one node, origin is the file and the line its mapping starts on', async () => {
    await write({ 'app.yaml': '# the app\nname: app\nregistry: r.example/team\n' })
    const plan = await planImages(options(['app.yaml']))
    expect(summary(plan.nodes)).toEqual([
      { image: 'r.example/team/app', origin: 'app.yaml:2', nestedBase: false, from: null },
    ])
  })

  test('a diamond: two specs on one shared nested base give three nodes, the base first and once', async () => {
    await write({
      'a.yaml': `name: a\nregistry: r.example/team\nbase_image:\n${SHARED_BASE}`,
      'b.yaml': `name: b\nregistry: r.example/team\nbase_image:\n${SHARED_BASE}`,
    })
    const plan = await planImages(options(['a.yaml', 'b.yaml']))
    expect(summary(plan.nodes)).toEqual([
      { image: 'other.example/base/shared-base', origin: 'a.yaml:4', nestedBase: true, from: null },
      {
        image: 'r.example/team/a',
        origin: 'a.yaml:1',
        nestedBase: false,
        from: 'other.example/base/shared-base',
      },
      {
        image: 'r.example/team/b',
        origin: 'b.yaml:1',
        nestedBase: false,
        from: 'other.example/base/shared-base',
      },
    ])
    // Both children are built FROM the very same reference.
    expect(plan.nodes[1]?.baseImage).toBe(plan.nodes[0]?.tagged.image)
    expect(plan.nodes[2]?.baseImage).toBe(plan.nodes[0]?.tagged.image)
  })

  test('a base in another registry keeps its own registry (the child is elsewhere)', async () => {
    await write({ 'a.yaml': `name: a\nregistry: 127.0.0.1:5000/team\nbase_image:\n${SHARED_BASE}` })
    const plan = await planImages(options(['a.yaml']))
    expect(plan.nodes.map((n) => n.spec.registry)).toEqual(['other.example/base', '127.0.0.1:5000/team'])
  })

  test('two specs in one registry: two nodes in the order given', async () => {
    await write({
      'x.yaml': 'name: x\nregistry: r.example/t\n',
      'y.yaml': 'name: y\nregistry: r.example/t\n',
    })
    const plan = await planImages(options(['y.yaml', 'x.yaml']))
    expect(plan.nodes.map((n) => n.spec.name)).toEqual(['y', 'x'])
    expect(plan.nodes.map((n) => n.source)).toEqual([0, 1])
  })

  test('the same spec given twice is one source and one node', async () => {
    await write({ 'x.yaml': 'name: x\nregistry: r.example/t\n' })
    const plan = await planImages(options(['x.yaml', 'x.yaml']))
    expect(plan.sources).toHaveLength(1)
    expect(plan.nodes).toHaveLength(1)
  })

  test('two files with equal specs give one node', async () => {
    await write({
      'x.yaml': 'name: x\nregistry: r.example/t\n',
      'copy.yaml': 'registry: r.example/t\nname: x\n',
    })
    const plan = await planImages(options(['x.yaml', 'copy.yaml']))
    expect(plan.nodes).toHaveLength(1)
    expect(plan.nodes[0]?.origin).toBe('x.yaml:1')
  })

  test('several registries: every spec in every registry; a base in its own registry stays shared', async () => {
    await write({
      'a.yaml': `name: a\nregistry: r.example/t\nbase_image:\n${SHARED_BASE}`,
      'b.yaml': 'name: b\nregistry: r.example/t\n',
    })
    const plan = await planImages(
      options(['a.yaml', 'b.yaml'], { registries: ['east.example/t', 'west.example/t'] }),
    )
    expect(summary(plan.nodes).map((n) => n.image)).toEqual([
      'other.example/base/shared-base',
      'east.example/t/a',
      'west.example/t/a',
      'east.example/t/b',
      'west.example/t/b',
    ])
    // Each registry's image gets a tag of its own: flytekit hashes the registry.
    const tags = plan.nodes.map((n) => n.tagged.tag)
    expect(new Set(tags).size).toBe(tags.length)
  })

  test('a base in the same registry follows each registry: one base per registry', async () => {
    await write({
      'a.yaml': 'name: a\nregistry: r.example/t\nbase_image:\n  name: base\n  registry: r.example/t\n',
    })
    const plan = await planImages(options(['a.yaml'], { registries: ['east.example/t', 'west.example/t'] }))
    expect(summary(plan.nodes)).toEqual([
      { image: 'east.example/t/base', origin: 'a.yaml:4', nestedBase: true, from: null },
      { image: 'east.example/t/a', origin: 'a.yaml:1', nestedBase: false, from: 'east.example/t/base' },
      { image: 'west.example/t/base', origin: 'a.yaml:4', nestedBase: true, from: null },
      { image: 'west.example/t/a', origin: 'a.yaml:1', nestedBase: false, from: 'west.example/t/base' },
    ])
  })

  test("a spec that is also another spec's nested base is not marked as a nested base", async () => {
    await write({
      'base.yaml': 'name: shared-base\nregistry: other.example/base\npackages: [numpy]\n',
      'a.yaml': `name: a\nregistry: r.example/team\nbase_image:\n${SHARED_BASE}`,
    })
    const plan = await planImages(options(['a.yaml', 'base.yaml']))
    expect(summary(plan.nodes)[0]).toMatchObject({
      image: 'other.example/base/shared-base',
      nestedBase: false,
    })
    expect(plan.nodes).toHaveLength(2)
  })

  test('two different specs with one reference (a fixed tag_format) are reported with both places', async () => {
    await write({
      'x.yaml': 'name: app\nregistry: r.example/t\ntag_format: latest\npackages: [a]\n',
      'y.yaml': 'name: app\nregistry: r.example/t\ntag_format: latest\npackages: [b]\n',
    })
    const err = await rejectionOf(planImages(options(['x.yaml', 'y.yaml'])))
    expect(err).toBeInstanceOf(SpecError)
    expect((err as SpecError).message).toContain('y.yaml:1: name: gives the image r.example/t/app:latest')
    expect((err as SpecError).message).toContain('x.yaml:1')
  })

  test('problems of every spec are reported together, each with its file and line', async () => {
    await write({
      'ok.yaml': 'name: ok\n',
      'bad1.yaml': 'name: bad1\npackages: 3\n',
      'bad2.yaml': 'name: bad2\nrequirements: missing.txt\n',
      'bad3.yaml': 'name: bad3\nenv:\n  "A B": x\n',
    })
    const err = await rejectionOf(
      planImages(options(['ok.yaml', 'bad1.yaml', 'bad2.yaml', 'bad3.yaml', 'nope.yaml'])),
    )
    expect(err).toBeInstanceOf(SpecError)
    const message = (err as SpecError).message
    expect(message).toMatch(/^The ImageSpecs have 4 problems:/)
    expect(message).toMatch(/bad1\.yaml:2: packages: /)
    expect(message).toMatch(/bad2\.yaml:2: requirements: file 'missing.txt' not found/)
    expect(message).toMatch(/bad3\.yaml:3: env/)
    expect(message).toMatch(/nope\.yaml: spec: file 'nope.yaml' not found/)
  })

  test("a nested base's problem is reported at its own line", async () => {
    await write({ 'a.yaml': 'name: a\nbase_image:\n  name: b\n  requirements: gone.txt\n' })
    const err = await rejectionOf(planImages(options(['a.yaml'])))
    expect((err as SpecError).message).toMatch(
      /a\.yaml:4: base_image\.requirements: file 'gone.txt' not found/,
    )
  })

  test('installer pip warns once per spec that sets python_version', async () => {
    await write({ 'a.yaml': 'name: a\npython_version: "3.11"\n', 'b.yaml': 'name: b\n' })
    const plan = await planImages(
      options(['a.yaml', 'b.yaml'], { registries: ['e.example/t', 'w.example/t'] }),
    )
    expect(plan.warnings).toEqual([
      expect.stringMatching(/^a\.yaml:1: python_version .*installer 'pip' uses/),
    ])
    const uv = await planImages(options(['a.yaml'], { installer: 'uv' }))
    expect(uv.warnings).toEqual([])
  })

  test('Python files without any ImageSpec: nothing to build, and a warning that says so', async () => {
    const plan = await planImages({
      ...options([]),
      files: [{ path: 'flows/wf.py', kind: 'python' }],
      python: { python: '3.11', specs: [], errors: [], modules: ['flows.wf'] },
    })
    expect(plan.nodes).toEqual([])
    expect(plan.warnings).toEqual([
      expect.stringMatching(/^No ImageSpec found in flows\/wf\.py: nothing to build/),
    ])
  })
})
