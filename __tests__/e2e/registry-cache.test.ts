/**
 * The default registry build cache, end to end with the bundled action on the password-protected registry: a push
 * also writes `<registry>/<name>:buildcache`; a fresh runner (the local image removed and the builder's cache
 * pruned) that builds a changed requirement takes the base and apt layers from it; and the exported cache holds
 * neither the registry password nor the login that docker keeps for it. The registry is asked over HTTP with the
 * distribution API, and the cache's layers are decompressed here, not by the action's code.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { e2eEnv } from '../support/e2e-env.js'
import { runStep, type StepResult } from '../support/run-action.js'

const env = e2eEnv()
const HOST = env.E2E_AUTH_REGISTRY as string
const USER = env.E2E_AUTH_USER as string
const PASSWORD = env.E2E_AUTH_PASSWORD as string
const STAMP = `e2e-rcache-${Date.now().toString(36)}`
const REGISTRY = `${HOST}/${STAMP}`
const NAME = 'cached'
/** Written by hand: the default place of the cache, next to the image. */
const CACHE_REF = `${REGISTRY}/${NAME}:buildcache`
const BUILD_TIMEOUT = 900_000

const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`
const ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ')

const INPUTS = {
  spec: 'imagespec.yaml',
  installer: 'pip',
  network: 'host',
  'flytekit-version': 'none',
  username: USER,
  password: PASSWORD,
}

const workspace = mkdtempSync(path.join(os.tmpdir(), 'e2e-rcache-'))

function writeSpec(requirement: string): void {
  writeFileSync(
    path.join(workspace, 'imagespec.yaml'),
    [
      `name: ${NAME}`,
      `registry: ${REGISTRY}`,
      `base_image: ${env.E2E_BASE_IMAGE}`,
      `pip_index: ${env.E2E_PIP_INDEX}`,
      'apt_packages: [jq]',
      'requirements: requirements.txt',
      '',
    ].join('\n'),
  )
  writeFileSync(path.join(workspace, 'requirements.txt'), `${requirement}\n`)
}

/** A runner that never built this spec: the pushed image gone from the engine, the builder's cache empty. */
function freshRunner(image?: string): void {
  if (image) spawnSync('docker', ['image', 'rm', '-f', image])
  const prune = spawnSync('docker', ['buildx', 'prune', '-af'], { encoding: 'utf8' })
  expect(prune.status).toBe(0)
}

/**
 * The steps of a plain-progress build log: `#7 [3/6] RUN ...` names step 7, `#7 CACHED` says it came from a
 * cache. Returns the descriptions of the cached steps.
 */
function cachedSteps(log: string): string[] {
  const names = new Map<string, string>()
  const cached: string[] = []
  for (const line of log.split('\n')) {
    const named = /^#(\d+) (\[.*)$/.exec(line)
    if (named && !names.has(named[1] as string)) names.set(named[1] as string, named[2] as string)
    const hit = /^#(\d+) CACHED\s*$/.exec(line)
    if (hit) cached.push(names.get(hit[1] as string) ?? `#${hit[1]}`)
  }
  return cached
}

async function registryGet(pathname: string, accept?: string): Promise<Response> {
  return fetch(`http://${HOST}/v2/${pathname}`, {
    headers: { authorization: AUTH, ...(accept && { accept }) },
  })
}

interface Manifest {
  mediaType?: string
  config: { mediaType: string; digest: string }
  layers: { mediaType: string; digest: string }[]
}

async function cacheManifest(): Promise<{ status: number; manifest?: Manifest }> {
  const res = await registryGet(`${STAMP}/${NAME}/manifests/buildcache`, ACCEPT)
  return res.status === 200
    ? { status: 200, manifest: (await res.json()) as Manifest }
    : { status: res.status }
}

const summary = (step: StepResult) => ({
  exitCode: step.exitCode,
  log: step.exitCode === 0 ? '' : step.log.slice(-4000),
})

let first: StepResult
let second: StepResult

beforeAll(async () => {
  writeSpec('ispec-demo-a==1.0')
  freshRunner()
  first = await runStep(INPUTS, { workspace })
  expect(summary(first)).toEqual({ exitCode: 0, log: '' })
  freshRunner(first.outputs.image)
  writeSpec('ispec-demo-a==2.0')
  second = await runStep(INPUTS, { workspace })
  expect(summary(second)).toEqual({ exitCode: 0, log: '' })
}, BUILD_TIMEOUT)

afterAll(() => {
  spawnSync('docker', [
    'image',
    'rm',
    '-f',
    ...[first, second].map((s) => s?.outputs.image ?? '').filter(Boolean),
  ])
})

describe('the default registry cache', () => {
  test('a push writes <registry>/<name>:buildcache, an OCI image manifest of BuildKit cache', async () => {
    expect(first.outputs.built).toBe('true')
    expect(first.log).toContain(`Build cache: ${CACHE_REF}`)
    const { status, manifest } = await cacheManifest()
    expect(status).toBe(200)
    expect(manifest?.mediaType).toBe('application/vnd.oci.image.manifest.v1+json')
    expect(manifest?.config.mediaType).toBe('application/vnd.buildkit.cacheconfig.v0')
    expect(manifest?.layers.length).toBeGreaterThan(1)
  })

  test('on a fresh runner, a changed requirement rebuilds with the apt layer from the cache', () => {
    expect(second.outputs.built).toBe('true')
    expect(second.outputs.image).not.toBe(first.outputs.image)
    const before = cachedSteps(first.log)
    const after = cachedSteps(second.log)
    // The first build ran on an empty builder cache and an empty registry cache: its apt step ran.
    expect(before.filter((s) => s.includes('apt-get'))).toEqual([])
    expect(after.filter((s) => s.includes('apt-get')).length).toBeGreaterThanOrEqual(1)
    expect(after.length).toBeGreaterThan(before.length)
    // The changed requirement is installed anew, not taken from the cache.
    expect(after.filter((s) => /pip|uv/.test(s) && s.includes('install') && !s.includes('apt-get'))).toEqual(
      [],
    )
  })

  test('the exported cache holds neither the registry password nor docker login of it', async () => {
    const { manifest } = await cacheManifest()
    expect(manifest).toBeDefined()
    const needles = [PASSWORD, Buffer.from(`${USER}:${PASSWORD}`).toString('base64')]
    const hits: string[] = []
    let sawPackage = false
    for (const blob of [manifest?.config, ...(manifest?.layers ?? [])]) {
      if (!blob) continue
      const res = await registryGet(`${STAMP}/${NAME}/blobs/${blob.digest}`)
      expect(res.status).toBe(200)
      const raw = Buffer.from(await res.arrayBuffer())
      const data = blob.mediaType.endsWith('gzip') ? gunzipSync(raw) : raw
      for (const needle of needles)
        if (data.includes(needle)) hits.push(`${blob.digest}: ${needle.slice(0, 4)}…`)
      // The scan reads the layers' files: the installed package is found in them.
      if (data.includes('ispec_demo_a')) sawPackage = true
    }
    expect(sawPackage).toBe(true)
    expect(hits).toEqual([])
  }, 120_000)
})
