import { chmod, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterAll, afterEach, describe, expect, jest, test } from '@jest/globals'

import { grantedActions } from '../../src/registry/challenge.js'
import {
  checkImage,
  DOCKER_HUB_API,
  MANIFEST_ACCEPT,
  RegistryCheckError,
  type CheckImageOptions,
} from '../../src/registry/check.js'
import { MemoryLogger } from '../../src/log.js'
import { fakeExec, failed, ok } from '../support/fake-exec.js'
import {
  closedPort,
  digestOf,
  DOCKER_V2,
  FakeHubApi,
  FakeRegistry,
  manifestBody,
  OCI_INDEX,
  OCI_MANIFEST,
  type FakeAuth,
} from '../support/fake-registry.js'
import { basicAuth, dockerConfigDir, TempDirs } from '../support/temp-dirs.js'

const dirs = new TempDirs()
const registries: { close(): Promise<void> }[] = []
const PASSWORD = 's3cret-pa55word'

async function registry(auth?: FakeAuth): Promise<FakeRegistry> {
  const r = await FakeRegistry.start(auth)
  registries.push(r)
  return r
}

/** Retries without waiting; records the waits asked for. */
function fastRetry(): Required<Pick<CheckImageOptions, 'sleep' | 'random'>> & { waits: number[] } {
  const waits: number[] = []
  return {
    waits,
    sleep: async (ms: number) => {
      waits.push(ms)
    },
    random: () => 0.5,
  }
}

async function checkError(promise: Promise<unknown>): Promise<RegistryCheckError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(RegistryCheckError)
  return err as RegistryCheckError
}

afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()))
})
afterAll(() => dirs.removeAll())

describe('without authentication', () => {
  test('an existing tag is found with the digest the registry reports, using one HEAD request', async () => {
    const reg = await registry()
    const digest = reg.put('team/app', 'v1', manifestBody(DOCKER_V2))

    await expect(checkImage(`${reg.host}/team/app:v1`)).resolves.toEqual({ exists: true, digest })
    expect(reg.manifestRequests().map((r) => r.method)).toEqual(['HEAD'])
  })

  test('sends all four manifest types, so an OCI index keeps its real digest', async () => {
    const reg = await registry()
    const index = manifestBody(OCI_INDEX, 'multi-platform')
    reg.put('app', 'multi', index)

    const result = await checkImage(`${reg.host}/app:multi`)

    expect(result).toEqual({ exists: true, digest: digestOf(index.body) })
    const accept = reg.manifestRequests()[0]?.headers.accept ?? ''
    for (const type of [
      OCI_INDEX,
      OCI_MANIFEST,
      DOCKER_V2,
      'application/vnd.docker.distribution.manifest.list.v2+json',
    ]) {
      expect(accept).toContain(type)
    }
    expect(MANIFEST_ACCEPT.split(', ')).toHaveLength(4)
  })

  test.each([
    ['a missing tag (MANIFEST_UNKNOWN)', 'team/app:nope'],
    ['a missing repository (NAME_UNKNOWN)', 'other/repo:v1'],
  ])('%s is not found', async (_name, path) => {
    const reg = await registry()
    reg.put('team/app', 'v1', manifestBody(DOCKER_V2))
    await expect(checkImage(`${reg.host}/${path}`)).resolves.toEqual({ exists: false })
  })

  test('a digest reference is checked by digest', async () => {
    const reg = await registry()
    const digest = reg.put('app', 'v1', manifestBody(OCI_MANIFEST))
    await expect(checkImage(`${reg.host}/app@${digest}`)).resolves.toEqual({ exists: true, digest })
    expect(reg.manifestRequests()[0]?.path).toBe(`/v2/app/manifests/${digest}`)
  })

  test('falls back to GET and hashes the manifest when HEAD gives no digest header', async () => {
    const reg = await registry()
    const stored = manifestBody(DOCKER_V2)
    reg.put('app', 'v1', stored)
    reg.failNext({ status: 200 }) // a HEAD answer without Docker-Content-Digest

    await expect(checkImage(`${reg.host}/app:v1`)).resolves.toEqual({
      exists: true,
      digest: digestOf(stored.body),
    })
    expect(reg.manifestRequests().map((r) => r.method)).toEqual(['HEAD', 'GET'])
  })
})

describe('bearer token handshake', () => {
  test('anonymous pull of a public image fetches a token without credentials', async () => {
    const reg = await registry({ scheme: 'bearer', anonymousPull: true })
    const digest = reg.put('library/python', '3.11', manifestBody(DOCKER_V2))

    await expect(checkImage(`${reg.host}/library/python:3.11`)).resolves.toEqual({ exists: true, digest })
    const tokenRequest = reg.requests.find((r) => r.path.startsWith('/token'))
    expect(tokenRequest?.headers.authorization).toBeUndefined()
    expect(tokenRequest?.path).toContain('scope=repository%3Alibrary%2Fpython%3Apull')
    expect(tokenRequest?.path).toContain('service=fake-registry')
  })

  test.each([
    ['an `auth` field', (host: string) => ({ auths: { [host]: { auth: basicAuth('ci', PASSWORD) } } })],
    [
      'username and password fields',
      (host: string) => ({ auths: { [host]: { username: 'ci', password: PASSWORD } } }),
    ],
    [
      'a URL-style key',
      (host: string) => ({ auths: { [`https://${host}/v1/`]: { auth: basicAuth('ci', PASSWORD) } } }),
    ],
  ])('sends DOCKER_CONFIG credentials from %s to the token endpoint', async (_name, config) => {
    const reg = await registry({ scheme: 'bearer', users: { ci: PASSWORD } })
    const digest = reg.put('team/app', 'v1', manifestBody(DOCKER_V2))
    const configDir = await dockerConfigDir(dirs, config(reg.host))

    await expect(checkImage(`${reg.host}/team/app:v1`, { configDir })).resolves.toEqual({
      exists: true,
      digest,
    })
    const tokenRequest = reg.requests.find((r) => r.path.startsWith('/token'))
    expect(tokenRequest?.headers.authorization).toBe(`Basic ${basicAuth('ci', PASSWORD)}`)
    const last = reg.manifestRequests().at(-1)
    expect(last?.headers.authorization).toBe(`Bearer ${reg.issuedTokens[0]}`)
  })

  test('exchanges an identity token with the refresh-token grant', async () => {
    const reg = await registry({ scheme: 'bearer', refreshTokens: { 'refresh-abc-123': 'ci' } })
    const digest = reg.put('app', 'v1', manifestBody(DOCKER_V2))
    const configDir = await dockerConfigDir(dirs, {
      auths: {
        [reg.host]: {
          auth: basicAuth('00000000-0000-0000-0000-000000000000', ''),
          identitytoken: 'refresh-abc-123',
        },
      },
    })

    await expect(checkImage(`${reg.host}/app:v1`, { configDir })).resolves.toEqual({ exists: true, digest })
    const tokenRequest = reg.requests.find((r) => r.path.startsWith('/token'))
    expect(tokenRequest?.method).toBe('POST')
    expect(new URLSearchParams(tokenRequest?.body).get('grant_type')).toBe('refresh_token')
  })

  test('a rejected password throws with the token service message and without the password', async () => {
    const reg = await registry({ scheme: 'bearer', users: { ci: 'the-right-one' } })
    reg.put('app', 'v1', manifestBody(DOCKER_V2))
    const configDir = await dockerConfigDir(dirs, {
      auths: { [reg.host]: { auth: basicAuth('ci', PASSWORD) } },
    })

    const err = await checkError(checkImage(`${reg.host}/app:v1`, { configDir }))

    expect(err.message).toContain('incorrect username or password')
    expect(err.message).toContain('answered 401')
    expect(err.message).toMatch(/check the registry login inputs/)
    expect(err.message).not.toContain(PASSWORD)
    expect(err.message).not.toContain(basicAuth('ci', PASSWORD))
  })

  test('a private repository without credentials throws, naming the fix', async () => {
    const reg = await registry({ scheme: 'bearer', users: { ci: PASSWORD } })
    reg.put('app', 'v1', manifestBody(DOCKER_V2))

    const err = await checkError(checkImage(`${reg.host}/app:v1`))

    expect(err.message).toContain('UNAUTHORIZED: authentication required')
    expect(err.message).toContain('log in to the registry first')
  })

  test('neither the password nor the bearer token appears when the registry echoes them back', async () => {
    const reg = await registry({ scheme: 'bearer', users: { ci: PASSWORD } })
    reg.put('app', 'v1', manifestBody(DOCKER_V2))
    const echo = (req: { headers: { authorization?: string } }) =>
      JSON.stringify({
        errors: [{ code: 'DENIED', message: `bad header ${req.headers.authorization} for ci:${PASSWORD}` }],
      })
    reg.failNext('pass', { status: 403, body: echo }, { status: 403, body: echo })
    const configDir = await dockerConfigDir(dirs, {
      auths: { [reg.host]: { auth: basicAuth('ci', PASSWORD) } },
    })

    const err = await checkError(checkImage(`${reg.host}/app:v1`, { configDir }))

    expect(err.message).toContain('answered 403')
    expect(err.message).toContain('DENIED: bad header Bearer ***')
    expect(err.message).toContain('grant them pull (read) access')
    expect(err.message).not.toContain(PASSWORD)
    for (const token of reg.issuedTokens) expect(err.message).not.toContain(token)
  })
})

describe('basic challenge', () => {
  test('answers with DOCKER_CONFIG credentials', async () => {
    const reg = await registry({ scheme: 'basic', users: { AWS: PASSWORD } })
    const digest = reg.put('team/app', 'v1', manifestBody(DOCKER_V2))
    const configDir = await dockerConfigDir(dirs, {
      auths: { [reg.host]: { auth: basicAuth('AWS', PASSWORD) } },
    })

    await expect(checkImage(`${reg.host}/team/app:v1`, { configDir })).resolves.toEqual({
      exists: true,
      digest,
    })
    expect(reg.manifestRequests().at(-1)?.headers.authorization).toBe(`Basic ${basicAuth('AWS', PASSWORD)}`)
  })

  test('explicit credentials take precedence over the config directory', async () => {
    const reg = await registry({ scheme: 'basic', users: { AWS: PASSWORD } })
    reg.put('app', 'v1', manifestBody(DOCKER_V2))
    const configDir = await dockerConfigDir(dirs, {
      auths: { [reg.host]: { auth: basicAuth('AWS', 'stale') } },
    })

    const result = await checkImage(`${reg.host}/app:v1`, {
      configDir,
      credentials: { kind: 'basic', username: 'AWS', password: PASSWORD },
    })
    expect(result.exists).toBe(true)
  })

  test('without credentials it throws instead of reporting the image missing', async () => {
    const reg = await registry({ scheme: 'basic', users: { AWS: PASSWORD } })
    const configDir = await dockerConfigDir(dirs, {})

    const err = await checkError(checkImage(`${reg.host}/app:v1`, { configDir }))
    expect(err.message).toContain('requires a login')
  })

  test('rejected credentials throw with the registry error code and no secret', async () => {
    const reg = await registry({ scheme: 'basic', users: { AWS: 'the-right-one' } })
    reg.put('app', 'v1', manifestBody(DOCKER_V2))
    const configDir = await dockerConfigDir(dirs, {
      auths: { [reg.host]: { auth: basicAuth('AWS', PASSWORD) } },
    })

    const err = await checkError(checkImage(`${reg.host}/app:v1`, { configDir }))

    expect(err.message).toContain(`Could not check whether ${reg.host}/app:v1 exists`)
    expect(err.message).toContain('401')
    expect(err.message).toContain('UNAUTHORIZED: authentication required')
    expect(err.message).toContain('were rejected')
    expect(err.message).not.toContain(PASSWORD)
  })
})

describe('credential helpers', () => {
  test('runs docker-credential-<helper> get with the server on stdin', async () => {
    const reg = await registry({ scheme: 'basic', users: { helper: PASSWORD } })
    const digest = reg.put('app', 'v1', manifestBody(DOCKER_V2))
    const configDir = await dockerConfigDir(dirs, { credHelpers: { [reg.host]: 'fake' } })
    const exec = fakeExec(() =>
      ok(JSON.stringify({ ServerURL: reg.host, Username: 'helper', Secret: PASSWORD })),
    )

    await expect(checkImage(`${reg.host}/app:v1`, { configDir, exec })).resolves.toEqual({
      exists: true,
      digest,
    })
    expect(exec.calls).toHaveLength(1)
    expect(exec.calls[0]).toMatchObject({ command: 'docker-credential-fake', args: ['get'], stdin: reg.host })
  })

  test('works with a real helper executable on PATH', async () => {
    const reg = await registry({ scheme: 'basic', users: { helper: PASSWORD } })
    const digest = reg.put('app', 'v1', manifestBody(DOCKER_V2))
    const bin = await dirs.make('imagespec-helper-bin-')
    const seen = join(bin, 'stdin.txt')
    const script = `#!/bin/sh\ncat > '${seen}'\nprintf '{"Username":"helper","Secret":"${PASSWORD}"}'\n`
    await writeFile(join(bin, 'docker-credential-testhelper'), script)
    await chmod(join(bin, 'docker-credential-testhelper'), 0o755)
    const configDir = await dockerConfigDir(dirs, { credsStore: 'testhelper' })
    const savedPath = process.env.PATH
    process.env.PATH = `${bin}:${savedPath ?? ''}`
    try {
      await expect(checkImage(`${reg.host}/app:v1`, { configDir })).resolves.toEqual({ exists: true, digest })
    } finally {
      process.env.PATH = savedPath
    }
    const { readFile } = await import('node:fs/promises')
    await expect(readFile(seen, 'utf8')).resolves.toBe(reg.host)
  })

  test('a helper without an entry means anonymous access', async () => {
    const reg = await registry({ scheme: 'bearer', anonymousPull: true })
    const digest = reg.put('app', 'v1', manifestBody(DOCKER_V2))
    const configDir = await dockerConfigDir(dirs, { credsStore: 'desktop' })
    const exec = fakeExec(() => failed('', 1, 'credentials not found in native keychain\n'))

    await expect(checkImage(`${reg.host}/app:v1`, { configDir, exec })).resolves.toEqual({
      exists: true,
      digest,
    })
    expect(reg.requests.find((r) => r.path.startsWith('/token'))?.headers.authorization).toBeUndefined()
  })

  test('is not run for a registry that asks for no authentication', async () => {
    const reg = await registry()
    reg.put('app', 'v1', manifestBody(DOCKER_V2))
    const configDir = await dockerConfigDir(dirs, { credsStore: 'desktop' })
    const exec = fakeExec()

    await checkImage(`${reg.host}/app:v1`, { configDir, exec })
    expect(exec.calls).toEqual([])
  })
})

describe('failures are errors, never "exists"', () => {
  test('a 500 throws with the registry message and is not retried', async () => {
    const reg = await registry()
    reg.put('app', 'v1', manifestBody(DOCKER_V2))
    const body = JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'storage backend unavailable' }] })
    reg.failNext({ status: 500, body }, { status: 500, body })
    const retry = fastRetry()

    const err = await checkError(checkImage(`${reg.host}/app:v1`, retry))

    expect(err.message).toContain('answered 500')
    expect(err.message).toContain('UNKNOWN: storage backend unavailable')
    expect(err.message).toContain('retry the job')
    expect(retry.waits).toEqual([])
  })

  test('503 is retried with jittered backoff, then succeeds', async () => {
    const reg = await registry()
    const digest = reg.put('app', 'v1', manifestBody(DOCKER_V2))
    reg.failNext({ status: 503 }, { status: 503 })
    const retry = { ...fastRetry(), random: () => 0.25 }

    await expect(checkImage(`${reg.host}/app:v1`, retry)).resolves.toEqual({ exists: true, digest })
    // 250 ms * 2^attempt * (0.5 + 0.25)
    expect(retry.waits).toEqual([188, 375])
  })

  test('a 502 that persists throws after the retries', async () => {
    const reg = await registry()
    reg.put('app', 'v1', manifestBody(DOCKER_V2))
    reg.failNext(...Array.from({ length: 6 }, () => ({ status: 502, body: 'Bad Gateway' })))
    const retry = fastRetry()

    const err = await checkError(checkImage(`${reg.host}/app:v1`, { ...retry, retries: 1 }))

    expect(err.message).toContain('answered 502')
    expect(err.message).toContain('(Bad Gateway)')
    expect(retry.waits).toHaveLength(2) // one retry for the HEAD, one for the GET that reads the error
  })

  test('429 waits as long as Retry-After says', async () => {
    const reg = await registry()
    const digest = reg.put('app', 'v1', manifestBody(DOCKER_V2))
    reg.failNext({ status: 429, headers: { 'Retry-After': '2' } })
    const retry = fastRetry()

    await expect(checkImage(`${reg.host}/app:v1`, retry)).resolves.toEqual({ exists: true, digest })
    expect(retry.waits).toEqual([2000])
  })

  test('a reset connection is retried', async () => {
    const reg = await registry()
    const digest = reg.put('app', 'v1', manifestBody(DOCKER_V2))
    reg.failNext({ reset: true })
    const retry = fastRetry()

    await expect(checkImage(`${reg.host}/app:v1`, retry)).resolves.toEqual({ exists: true, digest })
    expect(retry.waits).toHaveLength(1)
  })

  test('a refused connection throws naming the registry URL to check', async () => {
    const port = await closedPort()
    const retry = fastRetry()

    const err = await checkError(checkImage(`127.0.0.1:${port}/app:v1`, retry))

    expect(err.message).toContain('ECONNREFUSED')
    expect(err.message).toContain('check the registry URL and port')
    expect(retry.waits).toEqual([])
  })

  test('a slow registry hits the timeout', async () => {
    const reg = await registry()
    reg.put('app', 'v1', manifestBody(DOCKER_V2))
    reg.failNext({ delayMs: 2000 })

    const started = Date.now()
    const err = await checkError(checkImage(`${reg.host}/app:v1`, { timeoutMs: 150 }))

    expect(err.message).toContain('did not answer in time (no answer within 150 ms)')
    expect(Date.now() - started).toBeLessThan(1500)
  })

  test('HTTPS to a plain-HTTP registry is a TLS error that explains when plain HTTP is used', async () => {
    const reg = await registry()
    reg.put('app', 'v1', manifestBody(DOCKER_V2))
    // 0.0.0.0 reaches the loopback server but is not a loopback name, so the check uses HTTPS.
    const err = await checkError(checkImage(`0.0.0.0:${reg.port}/app:v1`))

    expect(err.message).toContain('ERR_SSL_WRONG_VERSION_NUMBER')
    expect(err.message).toContain('it may speak plain HTTP, which is used only for loopback registries')
  })

  test('a host listed as insecure is reached over plain HTTP', async () => {
    const reg = await registry()
    const digest = reg.put('app', 'v1', manifestBody(DOCKER_V2))

    const result = await checkImage(`0.0.0.0:${reg.port}/app:v1`, {
      insecureRegistries: [`0.0.0.0:${reg.port}`],
    })
    expect(result).toEqual({ exists: true, digest })
  })

  test('an unresolvable host throws naming DNS', async () => {
    const err = await checkError(checkImage('registry.invalid/app:v1', { ...fastRetry(), timeoutMs: 5000 }))
    expect(err.message).toMatch(/could not be resolved \((ENOTFOUND|EAI_AGAIN)\)/)
  })
})

describe('logging', () => {
  test('debug lines name method, URL and status but never a credential or token', async () => {
    const reg = await registry({ scheme: 'bearer', users: { ci: PASSWORD } })
    reg.put('app', 'v1', manifestBody(DOCKER_V2))
    const configDir = await dockerConfigDir(dirs, {
      auths: { [reg.host]: { auth: basicAuth('ci', PASSWORD) } },
    })
    const debug = jest.fn<(m: string) => void>()
    const logger = {
      info: jest.fn(),
      warning: jest.fn(),
      notice: jest.fn(),
      debug,
      group: <T>(_n: string, fn: () => Promise<T>) => fn(),
    }

    await checkImage(`${reg.host}/app:v1`, { configDir, logger })

    const lines = debug.mock.calls.map(([m]) => m).join('\n')
    expect(lines).toContain(`HEAD http://${reg.host}/v2/app/manifests/v1 -> 401`)
    expect(lines).toContain(`HEAD http://${reg.host}/v2/app/manifests/v1 -> 200`)
    expect(lines).not.toContain(PASSWORD)
    expect(lines).not.toContain(basicAuth('ci', PASSWORD))
    for (const token of reg.issuedTokens) expect(lines).not.toContain(token)
  })
})

describe('Docker Hub: 401 insufficient_scope for a repository that does not exist yet', () => {
  const login = { kind: 'basic' as const, username: 'ci', password: PASSWORD }

  /** A registry answering like Docker Hub, its repository API on another loopback server, both as Docker Hub. */
  async function dockerHub(denied: string[] = []) {
    const reg = await registry({ scheme: 'bearer', users: { ci: PASSWORD }, dockerHub: { denied } })
    const api = await FakeHubApi.start(reg)
    registries.push(api)
    const logger = new MemoryLogger()
    const options = { dockerHub: { registries: [reg.host], apiUrl: api.url }, logger, ...fastRetry() }
    return { reg, api, logger, options }
  }

  test('defaults to docker.io and hub.docker.com', () => {
    expect(DOCKER_HUB_API).toEqual({ registries: ['docker.io'], apiUrl: 'https://hub.docker.com' })
  })

  test('a repository Hub does not know is "not in the registry", with the login accepted', async () => {
    const { reg, api, logger, options } = await dockerHub()
    reg.put('ci/other', 'v1', manifestBody(DOCKER_V2))

    await expect(checkImage(`${reg.host}/ci/newapp:v1`, { ...options, credentials: login })).resolves.toEqual(
      {
        exists: false,
      },
    )
    // The registry refused with insufficient_scope, as Docker Hub does, rather than answering 404.
    const manifest = reg.manifestRequests()
    expect(manifest.map((r) => r.method)).toEqual(['HEAD', 'HEAD'])
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /v2/namespaces/ci/repositories/newapp',
    ])
    // Hub's API is asked without the registry credentials or token.
    expect(api.requests[0]?.headers.authorization).toBeUndefined()
    expect(logger.lines).toContain(
      `info: Docker Hub accepted the login but grants it no pull on ci/newapp (401 insufficient_scope), and Hub's repository API does not know ci/newapp: it does not exist yet, so ${reg.host}/ci/newapp:v1 is not in the registry`,
    )
  })

  test('an existing repository and tag exist, without asking the repository API', async () => {
    const { reg, api, options } = await dockerHub()
    const digest = reg.put('ci/app', 'v1', manifestBody(DOCKER_V2))

    await expect(checkImage(`${reg.host}/ci/app:v1`, { ...options, credentials: login })).resolves.toEqual({
      exists: true,
      digest,
    })
    expect(api.requests).toEqual([])
  })

  test('a missing tag of an existing repository is the plain 404', async () => {
    const { reg, api, options } = await dockerHub()
    reg.put('ci/app', 'v1', manifestBody(DOCKER_V2))

    await expect(checkImage(`${reg.host}/ci/app:v2`, { ...options, credentials: login })).resolves.toEqual({
      exists: false,
    })
    expect(api.requests).toEqual([])
  })

  test('a wrong password stays a failure, and the repository API is not asked', async () => {
    const { reg, api, options } = await dockerHub()
    const err = await checkError(
      checkImage(`${reg.host}/ci/newapp:v1`, {
        ...options,
        credentials: { ...login, password: 'wrong-one' },
      }),
    )

    expect(err.message).toContain('incorrect username or password')
    expect(err.message).toContain('check the registry login inputs')
    expect(api.requests).toEqual([])
  })

  test('without credentials (an anonymous token) a refusal stays a failure', async () => {
    const reg = await registry({ scheme: 'bearer', anonymousPull: true, dockerHub: {} })
    const api = await FakeHubApi.start(reg)
    registries.push(api)

    const err = await checkError(
      checkImage(`${reg.host}/ci/newapp:v1`, { dockerHub: { registries: [reg.host], apiUrl: api.url } }),
    )

    expect(err.message).toContain('answered 401 Unauthorized (UNAUTHORIZED: authentication required)')
    expect(err.message).toContain('no credentials for')
    expect(api.requests).toEqual([])
  })

  test('a repository Hub knows but the account may not pull is "not allowed", a failure', async () => {
    const { reg, api, options } = await dockerHub(['team/private'])
    reg.put('team/private', 'v1', manifestBody(DOCKER_V2))

    const err = await checkError(
      checkImage(`${reg.host}/team/private:v1`, { ...options, credentials: login }),
    )

    expect(err.message).toBe(
      `Could not check whether ${reg.host}/team/private:v1 exists: Docker Hub accepted the login but grants it no ` +
        "pull on team/private (401 insufficient_scope), and Hub's repository API shows that team/private exists: " +
        'the account may not read it. Grant the account pull (read) access to team/private (or use an access ' +
        'token with read scope), or check the repository name.',
    )
    expect(api.requests).toHaveLength(1)
  })

  test.each([
    ['a 500', { status: 500, body: '{"message":"internal error"}' }, 'it answered 500 (internal error)'],
    [
      "a 404 page that is not Hub's JSON",
      { status: 404, body: '<html>not found</html>', contentType: 'text/html' },
      'it answered 404 without JSON',
    ],
  ])('when the repository API answers %s the check fails', async (_name, answer, said) => {
    const { reg, api, options } = await dockerHub()
    api.override = answer

    const err = await checkError(checkImage(`${reg.host}/ci/newapp:v1`, { ...options, credentials: login }))

    expect(err.message).toContain(
      'which is how Hub answers both for a repository that does not exist yet and for one the account may not read',
    )
    expect(err.message).toContain(
      `its repository API (${api.url}/v2/namespaces/ci/repositories/newapp) could not tell which: ${said}`,
    )
  })

  test.each([
    ['a token that grants pull', 'ci/app', ',error="insufficient_scope"'],
    ['a 401 that does not say insufficient_scope', 'ci/newapp', ''],
  ])('%s: the refusal stays a failure and the repository API is not asked', async (_name, repo, error) => {
    const { reg, api, options } = await dockerHub()
    reg.put('ci/app', 'v1', manifestBody(DOCKER_V2))
    const refusal = {
      status: 401,
      headers: {
        'WWW-Authenticate': `Bearer realm="http://${reg.host}/token",service="fake-registry"${error}`,
      },
      body: JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }),
    }
    reg.failNext('pass', refusal, refusal)

    const err = await checkError(checkImage(`${reg.host}/${repo}:v1`, { ...options, credentials: login }))

    expect(err.message).toContain('answered 401 Unauthorized (UNAUTHORIZED: authentication required)')
    expect(api.requests).toEqual([])
  })

  test('the repository API unreachable is a failure, not "missing"', async () => {
    const { reg, options } = await dockerHub()
    const port = await closedPort()

    const err = await checkError(
      checkImage(`${reg.host}/ci/newapp:v1`, {
        ...options,
        dockerHub: { registries: [reg.host], apiUrl: `http://127.0.0.1:${port}` },
        credentials: login,
      }),
    )

    expect(err.message).toContain('could not tell which: the connection to 127.0.0.1')
    expect(err.message).toContain('ECONNREFUSED')
  })

  test('the same answers from a registry that is not Docker Hub stay a failure, naming the scope', async () => {
    const { reg, api } = await dockerHub()

    const err = await checkError(
      checkImage(`${reg.host}/ci/newapp:v1`, { credentials: login, ...fastRetry() }),
    )

    expect(err.message).toContain(
      `the login to ${reg.host} was accepted, but it may not pull ci/newapp (the registry answered insufficient_scope)`,
    )
    expect(api.requests).toEqual([])
  })
})

describe('grantedActions reads the access claim of a JWT', () => {
  const token = (claims: unknown) =>
    `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`

  test.each([
    ['pull and push', [{ type: 'repository', name: 'ci/app', actions: ['pull', 'push'] }], ['pull', 'push']],
    ['nothing for a missing repository', [{ type: 'repository', name: 'ci/app', actions: [] }], []],
    [
      'nothing when only another repository is granted',
      [{ type: 'repository', name: 'ci/x', actions: ['pull'] }],
      [],
    ],
  ])('%s', (_name, access, expected) => {
    expect(grantedActions(token({ access }), 'repository', 'ci/app')).toEqual(expected)
  })

  test('a JWT without an access claim grants nothing; an opaque token is unknown', () => {
    expect(grantedActions(token({ sub: 'ci' }), 'repository', 'ci/app')).toEqual([])
    expect(grantedActions('tok-0123456789abcdef', 'repository', 'ci/app')).toBeUndefined()
    expect(grantedActions('a.!!!not-base64-json!!!.c', 'repository', 'ci/app')).toBeUndefined()
  })
})
