/**
 * Running the image graph with recording fakes at the edges (registry connections and the two docker steps);
 * the graph itself comes from real spec files. The first test is the bug this design fixes: a nested base in
 * another registry must be checked, logged in to and pushed there, not through its child's registry.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { RegistryConnection } from '../../src/connections/connection.js'
import { Connections } from '../../src/connections/per-step.js'
import type { BuildSettings, Builder } from '../../src/build/image.js'
import { runGraph, type GraphEnv } from '../../src/build/run-graph.js'
import type { BuildPlan } from '../../src/docker/buildx-args.js'
import type { BuildResult } from '../../src/docker/buildx.js'
import { MemoryLogger } from '../../src/log.js'
import { planImages } from '../../src/plan/plan-images.js'
import { yamlPlanOptions } from '../support/plan-options.js'
import { TempDirs } from '../support/temp-dirs.js'

const DIGEST = 'sha256:' + 'b'.repeat(64)
const FOUND = 'sha256:' + 'a'.repeat(64)

const dirs = new TempDirs()
let cwd: string
let workDir: string
beforeEach(async () => {
  cwd = await dirs.make('imagespec-run-cwd-')
  workDir = await dirs.make('imagespec-run-work-')
})
afterEach(() => dirs.removeAll())

/** A registry that answers checks from the images pushed to it, and records what was asked of it. */
class FakeRegistry {
  readonly calls: string[] = []
  /** `name:tag` -> the digest pushed under it. */
  readonly images = new Map<string, string>()
  connects = 0
  constructor(
    readonly registry: string,
    private readonly opts: { checkFails?: string; loginFails?: string } = {},
  ) {}
  connection(): RegistryConnection {
    this.connects++
    return {
      registry: this.registry,
      describe: `fake ${this.registry}`,
      check: async (name, tag) => {
        this.calls.push(`check ${name}:${tag}`)
        if (this.opts.checkFails) throw new Error(this.opts.checkFails)
        const digest = this.images.get(`${name}:${tag}`)
        return digest ? { exists: true, digest } : { exists: false }
      },
      prepareRepository: async (name) => {
        this.calls.push(`prepare ${name}`)
        return { immutable: false }
      },
      loginForPush: async () => {
        this.calls.push('login')
        if (this.opts.loginFails) throw new Error(this.opts.loginFails)
      },
    }
  }
}

/** Docker steps that "push" into the fake registry named by the tag, failing for images told to. */
class FakeBuilder implements Builder {
  readonly built: string[] = []
  inFlight = 0
  maxInFlight = 0
  prepares = 0
  constructor(
    private readonly registries: FakeRegistry[],
    private readonly failing: Set<string> = new Set(),
  ) {}
  prepare: Builder['prepare'] = async () => {
    this.prepares++
    return { name: 'default', driver: 'docker' }
  }
  run: Builder['run'] = async (_ctx, plan: BuildPlan): Promise<BuildResult> => {
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    await new Promise((r) => setTimeout(r, 20))
    this.inFlight--
    const image = plan.tags[0] as string
    if ([...this.failing].some((f) => image.includes(f)))
      throw new Error('docker buildx build failed: exit 3')
    const registry = this.registries.find((r) => image.startsWith(`${r.registry}/`))
    if (!registry) throw new Error(`no fake registry for ${image}`)
    registry.images.set(image.slice(registry.registry.length + 1), DIGEST)
    this.built.push(image)
    return { digest: DIGEST, metadata: {} }
  }
}

const settings: BuildSettings = {
  installer: 'pip',
  flytekitRequirement: null,
  defaultPythonVersion: async () => '3.12',
  push: true,
  force: false,
  onCheckError: 'fail',
  plan: {},
  buildxVersion: '0.29.1',
}

async function graph(files: Record<string, string>) {
  for (const [rel, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(cwd, rel)), { recursive: true })
    await writeFile(path.join(cwd, rel), body)
  }
  const plan = await planImages(
    yamlPlanOptions(
      cwd,
      Object.keys(files).filter((f) => f.endsWith('.yaml')),
    ),
  )
  return plan.nodes
}

function env(registries: FakeRegistry[], builder: FakeBuilder, parallel = 1): GraphEnv & { used: string[] } {
  const used: string[] = []
  const connect = async (registry: string) => {
    const fake = registries.find((r) => r.registry === registry)
    if (!fake) throw new Error(`connected to unexpected registry ${registry}`)
    return fake.connection()
  }
  return {
    settings,
    cwd,
    workDir,
    logger: new MemoryLogger(),
    connections: new Connections(connect, (r) => used.push(r)),
    docker: async () => ({ configDir: '/job/docker-config' }),
    parallel,
    builder,
    used,
  }
}

const NESTED = `name: app
registry: 127.0.0.1:5000/team
base_image:
  name: base
  registry: 127.0.0.1:5001/other
`

describe('runGraph', () => {
  test('a nested base in another registry is checked, logged in to and pushed at its own registry', async () => {
    const child = new FakeRegistry('127.0.0.1:5000/team')
    const base = new FakeRegistry('127.0.0.1:5001/other')
    const nodes = await graph({ 'app.yaml': NESTED })
    const builder = new FakeBuilder([child, base])
    const outcomes = await runGraph(nodes, env([child, base], builder))

    expect(outcomes.map((o) => [o.name, o.state])).toEqual([
      ['base', 'built'],
      ['app', 'built'],
    ])
    // Each is checked, then pushed, then read back from its own registry (the digest the tag points at).
    const baseCheck = `check base:${nodes[0]?.tagged.tag}`
    const appCheck = `check app:${nodes[1]?.tagged.tag}`
    expect(base.calls).toEqual([baseCheck, 'prepare base', 'login', baseCheck])
    expect(child.calls).toEqual([appCheck, 'prepare app', 'login', appCheck])
    expect(child.calls.some((c) => c.includes('base'))).toBe(false)

    // The second run finds both, each at its own registry, and builds nothing.
    const again = new FakeBuilder([child, base])
    const second = await runGraph(nodes, env([child, base], again))
    expect(second.map((o) => o.state)).toEqual(['reused', 'reused'])
    expect(again.built).toEqual([])
  })

  test('one connection and one login per registry, however many images are pushed there', async () => {
    const team = new FakeRegistry('r.example/team')
    const nodes = await graph({
      'a.yaml': 'name: a\nregistry: r.example/team\n',
      'b.yaml': 'name: b\nregistry: r.example/team\n',
      'c.yaml': 'name: c\nregistry: r.example/team\n',
    })
    const e = env([team], new FakeBuilder([team]), 3)
    await runGraph(nodes, e)
    expect(team.connects).toBe(1)
    expect(team.calls.filter((c) => c === 'login')).toHaveLength(1)
    expect(e.used).toEqual(['r.example/team'])
  })

  test('independent images build at once, never more than the bound; a base before its children', async () => {
    const team = new FakeRegistry('r.example/team')
    const files: Record<string, string> = {}
    for (const n of ['a', 'b', 'c', 'd', 'e']) files[`${n}.yaml`] = `name: ${n}\nregistry: r.example/team\n`
    const builder = new FakeBuilder([team])
    await runGraph(await graph(files), env([team], builder, 2))
    expect(builder.maxInFlight).toBe(2)
    expect(builder.prepares).toBe(1)

    const shared = new FakeRegistry('r.example/shared')
    const diamond = new FakeBuilder([team, shared])
    const base = 'base_image:\n  name: base\n  registry: r.example/shared\n'
    const nodes = await graph({
      'x.yaml': `name: x\nregistry: r.example/team\n${base}`,
      'y.yaml': `name: y\nregistry: r.example/team\n${base}`,
    })
    await runGraph(nodes, env([team, shared], diamond, 4))
    expect(diamond.built[0]).toMatch(/^r\.example\/shared\/base:/)
    expect(diamond.built.filter((b) => b.includes('/base:'))).toHaveLength(1)
    expect(diamond.built).toHaveLength(3)
  })

  test('one image failing: the others finish, the images built on it are skipped', async () => {
    const team = new FakeRegistry('r.example/team')
    const nodes = await graph({
      'ok.yaml': 'name: ok\nregistry: r.example/team\n',
      'bad.yaml': 'name: bad\nregistry: r.example/team\n',
      'onbad.yaml':
        'name: onbad\nregistry: r.example/team\nbase_image:\n  name: bad\n  registry: r.example/team\n',
    })
    const builder = new FakeBuilder([team], new Set(['/bad:']))
    const outcomes = await runGraph(nodes, env([team], builder, 2))
    const byName = Object.fromEntries(outcomes.map((o) => [o.name, o]))
    expect(byName.ok).toMatchObject({ state: 'built', digest: DIGEST })
    expect(byName.bad).toMatchObject({ state: 'failed', error: 'docker buildx build failed: exit 3' })
    expect(byName.onbad).toMatchObject({ state: 'skipped', error: expect.stringContaining('its base image') })
    expect(team.images.has(`ok:${byName.ok?.tag}`)).toBe(true)
    expect([...team.images.keys()].some((i) => i.startsWith('bad:') || i.startsWith('onbad:'))).toBe(false)
  })

  test('a registry that cannot answer fails its images (never "exists"); other registries go on', async () => {
    const down = new FakeRegistry('down.example/t', { checkFails: 'registry said 503' })
    const up = new FakeRegistry('up.example/t')
    const nodes = await graph({
      'a.yaml': 'name: a\nregistry: down.example/t\n',
      'b.yaml': 'name: b\nregistry: up.example/t\n',
    })
    const builder = new FakeBuilder([down, up])
    const outcomes = await runGraph(nodes, env([down, up], builder))
    expect(outcomes.map((o) => o.state)).toEqual(['failed', 'built'])
    expect(outcomes[0]?.error).toMatch(/registry said 503[\s\S]*never taken as "exists"/)
    expect(builder.built).toEqual([expect.stringMatching(/^up\.example\/t\/b:/)])
  })

  test("with several builds at once, each image's log is printed as one group when it ends", async () => {
    const team = new FakeRegistry('r.example/team')
    const e = env([team], new FakeBuilder([team]), 2)
    await runGraph(
      await graph({
        'a.yaml': 'name: a\nregistry: r.example/team\n',
        'b.yaml': 'name: b\nregistry: r.example/team\n',
      }),
      e,
    )
    const lines = (e.logger as MemoryLogger).lines
    const groups = lines.filter((l) => l.startsWith('group: r.example/team/'))
    expect(groups).toHaveLength(2)
    // Inside a group come that image's lines only.
    const first = lines.indexOf(groups[0] as string)
    const name = (groups[0] as string).includes('/a:') ? 'a' : 'b'
    expect(lines[first + 1]).toContain(`r.example/team/${name}:`)
  })

  test("Union's specs are left to its cloud builder: checked only, and so is an image built on one", async () => {
    const team = new FakeRegistry('r.example/team')
    const nodes = await graph({
      'u.yaml': 'name: u\nregistry: r.example/team\nbuilder: union\n',
      'child.yaml':
        'name: child\nregistry: r.example/team\nbase_image:\n  name: u\n  registry: r.example/team\n  builder: union\n',
      'plain.yaml': 'name: plain\nregistry: r.example/team\n',
    })
    const builder = new FakeBuilder([team])
    const e = env([team], builder)
    const first = await runGraph(nodes, e)
    expect(first.map((o) => [o.name, o.state])).toEqual([
      ['u', 'not-built'],
      ['child', 'not-built'],
      ['plain', 'built'],
    ])
    expect(first[0]?.reason).toMatch(/Union's cloud builder builds it at register time/)
    expect(first[1]?.reason).toMatch(/its base image r\.example\/team\/u:\S+ is not in the registry yet/)
    expect(builder.built).toEqual([expect.stringMatching(/\/plain:/)])
    expect((e.logger as MemoryLogger).lines.filter((l) => l.startsWith('notice: '))).toHaveLength(2)

    // Once register has built it, the next run finds it, and builds what is built on it.
    team.images.set(`u:${nodes[0]?.tagged.tag}`, FOUND)
    const second = await runGraph(nodes, env([team], new FakeBuilder([team])))
    expect(second.map((o) => [o.name, o.state])).toEqual([
      ['u', 'reused'],
      ['child', 'built'],
      ['plain', 'reused'],
    ])
  })
})
