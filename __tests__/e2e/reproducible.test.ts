/**
 * Reproducible images, end to end with the bundled action: the same spec built twice from scratch pushes the same
 * digest, and two steps building one new spec at the same moment both succeed and both output the digest the
 * registry's tag points at. The workspace is a git repository whose commit time is set here by hand, so the
 * expected `created` times come from that, never from the action's code; the registry is asked over HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { e2eEnv } from '../support/e2e-env.js'
import { MANIFEST_ACCEPT_ALL, registryDigest } from '../support/registry-digest.js'
import { runStep, type StepResult } from '../support/run-action.js'

const env = e2eEnv()
const STAMP = `e2e-repro-${Date.now().toString(36)}`
const REGISTRY = `${env.E2E_REGISTRY}/${STAMP}`
/** 2026-01-02T03:04:05Z (`date -u -d @1767323045`), the commit time of the workspace's one commit. */
const COMMIT_TIME = 1767323045
const COMMIT_RFC3339 = '2026-01-02T03:04:05Z'
const BUILD_TIMEOUT = 600_000

const INPUTS = {
  installer: 'pip',
  network: 'host',
  'flytekit-version': 'none',
  'no-cache': 'true',
}

/**
 * A workspace that is a git repository with one commit made at COMMIT_TIME. The spec's `commands` write a file,
 * whose time in the layer is the build's unless BuildKit rewrites it; `copy` adds one from the build context.
 * A pip-installed package: its .pyc files would hold the install time unless the install runs with
 * SOURCE_DATE_EPOCH set (then Python writes hash-based .pyc files), which the generated Dockerfile does.
 */
function workspace(name: string, registry: string): string {
  const ws = mkdtempSync(path.join(os.tmpdir(), `e2e-repro-${name}-`))
  mkdirSync(path.join(ws, 'data'), { recursive: true })
  writeFileSync(path.join(ws, 'data', 'hello.txt'), 'hello\n')
  writeFileSync(
    path.join(ws, 'imagespec.yaml'),
    [
      `name: ${name}`,
      `registry: ${registry}`,
      `base_image: ${env.E2E_BASE_IMAGE}`,
      `pip_index: ${env.E2E_PIP_INDEX}`,
      'packages: [ispec-demo-b==1.0]',
      'commands:',
      `  - echo ${name} > /root/built.txt`,
      'copy:',
      '  - data/hello.txt',
      '',
    ].join('\n'),
  )
  const gitEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: 'e2e',
    GIT_AUTHOR_EMAIL: 'e2e@example.test',
    GIT_COMMITTER_NAME: 'e2e',
    GIT_COMMITTER_EMAIL: 'e2e@example.test',
    GIT_AUTHOR_DATE: `@${COMMIT_TIME} +0000`,
    GIT_COMMITTER_DATE: `@${COMMIT_TIME} +0000`,
  }
  execFileSync('git', ['init', '-q', ws], { env: gitEnv })
  execFileSync('git', ['-C', ws, 'add', '.'], { env: gitEnv })
  execFileSync('git', ['-C', ws, 'commit', '-q', '-m', 'spec'], { env: gitEnv })
  return ws
}

/** The digest the tag points at: HEAD with all four manifest types accepted, as distribution 2.8 needs. */
/** The image config the tag points at (single-platform image), straight from the registry. */
async function imageConfig(image: string): Promise<{
  created?: string
  config?: { Labels?: Record<string, string> }
  history?: { created?: string }[]
}> {
  const [, host = '', repo = '', tag = ''] = /^([^/]+)\/(.+):([^:/]+)$/.exec(image) ?? []
  const manifest = (await (
    await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { headers: { accept: MANIFEST_ACCEPT_ALL } })
  ).json()) as { config: { digest: string } }
  return (await (await fetch(`http://${host}/v2/${repo}/blobs/${manifest.config.digest}`)).json()) as never
}

const succeeded = (step: StepResult) => ({
  exitCode: step.exitCode,
  log: step.exitCode === 0 ? '' : step.log.slice(-3000),
})

afterAll(() => {
  spawnSync('docker', ['image', 'prune', '-f'])
})

describe('the engine', () => {
  test('is one that can rewrite layer timestamps (buildx 0.13+, Docker 26+ with the containerd image store)', () => {
    const buildx = execFileSync('docker', ['buildx', 'version'], { encoding: 'utf8' })
    const [major = 0, minor = 0] = (/v?(\d+)\.(\d+)\.\d+/.exec(buildx)?.slice(1) ?? []).map(Number)
    expect(major > 0 || minor >= 13).toBe(true)
    expect(env.E2E_CONTAINERD_STORE).toBe('true')
    expect(Number(/^(\d+)\./.exec(env.E2E_DOCKER_VERSION ?? '')?.[1])).toBeGreaterThanOrEqual(26)
  })
})

describe('the same spec built twice from scratch', () => {
  const registry = `${REGISTRY}/twice`
  let ws: string
  let first: StepResult
  let second: StepResult

  beforeAll(async () => {
    ws = workspace('app', registry)
    first = await runStep({ ...INPUTS, spec: 'imagespec.yaml' }, { workspace: ws })
    // force: the tag exists, so only force builds it again (no-cache: from nothing, not from the layer cache).
    second = await runStep({ ...INPUTS, spec: 'imagespec.yaml', force: 'true' }, { workspace: ws })
  }, BUILD_TIMEOUT)

  test('pushes the same digest, the one the tag points at', async () => {
    expect(succeeded(first)).toEqual({ exitCode: 0, log: '' })
    expect(succeeded(second)).toEqual({ exitCode: 0, log: '' })
    expect([first.outputs.built, second.outputs.built]).toEqual(['true', 'true'])
    expect(second.log).toContain('--no-cache')
    const digest = await registryDigest(first.outputs.image as string)
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect(first.outputs.digest).toBe(digest)
    expect(second.outputs.digest).toBe(digest)
    expect(second.log).not.toContain('::warning::')
  })

  test("the image's created times are the commit's", async () => {
    const config = await imageConfig(first.outputs.image as string)
    expect(config.created).toBe(COMMIT_RFC3339)
    expect(config.config?.Labels?.['org.opencontainers.image.created']).toBe(COMMIT_RFC3339)
    // The history of the layers this build added (the base image's own entries come first, with its own times).
    expect(config.history?.slice(-3).map((h) => h.created)).toEqual([
      COMMIT_RFC3339,
      COMMIT_RFC3339,
      COMMIT_RFC3339,
    ])
  })

  test('the image is still in the local engine after the push, as before', () => {
    const r = spawnSync(
      'docker',
      ['image', 'inspect', '--format', '{{index .RepoDigests 0}}', first.outputs.image as string],
      {
        encoding: 'utf8',
      },
    )
    expect({ status: r.status, stderr: r.status ? r.stderr : '' }).toEqual({ status: 0, stderr: '' })
    expect(r.stdout.trim().endsWith(`@${first.outputs.digest}`)).toBe(true)
  })

  test(
    "a SOURCE_DATE_EPOCH of the user's own wins over the commit time",
    async () => {
      // 1700000000 is 2023-11-14T22:13:20Z (`date -u -d @1700000000`).
      const own = await runStep(
        { ...INPUTS, spec: 'imagespec.yaml', force: 'true', 'no-cache': 'false' },
        { workspace: ws, env: { SOURCE_DATE_EPOCH: '1700000000' } },
      )
      expect(succeeded(own)).toEqual({ exitCode: 0, log: '' })
      const config = await imageConfig(own.outputs.image as string)
      expect(config.created).toBe('2023-11-14T22:13:20Z')
      expect(config.config?.Labels?.['org.opencontainers.image.created']).toBe('2023-11-14T22:13:20Z')
      expect(own.outputs.digest).toBe(await registryDigest(own.outputs.image as string))
      expect(own.outputs.digest).not.toBe(first.outputs.digest)
    },
    BUILD_TIMEOUT,
  )
})

describe('two steps building one new spec at the same moment', () => {
  test(
    'both succeed, and both output the digest the tag points at',
    async () => {
      const ws = workspace('race', `${REGISTRY}/race`)
      const steps = await Promise.all([
        runStep({ ...INPUTS, spec: 'imagespec.yaml' }, { workspace: ws }),
        runStep({ ...INPUTS, spec: 'imagespec.yaml' }, { workspace: ws }),
      ])
      expect(steps.map(succeeded)).toEqual([
        { exitCode: 0, log: '' },
        { exitCode: 0, log: '' },
      ])
      const image = steps[0]?.outputs.image as string
      expect(steps[1]?.outputs.image).toBe(image)
      const digest = await registryDigest(image)
      expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/)
      expect(steps.map((s) => s.outputs.digest)).toEqual([digest, digest])
    },
    BUILD_TIMEOUT,
  )
})
