import { execFile } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { afterAll, afterEach, describe, expect, test } from '@jest/globals'

import { buildxArgs, type BuildPlan } from '../../src/docker/buildx-args.js'
import {
  assertBuilderSupports,
  detectDocker,
  ensureBuildx,
  inspectBuilder,
  parseInspect,
  prepareBuilder,
  runBuild,
  summariseBuildFailure,
  unsupportedByBuilder,
  versionAtLeast,
  type BuilderInfo,
} from '../../src/docker/buildx.js'
import { CommandNotFoundError } from '../../src/exec.js'
import { installBuildx, type InstallBuildxOptions } from '../../src/docker/install-buildx.js'
import { failed, fakeExec, isCall, ok, type ExecCall } from '../support/fake-exec.js'
import { FileServer } from '../support/file-server.js'
import { rejectionOf } from '../support/rejection.js'
import { TempDirs } from '../support/temp-dirs.js'

const run = promisify(execFile)
const dirs = new TempDirs()
const servers: FileServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})
afterAll(() => dirs.removeAll())

const DOCKER_VERSION_JSON = JSON.stringify({
  Client: { Version: '28.2.2' },
  Server: { Version: '26.1.5', Components: [] },
})
const NO_DAEMON =
  'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n'
const INSPECT_DOCKER = `Name:          default
Driver:        docker
Last Activity: 2026-11-22 10:00:00 +0000 UTC

Nodes:
Name:             default
Endpoint:         default
Status:           running
BuildKit version: v0.13.2
Platforms:        linux/amd64, linux/386
`
const INSPECT_CONTAINER = `Name:          ci-builder
Driver:        docker-container
Last Activity: 2026-11-22 10:00:00 +0000 UTC

Nodes:
Name:      ci-builder0
Endpoint:  unix:///var/run/docker.sock
Driver:    irrelevant-node-line
Status:    running
`
const CLASSIC_STORE = '[["Backing Filesystem","extfs"],["Supports d_type","true"]]'
const CONTAINERD_STORE = '[["driver-type","io.containerd.snapshotter.v1"]]'

/** A docker CLI stand-in: answers version/buildx/info from a table, records everything. */
function fakeDocker(
  overrides: Partial<
    Record<'version' | 'buildx' | 'inspect' | 'info' | 'build', (c: ExecCall) => ReturnType<typeof ok>>
  > = {},
) {
  return fakeExec((call) => {
    if (isCall(call, 'docker', 'version')) return overrides.version?.(call) ?? ok(DOCKER_VERSION_JSON)
    if (isCall(call, 'docker', 'buildx', 'version')) {
      return overrides.buildx?.(call) ?? ok('github.com/docker/buildx v0.29.1 a1b2c3d\n')
    }
    if (isCall(call, 'docker', 'buildx', 'inspect')) return overrides.inspect?.(call) ?? ok(INSPECT_DOCKER)
    if (isCall(call, 'docker', 'info')) return overrides.info?.(call) ?? ok(CLASSIC_STORE)
    if (isCall(call, 'docker', 'buildx', 'build')) return overrides.build?.(call) ?? ok('')
    return failed(`unexpected command ${call.args.join(' ')}`)
  })
}

const plan = (overrides: Partial<BuildPlan> = {}): BuildPlan => ({
  context: '/ctx',
  tags: ['127.0.0.1:5000/app:t1'],
  output: 'push',
  metadataFile: '/tmp/unused.json',
  ...overrides,
})

describe('detectDocker', () => {
  test('reports client and server versions, with DOCKER_CONFIG set', async () => {
    const exec = fakeDocker()
    await expect(detectDocker({ configDir: '/job/docker', exec })).resolves.toEqual({
      client: '28.2.2',
      server: '26.1.5',
    })
    expect(exec.calls[0]?.args).toEqual(['version', '--format', '{{json .}}'])
    expect(exec.calls[0]?.options.env).toEqual({ DOCKER_CONFIG: '/job/docker' })
  })

  test('a missing docker command says so', async () => {
    const exec = fakeExec(() => {
      throw new CommandNotFoundError('docker')
    })
    await expect(detectDocker({ configDir: '/c', exec })).rejects.toThrow(
      "Docker is not available on this runner: the 'docker' command was not found on PATH.",
    )
  })

  test("a stopped daemon quotes docker's message and says what to do", async () => {
    const exec = fakeDocker({
      version: () => failed(NO_DAEMON, 1, JSON.stringify({ Client: { Version: '28.2.2' }, Server: null })),
    })
    const err = await rejectionOf(detectDocker({ configDir: '/c', exec }))
    expect(err.message).toBe(
      'Docker is not available on this runner: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. ' +
        'Is the docker daemon running?. Start the Docker daemon, or point DOCKER_HOST at a running one, and check ' +
        'that the runner user may use it.',
    )
  })
})

describe('ensureBuildx', () => {
  test('uses the installed buildx when it is new enough', async () => {
    const install = async () => 'unused'
    const installs: unknown[] = []
    const exec = fakeDocker()
    await expect(
      ensureBuildx(
        { configDir: '/c', exec },
        { installVersion: 'v0.29.1', install: async (o) => (installs.push(o), install()) },
      ),
    ).resolves.toBe('0.29.1')
    expect(installs).toEqual([])
  })

  test("reads Debian's version format", async () => {
    const exec = fakeDocker({ buildx: () => ok('github.com/docker/buildx 0.13.1+ds1-3 0.13.1+ds1-3\n') })
    await expect(ensureBuildx({ configDir: '/c', exec })).resolves.toBe('0.13.1')
  })

  test('a missing buildx without a version to install names the input', async () => {
    const exec = fakeDocker({
      buildx: () => failed("docker: unknown command: docker buildx\n\nRun 'docker --help'"),
    })
    await expect(ensureBuildx({ configDir: '/c', exec })).rejects.toThrow(
      "Docker Buildx is not available on this runner (docker: unknown command: docker buildx): set the 'buildx-version' input",
    )
  })

  test.each([
    ['missing', () => failed('docker: unknown command: docker buildx')],
    ['too old', () => ok('github.com/docker/buildx v0.9.1 ed00243\n')],
  ])('installs the pinned release when buildx is %s', async (_name, before) => {
    let installed = false
    const exec = fakeDocker({
      buildx: () => (installed ? ok('github.com/docker/buildx v0.29.1 x\n') : before()),
    })
    const installs: InstallBuildxOptions[] = []
    const install = async (o: InstallBuildxOptions) => {
      installs.push(o)
      installed = true
      return join(o.configDir, 'cli-plugins', 'docker-buildx')
    }

    await expect(
      ensureBuildx({ configDir: '/job/docker', exec }, { installVersion: 'v0.29.1', install }),
    ).resolves.toBe('0.29.1')
    expect(installs).toMatchObject([{ version: 'v0.29.1', configDir: '/job/docker' }])
  })

  test('an installed buildx that still does not run is an error', async () => {
    const exec = fakeDocker({ buildx: () => failed("docker: 'buildx' is not a docker command.") })
    await expect(
      ensureBuildx(
        { configDir: '/c', exec },
        { installVersion: 'v0.29.1', install: async () => '/c/cli-plugins/docker-buildx' },
      ),
    ).rejects.toThrow(
      "Docker Buildx v0.29.1 was installed but does not run: docker: 'buildx' is not a docker command.",
    )
  })

  test('downloads the release into the job config, where docker then finds the plugin', async () => {
    const script = '#!/bin/sh\necho "github.com/docker/buildx v0.29.1 fake"\n'
    const server = await FileServer.start({ '/v0.29.1/buildx-v0.29.1.linux-amd64': script })
    servers.push(server)
    const configDir = await dirs.make('test-job-docker-')
    // Like the docker CLI: `docker buildx` runs $DOCKER_CONFIG/cli-plugins/docker-buildx when it exists.
    const exec = fakeDocker({
      buildx: (call) => {
        const plugin = join(call.options.env?.DOCKER_CONFIG ?? '', 'cli-plugins', 'docker-buildx')
        if (!existsSync(plugin)) return failed('docker: unknown command: docker buildx')
        throw Object.assign(new Error('run the plugin'), { plugin })
      },
    })
    const runPlugins = async (...args: Parameters<typeof exec>) => {
      try {
        return await exec(...args)
      } catch (err) {
        const { stdout } = await run((err as { plugin: string }).plugin, ['version'])
        return ok(stdout)
      }
    }
    const savedCache = process.env.RUNNER_TOOL_CACHE
    delete process.env.RUNNER_TOOL_CACHE
    try {
      const version = await ensureBuildx(
        { configDir, exec: runPlugins },
        {
          installVersion: 'v0.29.1',
          downloadBaseUrl: server.url,
          install: (o) => installBuildx({ ...o, platform: 'linux', arch: 'x64' }),
        },
      )
      expect(version).toBe('0.29.1')
    } finally {
      if (savedCache !== undefined) process.env.RUNNER_TOOL_CACHE = savedCache
    }
    expect(await readFile(join(configDir, 'cli-plugins', 'docker-buildx'), 'utf8')).toBe(script)
    expect(server.requested[0]).toBe('/v0.29.1/buildx-v0.29.1.linux-amd64')
  })
})

describe('inspectBuilder', () => {
  test.each([
    [
      'docker driver, classic store',
      INSPECT_DOCKER,
      CLASSIC_STORE,
      { name: 'default', driver: 'docker', containerdImageStore: false },
    ],
    [
      'docker driver, containerd store',
      INSPECT_DOCKER,
      CONTAINERD_STORE,
      { name: 'default', driver: 'docker', containerdImageStore: true },
    ],
    [
      'docker driver, info unreadable',
      INSPECT_DOCKER,
      'null',
      { name: 'default', driver: 'docker', containerdImageStore: false },
    ],
  ])('%s', async (_name, inspect, info, expected) => {
    const exec = fakeDocker({ inspect: () => ok(inspect), info: () => ok(info) })
    await expect(inspectBuilder({ configDir: '/c', exec })).resolves.toEqual(expected)
  })

  test('a failing docker info leaves the image store unknown', async () => {
    const exec = fakeDocker({ info: () => failed('permission denied') })
    await expect(inspectBuilder({ configDir: '/c', exec })).resolves.toEqual({
      name: 'default',
      driver: 'docker',
    })
  })

  test('a named docker-container builder needs no docker info', async () => {
    const exec = fakeDocker({ inspect: () => ok(INSPECT_CONTAINER) })
    await expect(inspectBuilder({ configDir: '/c', exec }, 'ci-builder')).resolves.toEqual({
      name: 'ci-builder',
      driver: 'docker-container',
    })
    expect(exec.calls.map((c) => c.args)).toEqual([['buildx', 'inspect', 'ci-builder']])
  })

  test('an unknown builder names the builder input', async () => {
    const exec = fakeDocker({ inspect: () => failed('ERROR: no builder "nope" found\n') })
    await expect(inspectBuilder({ configDir: '/c', exec }, 'nope')).rejects.toThrow(
      `Docker Buildx builder 'nope' is not usable (ERROR: no builder "nope" found): check the 'builder' input`,
    )
  })

  test('parseInspect takes the builder fields, not the node fields', () => {
    expect(parseInspect(INSPECT_CONTAINER)).toEqual({ name: 'ci-builder', driver: 'docker-container' })
  })
})

describe('builder capability checks', () => {
  const classic: BuilderInfo = { name: 'default', driver: 'docker', containerdImageStore: false }
  const containerd: BuilderInfo = { ...classic, containerdImageStore: true }
  const unknownStore: BuilderInfo = { name: 'default', driver: 'docker' }
  const container: BuilderInfo = { name: 'ci', driver: 'docker-container' }

  test.each<[string, Partial<BuildPlan>, BuilderInfo, string[]]>([
    ['nothing special', {}, classic, []],
    ['explicit provenance=false', { provenance: false, sbom: false }, classic, []],
    ['inline cache export', { cacheTo: ['type=inline'] }, classic, []],
    ['cache-from only', { cacheFrom: ['type=registry,ref=r/a:c'] }, classic, []],
    ['single platform', { platforms: ['linux/amd64'] }, classic, []],
    [
      'registry cache export',
      { cacheTo: ['type=registry,ref=r/a:c,mode=max'] },
      classic,
      ["'cache-to': cache export is not supported by the docker driver"],
    ],
    [
      'provenance',
      { provenance: 'mode=max' },
      classic,
      ["'provenance': attestations are not supported by the docker driver"],
    ],
    ['sbom', { sbom: true }, classic, ["'sbom': attestations are not supported by the docker driver"]],
    [
      'two platforms',
      { platforms: ['linux/amd64', 'linux/arm64'] },
      classic,
      ["'platform': multi-platform builds are not supported by the docker driver"],
    ],
    [
      'everything on containerd',
      {
        cacheTo: ['type=local,dest=/c'],
        provenance: true,
        sbom: true,
        platforms: ['linux/amd64', 'linux/arm64'],
      },
      containerd,
      [],
    ],
    ['everything, store unknown', { cacheTo: ['type=local,dest=/c'], provenance: true }, unknownStore, []],
    [
      'everything on docker-container',
      { cacheTo: ['type=local,dest=/c'], provenance: true, sbom: true, platforms: ['a/b', 'c/d'] },
      container,
      [],
    ],
  ])('%s', (_name, overrides, builder, expected) => {
    expect(unsupportedByBuilder(plan(overrides), builder)).toEqual(expected)
  })

  test('the error lists every problem and the fix', () => {
    expect(() => assertBuilderSupports(plan({ cacheTo: ['type=gha'], sbom: true }), classic)).toThrow(
      "The Docker Buildx builder 'default' (driver: docker, without the containerd image store) cannot do what was asked:\n" +
        "  - 'cache-to': cache export is not supported by the docker driver\n" +
        "  - 'sbom': attestations are not supported by the docker driver\n" +
        "To fix it, use a builder with the docker-container or remote driver through the 'builder' input",
    )
  })

  test('prepareBuilder refuses before any build is started', async () => {
    const exec = fakeDocker()
    const err = await rejectionOf(
      prepareBuilder(
        { configDir: '/c', exec },
        { plan: plan({ platforms: ['linux/amd64', 'linux/arm64'] }) },
      ),
    )
    expect(err.message).toContain("'platform': multi-platform builds are not supported by the docker driver")
    expect(err.message).toContain('"containerd-snapshotter": true')
    expect(exec.calls.map((c) => c.args.slice(0, 2).join(' '))).toEqual([
      'version --format',
      'buildx version',
      'buildx inspect',
      'info --format',
    ])
  })

  test('prepareBuilder inspects the builder the plan names', async () => {
    const exec = fakeDocker({ inspect: () => ok(INSPECT_CONTAINER) })
    await expect(
      prepareBuilder({ configDir: '/c', exec }, { plan: plan({ builder: 'ci-builder', sbom: true }) }),
    ).resolves.toEqual({
      name: 'ci-builder',
      driver: 'docker-container',
    })
    expect(exec.calls.find((c) => isCall(c, 'docker', 'buildx', 'inspect'))?.args).toEqual([
      'buildx',
      'inspect',
      'ci-builder',
    ])
  })
})

const DIGEST = `sha256:${'c'.repeat(64)}`

describe('runBuild', () => {
  test('runs the planned argv with the job DOCKER_CONFIG, streaming, and reads the digest from the metadata file', async () => {
    const metadataFile = join(await dirs.make(), 'out', 'metadata.json')
    const buildPlan = plan({ metadataFile })
    const exec = fakeDocker({
      build: () => {
        // buildx writes the file after the push; the digest is never taken from the log.
        writeFileSync(metadataFile, JSON.stringify({ 'containerimage.digest': DIGEST, 'image.name': 'x' }))
        return ok('', `#12 pushing manifest for 127.0.0.1:5000/app:t1@sha256:${'f'.repeat(64)}\n`)
      },
    })

    const result = await runBuild({ configDir: '/job/docker', exec }, buildPlan)

    expect(result).toEqual({
      digest: DIGEST,
      metadata: { 'containerimage.digest': DIGEST, 'image.name': 'x' },
    })
    const call = exec.calls[0]
    expect(call?.args).toEqual(buildxArgs(buildPlan))
    expect(call?.options).toMatchObject({ env: { DOCKER_CONFIG: '/job/docker' }, silent: false })
  })

  test('a metadata file from an earlier build is never read as this build’s result', async () => {
    const metadataFile = join(await dirs.make(), 'metadata.json')
    await writeFile(metadataFile, JSON.stringify({ 'containerimage.digest': DIGEST }))
    const exec = fakeDocker({ build: () => ok('') })

    await expect(runBuild({ configDir: '/c', exec }, plan({ metadataFile }))).rejects.toThrow(
      `docker buildx build wrote no metadata file at ${metadataFile}`,
    )
  })

  test('a push without a recorded digest is an error; a load without one is fine', async () => {
    const metadataFile = join(await dirs.make(), 'metadata.json')
    const exec = fakeDocker({
      build: () => {
        writeFileSync(metadataFile, JSON.stringify({ 'buildx.build.ref': 'default/default/x' }))
        return ok('')
      },
    })
    await expect(runBuild({ configDir: '/c', exec }, plan({ metadataFile }))).rejects.toThrow(
      'recorded no image digest in',
    )
    await expect(
      runBuild({ configDir: '/c', exec }, plan({ metadataFile, output: 'load' })),
    ).resolves.toEqual({
      metadata: { 'buildx.build.ref': 'default/default/x' },
    })
  })

  test('a failed build throws the meaningful lines of its output', async () => {
    const exec = fakeDocker({ build: () => failed(FAILED_BUILD) })
    const err = await rejectionOf(
      runBuild({ configDir: '/c', exec }, plan({ metadataFile: join(await dirs.make(), 'm.json') })),
    )
    expect(err.message).toBe(
      'docker buildx build failed: ERROR: failed to solve: process "/bin/sh -c pip install nosuchpkg" did not complete successfully: exit code: 1\n' +
        ' > [2/2] RUN pip install nosuchpkg:\n' +
        '1.020 ERROR: Could not find a version that satisfies the requirement nosuchpkg (from versions: none)\n' +
        '1.021 ERROR: No matching distribution found for nosuchpkg',
    )
  })

  test('runs a real docker executable end to end', async () => {
    const bin = await dirs.make('test-fake-docker-')
    const metadataFile = join(await dirs.make(), 'metadata.json')
    // Finds --metadata-file in its argv and writes the result there, as buildx does.
    const script = `#!/bin/sh
while [ $# -gt 0 ]; do
  if [ "$1" = "--metadata-file" ]; then printf '{"containerimage.digest":"${DIGEST}","config":"%s"}' "$DOCKER_CONFIG" > "$2"; fi
  shift
done
echo "#1 DONE" >&2
`
    await writeFile(join(bin, 'docker'), script)
    await chmod(join(bin, 'docker'), 0o755)
    const savedPath = process.env.PATH
    process.env.PATH = `${bin}:${savedPath ?? ''}`
    try {
      const result = await runBuild({ configDir: '/job/docker' }, plan({ metadataFile }))
      expect(result).toEqual({
        digest: DIGEST,
        metadata: { 'containerimage.digest': DIGEST, config: '/job/docker' },
      })
    } finally {
      process.env.PATH = savedPath
    }
  })
})

const FAILED_BUILD = `#0 building with "default" instance using docker driver

#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 92B done
#1 DONE 0.0s

#5 [2/2] RUN pip install nosuchpkg
#5 1.020 ERROR: Could not find a version that satisfies the requirement nosuchpkg (from versions: none)
#5 1.021 ERROR: No matching distribution found for nosuchpkg
#5 ERROR: process "/bin/sh -c pip install nosuchpkg" did not complete successfully: exit code: 1
------
 > [2/2] RUN pip install nosuchpkg:
1.020 ERROR: Could not find a version that satisfies the requirement nosuchpkg (from versions: none)
1.021 ERROR: No matching distribution found for nosuchpkg
------
Dockerfile:2
--------------------
   1 |     FROM 127.0.0.1:5000/python:3.11-bookworm
   2 | >>> RUN pip install nosuchpkg
   3 |
--------------------
ERROR: failed to solve: process "/bin/sh -c pip install nosuchpkg" did not complete successfully: exit code: 1
`

describe('summariseBuildFailure', () => {
  test('a driver limit carries the fix', () => {
    const summary = summariseBuildFailure(
      '#0 building with "default" instance using docker driver\nERROR: Cache export is not supported for the docker driver.\nSwitch to a different driver, or turn on the containerd image store, and try again.\n',
    )
    expect(summary).toBe(
      'ERROR: Cache export is not supported for the docker driver.\n' +
        'To fix it, use a builder with the docker-container or remote driver through the \'builder\' input (for example one created by docker/setup-buildx-action), or enable the containerd image store in Docker (`{"features": {"containerd-snapshotter": true}}` in /etc/docker/daemon.json).',
    )
  })

  test('without ERROR lines, the last non-progress lines', () => {
    expect(
      summariseBuildFailure("#1 DONE 0.1s\nunknown flag: --sbom\nSee 'docker buildx build --help'.\n"),
    ).toBe("unknown flag: --sbom\nSee 'docker buildx build --help'.")
    expect(summariseBuildFailure('')).toBe('no error output')
  })
})

test.each([
  ['0.29.1', '0.10.0', true],
  ['0.10.0', '0.10.0', true],
  ['0.9.1', '0.10.0', false],
  ['1.0.0', '0.10.0', true],
  ['0.13.1+ds1', '0.10.0', true],
])('versionAtLeast(%s, %s) = %s', (version, minimum, expected) => {
  expect(versionAtLeast(version, minimum)).toBe(expected)
})
