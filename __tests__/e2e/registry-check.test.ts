/**
 * The existence check against the real registries of the e2e environment (scripts/e2e/up.sh): Debian's
 * distribution 2.8, open, with htpasswd login, and with TLS under the ECR / Artifact Registry host names; and,
 * when Docker is up, a real push whose recorded digest the check must report. Parts of the environment that are
 * not up are skipped, not failed.
 */
import { lookup } from 'node:dns/promises'
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterAll, describe, expect, test } from '@jest/globals'

import { prepareBuilder, runBuild } from '../../src/docker/buildx.js'
import { exec } from '../../src/exec.js'
import { createDockerConfigDir, dockerLogin, logoutAndRemove } from '../../src/docker/login.js'
import { checkImage, RegistryCheckError } from '../../src/registry/check.js'
import { rejectionOf } from '../support/rejection.js'
import { basicAuth, dockerConfigDir, TempDirs } from '../support/temp-dirs.js'

const STATE_FILE = '/tmp/imagespec-e2e/env'
const dirs = new TempDirs()
afterAll(() => dirs.removeAll())

/** E2E_* settings from the environment, or from the state file `up.sh` writes. */
function e2eEnv(): Record<string, string> {
  const fromProcess = Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => e[0].startsWith('E2E_') && e[1] !== undefined,
    ),
  )
  if (fromProcess.E2E_REGISTRY) return fromProcess
  try {
    const lines = readFileSync(STATE_FILE, 'utf8').split('\n')
    return Object.fromEntries(
      lines.flatMap((l) =>
        /^E2E_\w+=/.test(l) ? [[l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]] : [],
      ),
    )
  } catch {
    return {}
  }
}

async function answers(url: string): Promise<boolean> {
  return fetch(url, { signal: AbortSignal.timeout(2000) }).then(
    () => true,
    () => false,
  )
}

async function resolvesLocally(host: string): Promise<boolean> {
  return lookup(host).then(
    (a) => a.address === '127.0.0.1',
    () => false,
  )
}

const env = e2eEnv()
const registry = env.E2E_REGISTRY ?? ''
const authRegistry = env.E2E_AUTH_REGISTRY ?? ''
const registryUp = registry !== '' && (await answers(`http://${registry}/v2/`))
const authRegistryUp = authRegistry !== '' && (await answers(`http://${authRegistry}/v2/`))
const ecrHost = env.E2E_ECR_HOST ?? ''
const tlsUp = ecrHost !== '' && (await resolvesLocally(ecrHost)) && (await answers(`https://${ecrHost}/v2/`))
const dockerUp = registryUp && (await dockerAnswers())

async function dockerAnswers(): Promise<boolean> {
  return exec('docker', ['version', '--format', '{{.Server.Version}}']).then(
    (r) => r.exitCode === 0,
    () => false,
  )
}

const when = (up: boolean) => (up ? test : test.skip)
const unique = () => `t${Date.now()}-${Math.random().toString(16).slice(2, 8)}`

describe('open registry', () => {
  when(registryUp)('a tag that was never pushed is not found', async () => {
    await expect(checkImage(`${registry}/imagespec-e2e/never-pushed:${unique()}`)).resolves.toEqual({
      exists: false,
    })
  })

  when(registryUp && Boolean(env.E2E_BASE_IMAGE))(
    'the base image is found with its registry digest',
    async () => {
      const result = await checkImage(env.E2E_BASE_IMAGE ?? '')
      expect(result).toEqual({ exists: true, digest: env.E2E_BASE_IMAGE_DIGEST })
    },
  )
})

describe('registry with login', () => {
  when(authRegistryUp)('without credentials the check fails instead of saying "missing"', async () => {
    const err = await rejectionOf(checkImage(`${authRegistry}/imagespec-e2e/app:${unique()}`))
    expect(err).toBeInstanceOf(RegistryCheckError)
    expect(err.message).toContain('requires a login')
  })

  when(authRegistryUp)('wrong credentials fail with the registry message and no password', async () => {
    const configDir = await dockerConfigDir(dirs, {
      auths: { [authRegistry]: { auth: basicAuth('e2e', 'not-the-password') } },
    })
    const err = await rejectionOf(checkImage(`${authRegistry}/imagespec-e2e/app:${unique()}`, { configDir }))
    expect(err.message).toContain('UNAUTHORIZED: authentication required')
    expect(err.message).not.toContain('not-the-password')
  })

  when(authRegistryUp && dockerUp)('after a real docker login, a missing tag is not found', async () => {
    const configDir = await createDockerConfigDir(await dirs.make(), {
      sourceConfigDir: join(await dirs.make(), 'none'),
    })
    await dockerLogin({
      registry: authRegistry,
      username: env.E2E_AUTH_USER ?? '',
      password: env.E2E_AUTH_PASSWORD ?? '',
      configDir,
    })
    await expect(checkImage(`${authRegistry}/imagespec-e2e/app:${unique()}`, { configDir })).resolves.toEqual(
      {
        exists: false,
      },
    )
    expect(await logoutAndRemove(configDir, [authRegistry])).toEqual([])
  })

  when(authRegistryUp && dockerUp)("a refused docker login quotes docker's reason", async () => {
    const configDir = await createDockerConfigDir(await dirs.make(), {
      sourceConfigDir: join(await dirs.make(), 'none'),
    })
    const err = await rejectionOf(
      dockerLogin({ registry: authRegistry, username: 'e2e', password: 'not-the-password', configDir }),
    )
    expect(err.message).toMatch(
      new RegExp(`^docker login to ${authRegistry} failed: Error response from daemon: .*401 Unauthorized`),
    )
    expect(err.message).not.toContain('not-the-password')
    await logoutAndRemove(configDir, [])
  })
})

describe('TLS registry under a cloud host name', () => {
  when(tlsUp)('a missing tag is not found with ECR-style credentials, and refused without', async () => {
    const ref = `${ecrHost}/imagespec-e2e/app:${unique()}`
    const credentials = { kind: 'basic' as const, username: 'AWS', password: env.E2E_ECR_PASSWORD ?? '' }
    await expect(checkImage(ref, { credentials })).resolves.toEqual({ exists: false })
    await expect(checkImage(ref)).rejects.toThrow('requires a login')
  })
})

describe('a real push', () => {
  when(dockerUp && Boolean(env.E2E_BASE_IMAGE))(
    'the check reports the digest buildx recorded for the push',
    async () => {
      const work = await dirs.make()
      const context = join(work, 'context')
      await mkdir(context)
      await writeFile(
        join(context, 'Dockerfile'),
        `FROM ${env.E2E_BASE_IMAGE}\nRUN echo ${unique()} > /marker\n`,
      )
      const configDir = await createDockerConfigDir(work)
      const tag = `${registry}/imagespec-e2e/registry-check:${unique()}`
      const plan = {
        context,
        tags: [tag],
        output: 'push' as const,
        metadataFile: join(work, 'metadata.json'),
      }

      await expect(checkImage(tag)).resolves.toEqual({ exists: false })
      const builder = await prepareBuilder({ configDir }, { plan })
      // The real `docker buildx inspect` / `docker info` output is read as up.sh configured the engine.
      if (builder.driver === 'docker') {
        expect(builder.containerdImageStore).toBe(env.E2E_CONTAINERD_STORE === 'true')
      }
      const { digest } = await runBuild({ configDir }, plan)

      expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/)
      await expect(checkImage(tag)).resolves.toEqual({ exists: true, digest })
      expect(await logoutAndRemove(configDir, [])).toEqual([])
    },
    180_000,
  )
})
