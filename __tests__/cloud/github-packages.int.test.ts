import { afterEach, describe, expect, test } from '@jest/globals'
import type { RegistryConnection } from '../../src/connections/connection.js'
import { connectRegistry, type AuthInputs } from '../../src/connections/index.js'
import { MemoryLogger } from '../../src/log.js'
import { cleanupRepository } from '../../src/preview/cleanup.js'
import { previewTagMatcher } from '../../src/preview/tags.js'
import * as githubPackages from '../support/standins/github-packages.js'
import { rejectionOf } from '../support/secrets.js'

// GHCR cleanup through the GitHub Packages REST API stand-in: list the package's versions, delete the versions
// whose tags are all preview tags of the pull request, keep the rest.

const TOKEN = 'ghs_0123456789abcdefghijABCDEFGHIJ'
const FLYTE = 'Ab3xQ9cV1s2d4f5g6h7j8k'
const D1 = `sha256:${'1'.repeat(64)}`
const D2 = `sha256:${'2'.repeat(64)}`
const D3 = `sha256:${'3'.repeat(64)}`
const D4 = `sha256:${'4'.repeat(64)}`
const saved = { ...process.env }
let api: githubPackages.GitHubPackagesStandIn | undefined

afterEach(async () => {
  process.env = { ...saved }
  await api?.close()
  api = undefined
})

function connection(registry: string, token = TOKEN): RegistryConnection {
  return {
    registry,
    describe: 'ghcr.io stand-in',
    api: {
      kind: 'distribution',
      credentials: async () => undefined,
      githubPackages: { apiUrl: api?.url ?? '', token },
    },
    check: async () => ({ exists: false }),
    prepareRepository: async () => ({ immutable: false }),
    loginForPush: async () => {},
  }
}

async function cleanup(registry: string, name: string, options: { dryRun?: boolean; token?: string } = {}) {
  return cleanupRepository(
    { registry, name },
    previewTagMatcher([], 5),
    connection(registry, options.token),
    options.dryRun ?? false,
    new MemoryLogger(),
  )
}

const deletes = () => (api?.calls ?? []).filter((c) => c.method === 'DELETE')

describe('GHCR cleanup through the Packages API', () => {
  test('deletes versions tagged only with this pull request preview tags; keeps a version also tagged otherwise', async () => {
    api = await githubPackages.start({
      token: TOKEN,
      owners: { 'octo-org': 'org' },
      packages: {
        'octo-org/tools/app': [
          { id: 11, name: D1, tags: [FLYTE, 'pr-5'] },
          { id: 12, name: D2, tags: ['pr-5-abcdef1'] },
          { id: 13, name: D3, tags: ['pr-50', 'pr-5-9999999'] },
          { id: 14, name: D4, tags: ['pr-5-1234567'] },
          { id: 15, name: `sha256:${'5'.repeat(64)}`, tags: [] },
        ],
      },
    })
    const report = await cleanup('ghcr.io/octo-org', 'tools/app')

    expect(deletes().map((c) => c.rawPath)).toEqual([
      '/orgs/octo-org/packages/container/tools%2Fapp/versions/14',
      '/orgs/octo-org/packages/container/tools%2Fapp/versions/12',
    ])
    expect(api.packages.get('octo-org/tools/app')?.map((v) => v.id)).toEqual([11, 13, 15])
    expect(report.deleted).toEqual([
      { digest: D4, tags: ['pr-5-1234567'] },
      { digest: D2, tags: ['pr-5-abcdef1'] },
    ])
    expect(report.kept).toEqual([
      { digest: D1, tags: ['pr-5'], sharedWith: [FLYTE] },
      { digest: D3, tags: ['pr-5-9999999'], sharedWith: ['pr-50'] },
    ])
    const lists = api.calls.filter((c) => c.method === 'GET')
    expect(lists.map((c) => c.query)).toEqual([{ per_page: '100', page: '1' }])
    expect(api.calls.every((c) => c.authorization === `Bearer ${TOKEN}`)).toBe(true)
  })

  test('follows the pages of the version list', async () => {
    const many = Array.from({ length: 230 }, (_, i) => ({
      id: 1000 + i,
      name: `sha256:${String(i).padStart(64, '0')}`,
      tags: [`build-${i}`],
    }))
    many[215] = { id: 1215, name: many[215]?.name ?? '', tags: ['pr-5'] }
    api = await githubPackages.start({
      token: TOKEN,
      owners: { 'octo-org': 'org' },
      packages: { 'octo-org/app': many },
    })
    const report = await cleanup('ghcr.io/octo-org', 'app')

    expect(api.calls.filter((c) => c.method === 'GET').map((c) => c.query)).toEqual([
      { per_page: '100', page: '1' },
      { per_page: '100', page: '2' },
      { per_page: '100', page: '3' },
    ])
    expect(deletes().map((c) => c.versionId)).toEqual([1215])
    expect(report.deleted.map((g) => g.tags)).toEqual([['pr-5']])
    expect(api.packages.get('octo-org/app')).toHaveLength(229)
  })

  test('falls back from the organization path to the user path on 404', async () => {
    api = await githubPackages.start({
      token: TOKEN,
      owners: { octocat: 'user' },
      packages: { 'octocat/app': [{ id: 7, name: D1, tags: ['pr-5'] }] },
    })
    const report = await cleanup('ghcr.io/octocat', 'app')

    expect(api.calls.map((c) => `${c.method} ${c.rawPath} ${c.status}`)).toEqual([
      'GET /orgs/octocat/packages/container/app/versions 404',
      'GET /users/octocat/packages/container/app/versions 200',
      'DELETE /users/octocat/packages/container/app/versions/7 204',
    ])
    expect(report.deleted).toEqual([{ digest: D1, tags: ['pr-5'] }])
    expect(api.packages.get('octocat/app')).toEqual([])
  })

  test('dry run lists but deletes nothing', async () => {
    api = await githubPackages.start({
      token: TOKEN,
      owners: { 'octo-org': 'org' },
      packages: { 'octo-org/app': [{ id: 7, name: D1, tags: ['pr-5'] }] },
    })
    const report = await cleanup('ghcr.io/octo-org', 'app', { dryRun: true })

    expect(report.deleted).toEqual([{ digest: D1, tags: ['pr-5'] }])
    expect(deletes()).toEqual([])
    expect(api.packages.get('octo-org/app')).toHaveLength(1)
  })

  test('a version deleted by someone else before the DELETE is success (already gone)', async () => {
    api = await githubPackages.start({
      token: TOKEN,
      owners: { 'octo-org': 'org' },
      packages: { 'octo-org/app': [{ id: 7, name: D1, tags: ['pr-5'] }] },
      refuse: (call) => {
        if (call.method === 'DELETE') api?.packages.get('octo-org/app')?.splice(0)
        return undefined
      },
    })
    const report = await cleanup('ghcr.io/octo-org', 'app')

    expect(deletes().map((c) => c.status)).toEqual([404])
    expect(report.gone).toEqual([{ digest: D1, tags: ['pr-5'] }])
    expect(report.deleted).toEqual([])
  })

  test('a 403 on delete names github-token and the permissions, without the token', async () => {
    api = await githubPackages.start({
      token: TOKEN,
      owners: { 'octo-org': 'org' },
      packages: { 'octo-org/app': [{ id: 7, name: D1, tags: ['pr-5'] }] },
      refuse: (call) =>
        call.method === 'DELETE'
          ? { status: 403, message: 'Resource not accessible by integration' }
          : undefined,
    })
    const error = await rejectionOf(
      () => cleanup('ghcr.io/octo-org', 'app'),
      () => [TOKEN],
    )

    expect(error.message).toContain('github-token')
    expect(error.message).toContain('packages: write')
    expect(error.message).toContain('Admin role on the package')
    expect(error.message).toContain('403 (Resource not accessible by integration)')
    expect(api.packages.get('octo-org/app')).toHaveLength(1)
  })

  test('a package the token cannot see (404 on both paths) is an error naming github-token', async () => {
    api = await githubPackages.start({ token: TOKEN, owners: { 'octo-org': 'org' }, packages: {} })
    const error = await rejectionOf(
      () => cleanup('ghcr.io/octo-org', 'app'),
      () => [TOKEN],
    )

    expect(error.message).toContain('404')
    expect(error.message).toContain('github-token')
    expect(error.message).toContain('packages: write')
    expect(deletes()).toEqual([])
  })

  test('a refused token is reported without the token', async () => {
    api = await githubPackages.start({
      token: TOKEN,
      owners: { 'octo-org': 'org' },
      packages: { 'octo-org/app': [{ id: 7, name: D1, tags: ['pr-5'] }] },
    })
    const wrong = 'ghs_wrongwrongwrongwrongwrongwrong'
    const error = await rejectionOf(
      () => cleanup('ghcr.io/octo-org', 'app', { token: wrong }),
      () => [TOKEN, wrong],
    )
    expect(error.message).toContain('401')
    expect(error.message).toContain('github-token')
  })

  test('without a token, cleanup asks for the github-token input and calls nothing', async () => {
    api = await githubPackages.start({ token: TOKEN, owners: {}, packages: {} })
    const error = await rejectionOf(
      () => cleanup('ghcr.io/octo-org', 'app', { token: '' }),
      () => [],
    )
    expect(error.message).toContain('github-token')
    expect(api.calls).toEqual([])
  })
})

describe('the ghcr.io connection', () => {
  test('carries GITHUB_API_URL and the github-token input to the Packages API', async () => {
    api = await githubPackages.start({
      token: TOKEN,
      owners: { 'octo-org': 'org' },
      packages: { 'octo-org/app': [{ id: 7, name: D1, tags: ['pr-5'] }] },
    })
    process.env.GITHUB_API_URL = api.url
    const inputs = {
      username: '',
      password: '',
      githubToken: TOKEN,
      actor: 'octocat',
    } as unknown as AuthInputs
    const conn = await connectRegistry(
      'ghcr.io/octo-org',
      inputs,
      '/nonexistent',
      async () => '/nonexistent',
      new MemoryLogger(),
    )
    expect(conn.api).toMatchObject({
      kind: 'distribution',
      githubPackages: { apiUrl: api.url, token: TOKEN },
    })

    const report = await cleanupRepository(
      { registry: 'ghcr.io/octo-org', name: 'app' },
      previewTagMatcher([], 5),
      conn,
      false,
      new MemoryLogger(),
    )
    expect(report.deleted).toEqual([{ digest: D1, tags: ['pr-5'] }])
    expect(deletes().map((c) => c.rawPath)).toEqual(['/orgs/octo-org/packages/container/app/versions/7'])
  })

  test('defaults to https://api.github.com without GITHUB_API_URL', async () => {
    delete process.env.GITHUB_API_URL
    const inputs = {
      username: '',
      password: '',
      githubToken: TOKEN,
      actor: 'octocat',
    } as unknown as AuthInputs
    const conn = await connectRegistry(
      'ghcr.io/octo-org',
      inputs,
      '/nonexistent',
      async () => '/nonexistent',
      new MemoryLogger(),
    )
    expect(conn.api).toMatchObject({ githubPackages: { apiUrl: 'https://api.github.com', token: TOKEN } })
  })
})
