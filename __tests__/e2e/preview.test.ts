/**
 * Pull-request preview images through the bundled action against the loopback registry (distribution 2.8 with
 * delete enabled) and a loopback stand-in for the GitHub REST API: preview tags on a fresh and on an existing
 * image (same digest, nothing rebuilt), the one comment created then edited, cleanup on close, and forks.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { e2eEnv } from '../support/e2e-env.js'
import { runStep } from '../support/run-action.js'
import { json, listen, type Listening, type Request } from '../support/standins/http.js'

const env = e2eEnv()
const HOST = env.E2E_REGISTRY as string
const PATH = `preview-${Date.now().toString(36)}`
const REGISTRY = `${HOST}/${PATH}`
const REPO = `${REGISTRY}/app`
const workspace = mkdtempSync(path.join(os.tmpdir(), 'e2e-preview-'))

const SHA_A = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
const SHA_B = '0badc0de1234567890abcdef1234567890abcdef'
const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ')

const INPUTS = { spec: 'imagespec.yaml', installer: 'pip', network: 'host', 'flytekit-version': 'none' }

function prEvent(
  action: string,
  number: number,
  sha: string,
  headRepo = 'example-org/flyte-project',
): Record<string, string> {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'event-')), 'event.json')
  writeFileSync(
    file,
    JSON.stringify({
      action,
      number,
      pull_request: {
        number,
        head: { sha, repo: { full_name: headRepo } },
        base: { repo: { full_name: 'example-org/flyte-project' } },
      },
    }),
  )
  return { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: file }
}

async function digestOf(ref: string): Promise<string | null> {
  const colon = ref.lastIndexOf(':')
  const res = await fetch(
    `http://${HOST}/v2/${ref.slice(HOST.length + 1, colon)}/manifests/${ref.slice(colon + 1)}`,
    {
      method: 'HEAD',
      headers: { accept: ACCEPT },
    },
  )
  return res.status === 200 ? res.headers.get('docker-content-digest') : null
}

async function tagList(): Promise<string[]> {
  const res = await fetch(`http://${HOST}/v2/${PATH}/app/tags/list`)
  return ((await res.json()) as { tags: string[] | null }).tags?.sort() ?? []
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`

/** Pushes a tiny image (a config blob, no layers) by hand under `tag`; returns its manifest digest. */
async function pushTinyImage(tag: string, label: string): Promise<string> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { n: label } },
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  )
  const start = await fetch(`http://${HOST}/v2/${PATH}/app/blobs/uploads/`, { method: 'POST' })
  expect(start.status).toBe(202)
  const upload = new URL(start.headers.get('location') as string, `http://${HOST}`)
  upload.searchParams.set('digest', sha256(config))
  const put = await fetch(upload, {
    method: 'PUT',
    body: config,
    headers: { 'content-type': 'application/octet-stream' },
  })
  expect(put.status).toBe(201)
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(config),
        size: config.length,
      },
      layers: [],
    }),
  )
  const res = await fetch(`http://${HOST}/v2/${PATH}/app/manifests/${tag}`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
  })
  expect(res.status).toBe(201)
  return sha256(manifest)
}

/** The GitHub REST API's issue-comment endpoints, for one repository. */
interface GitHubStandIn extends Listening {
  comments: { id: number; body: string }[]
  calls: { method: string; path: string; auth: string }[]
}

async function startGitHub(): Promise<GitHubStandIn> {
  const comments: GitHubStandIn['comments'] = [{ id: 1, body: 'Looks good to me' }]
  const calls: GitHubStandIn['calls'] = []
  let next = 100
  const server = await listen((req: Request) => {
    calls.push({ method: req.method, path: req.path, auth: String(req.headers.authorization ?? '') })
    if (req.headers.authorization !== 'Bearer gh-token-e2e') return json(401, { message: 'Bad credentials' })
    if (req.path === '/repos/example-org/flyte-project/issues/7/comments') {
      if (req.method === 'GET') return json(200, comments)
      if (req.method === 'POST') {
        const c = { id: next++, body: (JSON.parse(req.body) as { body: string }).body }
        comments.push(c)
        return json(201, c)
      }
    }
    const m = /^\/repos\/example-org\/flyte-project\/issues\/comments\/(\d+)$/.exec(req.path)
    const existing = comments.find((c) => c.id === Number(m?.[1]))
    if (req.method === 'PATCH' && existing) {
      existing.body = (JSON.parse(req.body) as { body: string }).body
      return json(200, existing)
    }
    return json(404, { message: 'Not Found' })
  })
  return { ...server, comments, calls }
}

let github: GitHubStandIn

beforeAll(async () => {
  writeFileSync(
    path.join(workspace, 'imagespec.yaml'),
    [
      `name: app`,
      `registry: ${REGISTRY}`,
      `base_image: ${env.E2E_BASE_IMAGE}`,
      `pip_index: ${env.E2E_PIP_INDEX}`,
      'packages: [ispec-demo-b==1.0]',
      '',
    ].join('\n'),
  )
  github = await startGitHub()
})
afterAll(async () => {
  await github.close()
})

describe('preview images on a pull request', () => {
  const withComment = { ...INPUTS, comment: 'true', 'github-token': 'gh-token-e2e' }
  let first: Awaited<ReturnType<typeof runStep>>
  let flytekitImage = ''

  test('a fresh build gets pr-7 and pr-7-a1b2c3d, same digest, and the comment is created', async () => {
    first = await runStep(withComment, {
      workspace,
      env: { ...prEvent('opened', 7, SHA_A), GITHUB_API_URL: github.url },
    })
    expect({ exitCode: first.exitCode, log: first.exitCode === 0 ? '' : first.log.slice(-3000) }).toEqual({
      exitCode: 0,
      log: '',
    })
    expect(first.outputs.built).toBe('true')
    flytekitImage = first.outputs.image as string
    const digest = await digestOf(flytekitImage)
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect(first.outputs.digest).toBe(digest)
    expect(first.outputs['preview-image']).toBe(`${REPO}:pr-7`)
    expect(JSON.parse(first.outputs.tags as string)).toEqual([
      flytekitImage,
      `${REPO}:pr-7`,
      `${REPO}:pr-7-a1b2c3d`,
    ])
    expect(await digestOf(`${REPO}:pr-7`)).toBe(digest)
    expect(await digestOf(`${REPO}:pr-7-a1b2c3d`)).toBe(digest)
    // Beside the image and its preview tags: the layer cache the step writes by default (registry-cache).
    expect(await tagList()).toEqual(
      [flytekitImage.slice(REPO.length + 1), 'pr-7', 'pr-7-a1b2c3d', 'buildcache'].sort(),
    )
    expect(first.summary).toContain(`pyflyte register --image ${REPO}:pr-7 `)

    const posts = github.calls.filter((c) => c.method === 'POST')
    expect(posts).toEqual([
      {
        method: 'POST',
        path: '/repos/example-org/flyte-project/issues/7/comments',
        auth: 'Bearer gh-token-e2e',
      },
    ])
    expect(github.comments).toHaveLength(2)
    const body = github.comments[1]?.body ?? ''
    expect(body).toContain('<!-- imagespec-action:preview -->')
    expect(body).toContain(`${REPO}:pr-7`)
    expect(body).toContain(digest as string)
  }, 300_000)

  test('a new push to the same spec tags the existing image without building, and edits the same comment', async () => {
    const second = await runStep(withComment, {
      workspace,
      env: { ...prEvent('synchronize', 7, SHA_B), GITHUB_API_URL: github.url },
    })
    expect({ exitCode: second.exitCode, log: second.exitCode === 0 ? '' : second.log.slice(-3000) }).toEqual({
      exitCode: 0,
      log: '',
    })
    expect(second.outputs.built).toBe('false')
    expect(second.log).not.toContain('buildx build')
    expect(second.outputs.image).toBe(flytekitImage)
    const digest = first.outputs.digest as string
    expect(second.outputs.digest).toBe(digest)
    expect(await digestOf(`${REPO}:pr-7-0badc0d`)).toBe(digest)
    expect(await digestOf(`${REPO}:pr-7`)).toBe(digest)
    expect(JSON.parse(second.outputs.tags as string)).toEqual([
      flytekitImage,
      `${REPO}:pr-7`,
      `${REPO}:pr-7-0badc0d`,
    ])

    expect(github.calls.filter((c) => c.method === 'POST')).toHaveLength(1)
    const patches = github.calls.filter((c) => c.method === 'PATCH')
    expect(patches.map((c) => c.path)).toEqual(['/repos/example-org/flyte-project/issues/comments/100'])
    expect(github.comments.map((c) => c.id)).toEqual([1, 100])
    expect(github.comments[1]?.body).toContain('0badc0d')
  }, 120_000)

  test('extra-tags and preview-tags patterns', async () => {
    const run = await runStep(
      { ...INPUTS, 'preview-tags': 'preview-{pr}-{tag}', 'extra-tags': 'candidate' },
      { workspace, env: prEvent('synchronize', 8, SHA_B) },
    )
    expect(run.exitCode).toBe(0)
    const tag = flytekitImage.slice(REPO.length + 1)
    expect(run.outputs['preview-image']).toBe(`${REPO}:preview-8-${tag}`)
    expect(JSON.parse(run.outputs.tags as string)).toEqual([
      flytekitImage,
      `${REPO}:preview-8-${tag}`,
      `${REPO}:candidate`,
    ])
    expect(await digestOf(`${REPO}:candidate`)).toBe(first.outputs.digest)
  }, 120_000)

  describe('cleanup when the pull request closes', () => {
    let onlyPreview = ''
    let otherPr = ''
    let before: string[] = []

    beforeAll(async () => {
      onlyPreview = await pushTinyImage('pr-7-old', 'only preview tags')
      otherPr = await pushTinyImage('pr-70', 'another pull request')
      before = await tagList()
    })

    test('dry run: says what it would delete and deletes nothing', async () => {
      const run = await runStep(
        { ...INPUTS, cleanup: 'pr', 'dry-run': 'true' },
        { workspace, env: prEvent('closed', 7, SHA_B) },
      )
      expect({ exitCode: run.exitCode, log: run.exitCode === 0 ? '' : run.log.slice(-3000) }).toEqual({
        exitCode: 0,
        log: '',
      })
      expect(run.log).toContain(`Would delete ${REPO}:pr-7-old (${onlyPreview})`)
      expect(run.summary).toContain('would delete (dry run): `pr-7-old`')
      expect(await tagList()).toEqual(before)
      expect(await digestOf(`${REPO}:pr-7-old`)).toBe(onlyPreview)
    }, 60_000)

    test('deletes the image only preview tags name; keeps the flytekit image and everything else', async () => {
      const run = await runStep({ ...INPUTS, cleanup: 'pr' }, { workspace, env: prEvent('closed', 7, SHA_B) })
      expect({ exitCode: run.exitCode, log: run.exitCode === 0 ? '' : run.log.slice(-3000) }).toEqual({
        exitCode: 0,
        log: '',
      })
      expect(run.log).not.toContain('buildx build')
      expect(run.outputs.built).toBeUndefined()
      expect(await digestOf(`${REPO}:pr-7-old`)).toBeNull()
      const byDigest = await fetch(`http://${HOST}/v2/${PATH}/app/manifests/${onlyPreview}`, {
        headers: { accept: ACCEPT },
      })
      expect(byDigest.status).toBe(404)
      expect(await tagList()).toEqual(before.filter((t) => t !== 'pr-7-old'))
      expect(await digestOf(flytekitImage)).toBe(first.outputs.digest)
      expect(await digestOf(`${REPO}:pr-70`)).toBe(otherPr)
      expect(run.summary).toContain('deleted: `pr-7-old`')
      expect(run.summary).toMatch(
        /kept: `pr-7`, `pr-7-0badc0d`, `pr-7-a1b2c3d` \(`sha256:[a-f0-9]{64}`\), because the image is also tagged/,
      )
    }, 60_000)

    test('running it again is success: nothing left to delete', async () => {
      const run = await runStep({ ...INPUTS, cleanup: 'pr' }, { workspace, env: prEvent('closed', 7, SHA_B) })
      expect(run.exitCode).toBe(0)
      expect(run.summary).not.toContain('deleted:')
      expect(await digestOf(flytekitImage)).toBe(first.outputs.digest)
    }, 60_000)
  })
})

describe('cleanup with custom preview-tags patterns', () => {
  const CUSTOM = { ...INPUTS, 'preview-tags': 'preview-{pr}-{short_sha}\nstaging-{short_sha}' }
  let flytekitImage = ''
  let digest = ''
  const others: Record<string, string> = {}
  let mine = ''

  beforeAll(async () => {
    const run = await runStep(CUSTOM, { workspace, env: prEvent('opened', 12, SHA_A) })
    expect({ exitCode: run.exitCode, log: run.exitCode === 0 ? '' : run.log.slice(-3000) }).toEqual({
      exitCode: 0,
      log: '',
    })
    flytekitImage = run.outputs.image as string
    digest = run.outputs.digest as string
    expect(JSON.parse(run.outputs.tags as string)).toEqual([
      flytekitImage,
      `${REPO}:preview-12-a1b2c3d`,
      `${REPO}:staging-a1b2c3d`,
    ])
    mine = await pushTinyImage('preview-12-0badc0d', 'custom preview of #12')
    for (const tag of ['preview-120-0badc0d', 'preview-12-old', 'pr-12', 'staging-0badc0d'])
      others[tag] = await pushTinyImage(tag, `not #12's: ${tag}`)
  }, 300_000)

  test('deletes exactly the tags the patterns with {pr} make for the pull request; warns about the others', async () => {
    const before = await tagList()
    const run = await runStep({ ...CUSTOM, cleanup: 'pr' }, { workspace, env: prEvent('closed', 12, SHA_B) })
    expect({ exitCode: run.exitCode, log: run.exitCode === 0 ? '' : run.log.slice(-3000) }).toEqual({
      exitCode: 0,
      log: '',
    })
    expect(run.log).not.toContain('buildx build')
    expect(run.log).toContain(
      "::warning::cleanup: pr does not delete tags made by the preview-tags pattern 'staging-{short_sha}'",
    )
    expect(run.log.match(/pattern 'staging-\{short_sha\}'/g)).toHaveLength(1)
    expect(await digestOf(`${REPO}:preview-12-0badc0d`)).toBeNull()
    const byDigest = await fetch(`http://${HOST}/v2/${PATH}/app/manifests/${mine}`, {
      headers: { accept: ACCEPT },
    })
    expect(byDigest.status).toBe(404)
    expect(await tagList()).toEqual(before.filter((t) => t !== 'preview-12-0badc0d'))
    for (const [tag, d] of Object.entries(others)) expect(await digestOf(`${REPO}:${tag}`)).toBe(d)
    expect(await digestOf(flytekitImage)).toBe(digest)
    expect(await digestOf(`${REPO}:preview-12-a1b2c3d`)).toBe(digest)
    expect(await digestOf(`${REPO}:staging-a1b2c3d`)).toBe(digest)
    expect(run.summary).toContain('deleted: `preview-12-0badc0d`')
    expect(run.summary).toContain(
      `kept: \`preview-12-a1b2c3d\` (\`${digest}\`), because the image is also tagged`,
    )
  }, 60_000)
})

describe('pull requests from forks', () => {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'e2e-fork-'))
  const authRegistry = `${env.E2E_AUTH_REGISTRY}/fork-${Date.now().toString(36)}`
  beforeAll(() => {
    writeFileSync(
      path.join(ws, 'imagespec.yaml'),
      `name: app\nregistry: ${authRegistry}\nbase_image: ${env.E2E_BASE_IMAGE}\n`,
    )
  })
  const inputs = { ...INPUTS, username: env.E2E_AUTH_USER as string, password: '' }

  test('with an empty password: a notice, nothing built, the step succeeds', async () => {
    const run = await runStep(inputs, {
      workspace: ws,
      env: prEvent('opened', 9, SHA_A, 'someone/flyte-project'),
    })
    expect({ exitCode: run.exitCode, log: run.exitCode === 0 ? '' : run.log.slice(-3000) }).toEqual({
      exitCode: 0,
      log: '',
    })
    expect(run.log).toMatch(
      /::notice::This is a pull request from the fork 'someone\/flyte-project' into 'example-org\/flyte-project', .*no image is pushed: .*'password' input, and it is empty/,
    )
    expect(run.log).not.toContain('buildx build')
    expect(run.summary).toContain("Skipped: This is a pull request from the fork 'someone/flyte-project'")
  }, 60_000)

  test('fail-on-fork: true fails the step with the same explanation', async () => {
    const run = await runStep(
      { ...inputs, 'fail-on-fork': 'true' },
      { workspace: ws, env: prEvent('opened', 9, SHA_A, 'someone/flyte-project') },
    )
    expect(run.exitCode).toBe(1)
    expect(run.log).toContain(
      "::error::imagespec-action failed: This is a pull request from the fork 'someone/flyte-project'",
    )
  }, 60_000)
})
