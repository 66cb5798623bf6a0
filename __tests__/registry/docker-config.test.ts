import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterAll, describe, expect, test } from '@jest/globals'

import { ActionError } from '../../src/errors.js'
import {
  configKey,
  readDockerConfig,
  resolveCredentials,
  secretsOf,
  type RegistryCredentials,
} from '../../src/registry/docker-config.js'
import { failed, fakeExec, ok } from '../support/fake-exec.js'
import { rejectionOf } from '../support/rejection.js'
import { basicAuth, dockerConfigDir, TempDirs } from '../support/temp-dirs.js'

const dirs = new TempDirs()
afterAll(() => dirs.removeAll())

describe('resolveCredentials from auths', () => {
  test.each<[string, unknown, string, RegistryCredentials | undefined]>([
    [
      'base64 auth',
      { auths: { 'ghcr.io': { auth: basicAuth('u', 'p:with:colons') } } },
      'ghcr.io',
      { kind: 'basic', username: 'u', password: 'p:with:colons' },
    ],
    [
      'username/password',
      { auths: { 'ghcr.io': { username: 'u', password: 'p' } } },
      'ghcr.io',
      { kind: 'basic', username: 'u', password: 'p' },
    ],
    [
      'Docker Hub under its v1 key',
      { auths: { 'https://index.docker.io/v1/': { auth: basicAuth('hub', 'pw') } } },
      'docker.io',
      { kind: 'basic', username: 'hub', password: 'pw' },
    ],
    [
      'key with scheme',
      { auths: { 'https://reg.example.com': { auth: basicAuth('a', 'b') } } },
      'reg.example.com',
      { kind: 'basic', username: 'a', password: 'b' },
    ],
    [
      'identity token',
      { auths: { 'acr.example.io': { auth: basicAuth('0000', ''), identitytoken: 'rt' } } },
      'acr.example.io',
      { kind: 'identity-token', username: '0000', token: 'rt' },
    ],
    ['other host only', { auths: { 'ghcr.io': { auth: basicAuth('u', 'p') } } }, 'quay.io', undefined],
    ['empty entry', { auths: { 'ghcr.io': {} } }, 'ghcr.io', undefined],
    ['no config at all', {}, 'ghcr.io', undefined],
  ])('%s', async (_name, config, registry, expected) => {
    const dir = await dockerConfigDir(dirs, config)
    await expect(resolveCredentials(dir, registry)).resolves.toEqual(expected)
  })

  test('a missing config.json means no credentials', async () => {
    const dir = await dirs.make()
    await expect(resolveCredentials(dir, 'ghcr.io')).resolves.toBeUndefined()
  })

  test('a malformed auth value is an error that does not quote it', async () => {
    const dir = await dockerConfigDir(dirs, {
      auths: { 'ghcr.io': { auth: Buffer.from('no-colon-secret').toString('base64') } },
    })
    const err = await rejectionOf(resolveCredentials(dir, 'ghcr.io'))
    expect(err).toBeInstanceOf(ActionError)
    expect(err.message).toContain("malformed 'auth' value")
    expect(err.message).not.toContain('no-colon-secret')
  })

  test('invalid JSON names the file', async () => {
    const dir = await dirs.make()
    await writeFile(join(dir, 'config.json'), '{ nope')
    await expect(readDockerConfig(dir)).rejects.toThrow(
      `The Docker config ${join(dir, 'config.json')} is not valid JSON`,
    )
  })
})

describe('resolveCredentials from helpers', () => {
  test('credHelpers for the host wins over credsStore and auths', async () => {
    const dir = await dockerConfigDir(dirs, {
      credHelpers: { 'us-docker.pkg.dev': 'gcloud' },
      credsStore: 'desktop',
      auths: { 'us-docker.pkg.dev': { auth: basicAuth('file', 'file') } },
    })
    const exec = fakeExec(() => ok('{"Username":"oauth2accesstoken","Secret":"ya29.token"}'))

    const creds = await resolveCredentials(dir, 'us-docker.pkg.dev', { exec })

    expect(creds).toEqual({ kind: 'basic', username: 'oauth2accesstoken', password: 'ya29.token' })
    expect(exec.calls.map((c) => [c.command, c.args, c.stdin, c.options.env?.DOCKER_CONFIG])).toEqual([
      ['docker-credential-gcloud', ['get'], 'us-docker.pkg.dev', dir],
    ])
  })

  test('credsStore is asked with the Docker Hub v1 URL', async () => {
    const dir = await dockerConfigDir(dirs, { credsStore: 'pass' })
    const exec = fakeExec(() => ok('{"Username":"hub","Secret":"pw"}'))
    await resolveCredentials(dir, 'docker.io', { exec })
    expect(exec.calls[0]?.stdin).toBe('https://index.docker.io/v1/')
  })

  test('a <token> user name marks an identity token', async () => {
    const dir = await dockerConfigDir(dirs, { credsStore: 'desktop' })
    const exec = fakeExec(() => ok('{"Username":"<token>","Secret":"refresh"}'))
    await expect(resolveCredentials(dir, 'acr.example.io', { exec })).resolves.toEqual({
      kind: 'identity-token',
      username: '',
      token: 'refresh',
    })
  })

  test('"credentials not found" means anonymous', async () => {
    const dir = await dockerConfigDir(dirs, { credsStore: 'desktop' })
    const exec = fakeExec(() => failed('', 1, 'credentials not found in native keychain'))
    await expect(resolveCredentials(dir, 'ghcr.io', { exec })).resolves.toBeUndefined()
  })

  test('any other helper failure is an error naming the helper', async () => {
    const dir = await dockerConfigDir(dirs, { credHelpers: { 'ghcr.io': 'broken' } })
    const exec = fakeExec(() =>
      failed('error getting credentials - err: exit status 1, out: `dbus unavailable`'),
    )
    await expect(resolveCredentials(dir, 'ghcr.io', { exec })).rejects.toThrow(
      /docker-credential-broken failed for ghcr.io \(exit code 1\): error getting credentials/,
    )
  })

  test('a helper that is not installed is an error saying how to fix it', async () => {
    const dir = await dockerConfigDir(dirs, { credHelpers: { 'ghcr.io': 'surely-not-installed-xyz' } })
    await expect(resolveCredentials(dir, 'ghcr.io')).rejects.toThrow(
      /names the credential helper 'surely-not-installed-xyz' for ghcr.io, but docker-credential-surely-not-installed-xyz could not be run .*Install it on the runner or remove it/,
    )
  })

  test('helper output that is not JSON is not quoted', async () => {
    const dir = await dockerConfigDir(dirs, { credsStore: 'odd' })
    const exec = fakeExec(() => ok('user=x secret=hunter2'))
    const err = await rejectionOf(resolveCredentials(dir, 'ghcr.io', { exec }))
    expect(err.message).toContain('returned something other than JSON')
    expect(err.message).not.toContain('hunter2')
  })
})

test('configKey uses the v1 URL only for Docker Hub', () => {
  expect(configKey('docker.io')).toBe('https://index.docker.io/v1/')
  expect(configKey('index.docker.io')).toBe('https://index.docker.io/v1/')
  expect(configKey('ghcr.io')).toBe('ghcr.io')
})

test('secretsOf lists the password and its base64 form, or the token', () => {
  expect(secretsOf({ kind: 'basic', username: 'u', password: 'p' })).toEqual(['p', basicAuth('u', 'p')])
  expect(secretsOf({ kind: 'identity-token', username: '', token: 't' })).toEqual(['t'])
  expect(secretsOf(undefined)).toEqual([])
})
