import { createHash } from 'node:crypto'
import { execFile } from 'node:child_process'
import { lstat, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { afterAll, afterEach, beforeEach, describe, expect, test } from '@jest/globals'

import { ActionError, InputError } from '../../src/errors.js'
import {
  assetName,
  installBuildx,
  parseBuildxVersion,
  parseChecksums,
  releaseTarget,
} from '../../src/docker/install-buildx.js'
import { MemoryLogger } from '../../src/log.js'
import { FileServer } from '../support/file-server.js'
import { rejectionOf } from '../support/rejection.js'
import { TempDirs } from '../support/temp-dirs.js'

const run = promisify(execFile)
const dirs = new TempDirs()
const servers: FileServer[] = []
const VERSION = 'v0.29.1'
const ASSET = 'buildx-v0.29.1.linux-amd64'
/** Answers like the real plugin: the metadata docker asks plugins for, and `version`. */
const FAKE_BUILDX = [
  '#!/bin/sh',
  'case "$1" in',
  '  docker-cli-plugin-metadata) echo \'{"SchemaVersion":"0.1.0","Vendor":"Docker Inc.","Version":"v0.29.1"}\' ;;',
  '  *) echo "github.com/docker/buildx v0.29.1 fake" ;;',
  'esac',
  '',
].join('\n')
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

let saved: { cache?: string; temp?: string }

beforeEach(async () => {
  saved = { cache: process.env.RUNNER_TOOL_CACHE, temp: process.env.RUNNER_TEMP }
  process.env.RUNNER_TOOL_CACHE = await dirs.make('test-tool-cache-')
  process.env.RUNNER_TEMP = await dirs.make('test-runner-temp-')
})
afterEach(async () => {
  restore('RUNNER_TOOL_CACHE', saved.cache)
  restore('RUNNER_TEMP', saved.temp)
  await Promise.all(servers.splice(0).map((s) => s.close()))
})
afterAll(() => dirs.removeAll())

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name]
  else process.env[name] = value
}

async function releaseServer(files: Record<string, string>): Promise<FileServer> {
  const server = await FileServer.start(files)
  servers.push(server)
  return server
}

/** The release's files; `checksums: null` leaves the checksums file out. */
function release(checksums: string | null = `${sha256(FAKE_BUILDX)} *${ASSET}\n`): Record<string, string> {
  return {
    [`/${VERSION}/${ASSET}`]: FAKE_BUILDX,
    ...(checksums !== null && { [`/${VERSION}/checksums.txt`]: checksums }),
  }
}

const linuxAmd64 = { platform: 'linux' as const, arch: 'x64' }

describe('installBuildx', () => {
  test('downloads, verifies and installs the plugin into the job config; the plugin runs', async () => {
    const server = await releaseServer(release())
    const configDir = await dirs.make('test-job-config-')

    const plugin = await installBuildx({ version: VERSION, configDir, baseUrl: server.url, ...linuxAmd64 })

    expect(plugin).toBe(join(configDir, 'cli-plugins', 'docker-buildx'))
    expect((await stat(plugin)).mode & 0o111).toBe(0o111)
    expect((await run(plugin, ['version'])).stdout).toBe('github.com/docker/buildx v0.29.1 fake\n')
    expect(server.requested).toEqual([`/${VERSION}/${ASSET}`, `/${VERSION}/checksums.txt`])
  })

  test('a later job reuses the tool cache without downloading', async () => {
    const server = await releaseServer(release())
    await installBuildx({
      version: VERSION,
      configDir: await dirs.make(),
      baseUrl: server.url,
      ...linuxAmd64,
    })
    const requestsAfterFirst = server.requested.length

    const logger = new MemoryLogger()
    const plugin = await installBuildx({
      version: '0.29.1',
      configDir: await dirs.make(),
      baseUrl: server.url,
      ...linuxAmd64,
      logger,
    })

    expect(server.requested).toHaveLength(requestsAfterFirst)
    expect(await readFile(plugin, 'utf8')).toBe(FAKE_BUILDX)
    expect(logger.lines).toContain('info: Using Docker Buildx v0.29.1 from the tool cache')
    const cacheDir = join(process.env.RUNNER_TOOL_CACHE ?? '', 'docker-buildx', '0.29.1', 'amd64')
    await expect(stat(join(cacheDir, 'docker-buildx'))).resolves.toBeDefined()
  })

  test('a checksum mismatch stops the install and installs nothing', async () => {
    const server = await releaseServer(release(`${sha256('something else')}  ${ASSET}\n`))
    const configDir = await dirs.make()

    const err = await rejectionOf(
      installBuildx({ version: VERSION, configDir, baseUrl: server.url, ...linuxAmd64 }),
    )

    expect(err).toBeInstanceOf(ActionError)
    expect(err.message).toContain(`The downloaded ${ASSET} does not match its published checksum`)
    await expect(stat(join(configDir, 'cli-plugins', 'docker-buildx'))).rejects.toThrow()
  })

  test('a checksums file that does not list the asset stops the install', async () => {
    const server = await releaseServer(release(`${sha256(FAKE_BUILDX)}  buildx-v0.29.1.darwin-arm64\n`))
    await expect(
      installBuildx({ version: VERSION, configDir: await dirs.make(), baseUrl: server.url, ...linuxAmd64 }),
    ).rejects.toThrow(`does not list ${ASSET}`)
  })

  test('a release without a checksums file installs with a warning', async () => {
    const server = await releaseServer(release(null))
    const logger = new MemoryLogger()

    const plugin = await installBuildx({
      version: VERSION,
      configDir: await dirs.make(),
      baseUrl: server.url,
      ...linuxAmd64,
      logger,
    })

    expect(await readFile(plugin, 'utf8')).toBe(FAKE_BUILDX)
    expect(logger.lines.some((l) => l.startsWith('warning: No checksums file at'))).toBe(true)
  })

  test('an unknown version is an input error naming buildx-version', async () => {
    const server = await releaseServer(release())
    const err = await rejectionOf(
      installBuildx({ version: 'v9.9.9', configDir: await dirs.make(), baseUrl: server.url, ...linuxAmd64 }),
    )
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toContain("Input 'buildx-version': Docker Buildx v9.9.9 has no download at")
    expect(err.message).toContain('(HTTP 404)')
  })

  test("replaces a link to the runner's plugin without writing through it", async () => {
    const server = await releaseServer(release())
    const runnerPlugins = await dirs.make()
    await writeFile(join(runnerPlugins, 'docker-buildx'), 'old buildx')
    const configDir = await dirs.make()
    await mkdir(join(configDir, 'cli-plugins'))
    await symlink(join(runnerPlugins, 'docker-buildx'), join(configDir, 'cli-plugins', 'docker-buildx'))

    const plugin = await installBuildx({ version: VERSION, configDir, baseUrl: server.url, ...linuxAmd64 })

    expect((await lstat(plugin)).isSymbolicLink()).toBe(false)
    expect(await readFile(join(runnerPlugins, 'docker-buildx'), 'utf8')).toBe('old buildx')
  })

  test('works without a tool cache (outside GitHub Actions)', async () => {
    delete process.env.RUNNER_TOOL_CACHE
    const server = await releaseServer(release())
    const plugin = await installBuildx({
      version: VERSION,
      configDir: await dirs.make(),
      baseUrl: server.url,
      ...linuxAmd64,
    })
    expect(await readFile(plugin, 'utf8')).toBe(FAKE_BUILDX)
  })
})

describe('release naming', () => {
  test.each([
    ['linux', 'x64', 'buildx-v0.29.1.linux-amd64', 'docker-buildx'],
    ['linux', 'arm64', 'buildx-v0.29.1.linux-arm64', 'docker-buildx'],
    ['linux', 'arm', 'buildx-v0.29.1.linux-arm-v7', 'docker-buildx'],
    ['darwin', 'arm64', 'buildx-v0.29.1.darwin-arm64', 'docker-buildx'],
    ['win32', 'x64', 'buildx-v0.29.1.windows-amd64.exe', 'docker-buildx.exe'],
  ] as const)('%s/%s -> %s', (platform, arch, asset, plugin) => {
    const target = releaseTarget(platform, arch)
    expect(assetName('0.29.1', target)).toBe(asset)
    expect(target.pluginName).toBe(plugin)
  })

  test('an unsupported architecture is named', () => {
    expect(() => releaseTarget('linux', 'ia32')).toThrow('CPU architecture (ia32)')
  })

  test.each([
    ['v0.29.1', '0.29.1'],
    ['0.13.1', '0.13.1'],
    [' v0.30.0-rc1 ', '0.30.0-rc1'],
  ])('parseBuildxVersion(%j) = %s', (input, expected) => {
    expect(parseBuildxVersion(input)).toBe(expected)
  })

  test.each(['latest', 'v0.29', 'master'])('parseBuildxVersion rejects %j', (input) => {
    expect(() => parseBuildxVersion(input)).toThrow(
      "Input 'buildx-version': expected a buildx release such as v0.29.1",
    )
  })

  test('parseChecksums reads sha256sum output in text and binary mode', () => {
    const a = 'a'.repeat(64)
    const b = 'B'.repeat(64)
    expect(parseChecksums(`${a}  one\n${b} *two\n\ngarbage line\n`)).toEqual(
      new Map([
        ['one', a],
        ['two', 'b'.repeat(64)],
      ]),
    )
  })
})
