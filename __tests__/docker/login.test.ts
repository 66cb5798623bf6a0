import { chmod, lstat, mkdir, readFile, readlink, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterAll, describe, expect, test } from '@jest/globals'

import { ActionError } from '../../src/errors.js'
import {
  configureCredHelper,
  createDockerConfigDir,
  dockerLogin,
  loginFailure,
  logoutAndRemove,
} from '../../src/docker/login.js'
import { MemoryLogger } from '../../src/log.js'
import { failed, fakeExec, ok } from '../support/fake-exec.js'
import { rejectionOf } from '../support/rejection.js'
import { basicAuth, dockerConfigDir, TempDirs } from '../support/temp-dirs.js'

const dirs = new TempDirs()
afterAll(() => dirs.removeAll())

async function readConfig(dir: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>
}

/** A runner's ~/.docker with credentials, helpers, a buildx plugin, builders and contexts. */
async function runnerDockerDir(): Promise<string> {
  const dir = await dockerConfigDir(dirs, {
    auths: { 'ghcr.io': { auth: basicAuth('someone', 'their-password') } },
    credsStore: 'desktop',
    credHelpers: { 'us-docker.pkg.dev': 'gcloud' },
    currentContext: 'remote',
    proxies: { default: { httpProxy: 'http://proxy:3128' } },
  })
  await mkdir(join(dir, 'cli-plugins'))
  await writeFile(join(dir, 'cli-plugins', 'docker-buildx'), '#!/bin/sh\n')
  await mkdir(join(dir, 'buildx', 'instances'), { recursive: true })
  await mkdir(join(dir, 'contexts'))
  return dir
}

describe('createDockerConfigDir', () => {
  test('makes a private folder under runner temp with no credentials from the runner', async () => {
    const runnerTemp = await dirs.make()
    const source = await runnerDockerDir()

    const dir = await createDockerConfigDir(runnerTemp, { sourceConfigDir: source })

    expect(dir.startsWith(join(runnerTemp, 'imagespec-docker-'))).toBe(true)
    expect((await stat(dir)).mode & 0o777).toBe(0o700)
    expect((await stat(join(dir, 'config.json'))).mode & 0o777).toBe(0o600)
    expect(await readConfig(dir)).toEqual({
      currentContext: 'remote',
      proxies: { default: { httpProxy: 'http://proxy:3128' } },
    })
  })

  test('links the runner plugins, builders and contexts instead of copying them', async () => {
    const source = await runnerDockerDir()
    const dir = await createDockerConfigDir(await dirs.make(), { sourceConfigDir: source })

    expect((await lstat(join(dir, 'cli-plugins'))).isSymbolicLink()).toBe(false)
    expect(await readlink(join(dir, 'cli-plugins', 'docker-buildx'))).toBe(
      join(source, 'cli-plugins', 'docker-buildx'),
    )
    expect(await readlink(join(dir, 'buildx'))).toBe(join(source, 'buildx'))
    expect(await readlink(join(dir, 'contexts'))).toBe(join(source, 'contexts'))
  })

  test('keeps credential helpers only when asked', async () => {
    const source = await runnerDockerDir()
    const dir = await createDockerConfigDir(await dirs.make(), {
      sourceConfigDir: source,
      keepCredHelpers: true,
    })
    const config = await readConfig(dir)
    expect(config.credHelpers).toEqual({ 'us-docker.pkg.dev': 'gcloud' })
    expect(config).not.toHaveProperty('auths')
    expect(config).not.toHaveProperty('credsStore')
  })

  test("inherits the runner's logins and credential helpers when asked, never its credsStore", async () => {
    const source = await runnerDockerDir()
    const dir = await createDockerConfigDir(await dirs.make(), {
      sourceConfigDir: source,
      inheritCredentials: true,
    })
    const config = await readConfig(dir)
    expect(config.auths).toEqual({ 'ghcr.io': { auth: basicAuth('someone', 'their-password') } })
    expect(config.credHelpers).toEqual({ 'us-docker.pkg.dev': 'gcloud' })
    expect(config).not.toHaveProperty('credsStore')
  })

  test('works when the runner has no Docker config, and warns on a broken one', async () => {
    const empty = await dirs.make()
    expect(
      await readConfig(
        await createDockerConfigDir(await dirs.make(), { sourceConfigDir: join(empty, 'none') }),
      ),
    ).toEqual({})

    await writeFile(join(empty, 'config.json'), '{broken')
    const logger = new MemoryLogger()
    const dir = await createDockerConfigDir(await dirs.make(), { sourceConfigDir: empty, logger })
    expect(await readConfig(dir)).toEqual({})
    expect(logger.lines.some((l) => l.startsWith("warning: Ignoring the runner's Docker config"))).toBe(true)
  })
})

describe('dockerLogin', () => {
  test('passes the password on stdin and DOCKER_CONFIG in the environment', async () => {
    const exec = fakeExec(() => ok('Login Succeeded\n'))
    await dockerLogin({
      registry: 'ghcr.io',
      username: 'bot',
      password: 'pw-123456',
      configDir: '/tmp/cfg',
      exec,
    })

    expect(exec.calls).toHaveLength(1)
    const call = exec.calls[0]
    expect(call?.command).toBe('docker')
    expect(call?.args).toEqual(['login', '--username', 'bot', '--password-stdin', 'ghcr.io'])
    expect(call?.stdin).toBe('pw-123456')
    expect(call?.options.env).toEqual({ DOCKER_CONFIG: '/tmp/cfg' })
    expect(call?.args.join(' ')).not.toContain('pw-123456')
  })

  test("a refusal quotes docker's reason and the fix, never the password", async () => {
    const stderr =
      'WARNING! Your password will be stored unencrypted in /tmp/cfg/config.json.\n' +
      'Error response from daemon: Get "http://127.0.0.1:5001/v2/": unauthorized: authentication required (pw-123456)\n'
    const exec = fakeExec(() => failed(stderr))

    const err = await rejectionOf(
      dockerLogin({
        registry: '127.0.0.1:5001',
        username: 'bot',
        password: 'pw-123456',
        configDir: '/tmp/cfg',
        exec,
      }),
    )

    expect(err).toBeInstanceOf(ActionError)
    expect(err.message).toBe(
      'docker login to 127.0.0.1:5001 failed: Error response from daemon: Get "http://127.0.0.1:5001/v2/": ' +
        "unauthorized: authentication required (***). Check the 'username' and 'password' inputs.",
    )
  })

  test.each([
    [
      'logrus lines before the real error',
      'time="2026-11-22T05:01:22Z" level=info msg="Error logging in to endpoint, trying next endpoint" endpoint="{false https://r false}" error="unauthorized"\n' +
        'Error response from daemon: Get "https://r/v2/": unauthorized: incorrect username or password\n',
      'Error response from daemon: Get "https://r/v2/": unauthorized: incorrect username or password',
    ],
    [
      'only a denied line',
      'denied: requested access to the resource is denied\n',
      'denied: requested access to the resource is denied',
    ],
    ['nothing recognisable', 'something odd\nlast words\n', 'last words'],
    ['no output', '', 'no output'],
  ])('loginFailure picks the reason: %s', (_name, output, expected) => {
    expect(loginFailure(output)).toBe(expected)
  })

  test('the hint can name where the credentials came from', async () => {
    const exec = fakeExec(() => failed('Error: denied: not allowed'))
    await expect(
      dockerLogin({
        registry: 'r.example',
        username: 'AWS',
        password: 'x'.repeat(8),
        configDir: '/c',
        exec,
        credentialsHint: "check the IAM role in 'aws-role-arn'",
      }),
    ).rejects.toThrow("denied: not allowed. Check the IAM role in 'aws-role-arn'.")
  })

  test('an empty password fails before running docker', async () => {
    const exec = fakeExec()
    await expect(
      dockerLogin({ registry: 'r.example', username: 'u', password: '', configDir: '/c', exec }),
    ).rejects.toThrow(
      "Cannot log in to r.example: the password is empty; check the 'username' and 'password' inputs",
    )
    expect(exec.calls).toEqual([])
  })

  test('against a docker executable, the password arrives on stdin and lands in the job config only', async () => {
    const bin = await dirs.make('imagespec-fake-docker-')
    // Stands in for `docker login`: checks the password from stdin and writes an auths entry like docker does.
    const script = [
      '#!/bin/sh',
      'pw=$(cat)',
      'if [ "$pw" != "right-password" ]; then',
      '  echo "Error response from daemon: Get \\"https://$5/v2/\\": unauthorized: authentication required" >&2; exit 1',
      'fi',
      'printf \'{"auths":{"%s":{"auth":"%s"}}}\' "$5" "$(printf "%s:%s" "$3" "$pw" | base64)" > "$DOCKER_CONFIG/config.json"',
      'echo "Login Succeeded"',
    ].join('\n')
    await writeFile(join(bin, 'docker'), script)
    await chmod(join(bin, 'docker'), 0o755)
    const configDir = await createDockerConfigDir(await dirs.make(), { sourceConfigDir: join(bin, 'none') })
    const savedPath = process.env.PATH
    process.env.PATH = `${bin}:${savedPath ?? ''}`
    try {
      await dockerLogin({ registry: 'reg.example', username: 'ci', password: 'right-password', configDir })
      await expect(
        dockerLogin({ registry: 'reg.example', username: 'ci', password: 'wrong-password', configDir }),
      ).rejects.toThrow(
        'docker login to reg.example failed: Error response from daemon: Get "https://reg.example/v2/": unauthorized: authentication required',
      )
    } finally {
      process.env.PATH = savedPath
    }
    expect(await readConfig(configDir)).toEqual({
      auths: { 'reg.example': { auth: basicAuth('ci', 'right-password') } },
    })
  })
})

describe('configureCredHelper', () => {
  test('adds exactly one host and keeps the rest of the config', async () => {
    const dir = await dockerConfigDir(dirs, {
      auths: { 'ghcr.io': { auth: 'x' } },
      credHelpers: { 'a.example': 'ecr-login' },
    })
    await configureCredHelper(dir, 'https://US-East1-docker.pkg.dev', 'gcloud')
    expect(await readConfig(dir)).toEqual({
      auths: { 'ghcr.io': { auth: 'x' } },
      credHelpers: { 'a.example': 'ecr-login', 'us-east1-docker.pkg.dev': 'gcloud' },
    })
    expect((await stat(join(dir, 'config.json'))).mode & 0o777).toBe(0o600)
  })

  test('rejects a helper name that is not a plain command suffix', async () => {
    const dir = await dockerConfigDir(dirs, {})
    await expect(configureCredHelper(dir, 'h.example', '../../bin/sh')).rejects.toThrow(
      'is not a valid credential helper name',
    )
  })
})

describe('logoutAndRemove', () => {
  test('logs out of each registry with the job config, then removes the folder but not what it links to', async () => {
    const source = await runnerDockerDir()
    const dir = await createDockerConfigDir(await dirs.make(), { sourceConfigDir: source })
    const exec = fakeExec(() => ok('Removing login credentials'))

    const warnings = await logoutAndRemove(dir, ['ghcr.io', '127.0.0.1:5000'], { exec })

    expect(warnings).toEqual([])
    expect(exec.calls.map((c) => [c.args, c.options.env])).toEqual([
      [['logout', 'ghcr.io'], { DOCKER_CONFIG: dir }],
      [['logout', '127.0.0.1:5000'], { DOCKER_CONFIG: dir }],
    ])
    await expect(stat(dir)).rejects.toThrow()
    await expect(stat(join(source, 'cli-plugins', 'docker-buildx'))).resolves.toBeDefined()
    await expect(stat(join(source, 'buildx', 'instances'))).resolves.toBeDefined()
  })

  test('skips helper-backed hosts, whose logout would erase the shared credential', async () => {
    const dir = await createDockerConfigDir(await dirs.make(), {
      sourceConfigDir: join(await dirs.make(), 'none'),
    })
    await configureCredHelper(dir, 'us-docker.pkg.dev', 'gcloud')
    const exec = fakeExec()
    await logoutAndRemove(dir, ['us-docker.pkg.dev', 'ghcr.io'], { exec })
    expect(exec.calls.map((c) => c.args)).toEqual([['logout', 'ghcr.io']])
  })

  test('never throws: failures come back as warnings and the folder is still removed', async () => {
    const dir = await createDockerConfigDir(await dirs.make(), {
      sourceConfigDir: join(await dirs.make(), 'none'),
    })
    const exec = fakeExec((call) => {
      if (call.args[1] === 'a.example') throw new Error('spawn failed')
      return failed('Error: not logged in')
    })
    const logger = new MemoryLogger()

    const warnings = await logoutAndRemove(dir, ['a.example', 'b.example'], { exec, logger })

    expect(warnings).toEqual([
      'docker logout a.example failed: spawn failed',
      'docker logout b.example failed: Error: not logged in',
    ])
    expect(logger.lines.filter((l) => l.startsWith('warning:'))).toHaveLength(2)
    await expect(stat(dir)).rejects.toThrow()
  })

  test('refuses to delete a folder it did not create', async () => {
    const precious = await dockerConfigDir(dirs, { auths: {} })
    const exec = fakeExec()
    const warnings = await logoutAndRemove(precious, ['ghcr.io'], { exec })
    expect(warnings[0]).toMatch(/^Not removing .*: it is not a Docker config directory this action created$/)
    expect(exec.calls).toEqual([])
    await expect(stat(join(precious, 'config.json'))).resolves.toBeDefined()
  })
})
