import { execFile } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { afterAll, afterEach, describe, expect, test } from '@jest/globals'

import { buildxArgs, type BuildPlan } from '../../src/docker/buildx-args.js'
import {
  assertBuilderSupports,
  BuildFailedError,
  classifyBuildFailure,
  detectDocker,
  ensureBuildx,
  inspectBuilder,
  parseInspect,
  prepareBuilder,
  runBuild,
  summariseBuildFailure,
  timestampRewrite,
  unsupportedByBuilder,
  versionAtLeast,
  type BuilderInfo,
} from '../../src/docker/buildx.js'
import { CommandNotFoundError } from '../../src/exec.js'
import { MemoryLogger } from '../../src/log.js'
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
/** As this project's e2e engine (Debian's docker.io 26.1) prints it. */
const INSPECT_DEBIAN = `Name:          default
Driver:        docker
Last Activity: 2026-12-08 00:37:38 +0000 UTC

Nodes:
Name:             default
Endpoint:         default
Status:           running
BuildKit version: v0.0.0+unknown
Platforms:        linux/amd64, linux/amd64/v2, linux/amd64/v3, linux/amd64/v4
`
/** buildx before 0.12 wrote the node's BuildKit as `Buildkit:`. */
const INSPECT_OLD_BUILDKIT = `Name:   old
Driver: docker-container

Nodes:
Name:      old0
Endpoint:  unix:///var/run/docker.sock
Status:    running
Buildkit:  v0.11.6
Platforms: linux/amd64
`
const CLASSIC_STORE = '[["Backing Filesystem","extfs"],["Supports d_type","true"]]'
const CONTAINERD_STORE = '[["driver-type","io.containerd.snapshotter.v1"]]'

/** A docker CLI stand-in: answers version/buildx/info from a table, records everything. */
function fakeDocker(
  overrides: Partial<
    Record<
      'version' | 'buildx' | 'inspect' | 'info' | 'build' | 'pull',
      (c: ExecCall) => ReturnType<typeof ok>
    >
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
    if (isCall(call, 'docker', 'pull')) return overrides.pull?.(call) ?? ok(`${call.args.at(-1)}\n`)
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
        'Is the docker daemon running? Start the Docker daemon, or point DOCKER_HOST at a running one, and check ' +
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
      { name: 'default', driver: 'docker', containerdImageStore: false, buildkitVersion: '0.13.2' },
    ],
    [
      'docker driver, containerd store',
      INSPECT_DOCKER,
      CONTAINERD_STORE,
      { name: 'default', driver: 'docker', containerdImageStore: true, buildkitVersion: '0.13.2' },
    ],
    [
      'docker driver, info unreadable',
      INSPECT_DOCKER,
      'null',
      { name: 'default', driver: 'docker', containerdImageStore: false, buildkitVersion: '0.13.2' },
    ],
    [
      "Debian's engine, whose BuildKit has no version",
      INSPECT_DEBIAN,
      CONTAINERD_STORE,
      { name: 'default', driver: 'docker', containerdImageStore: true },
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
      buildkitVersion: '0.13.2',
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

  test("parseInspect reads the BuildKit release in both buildx's formats", () => {
    expect(parseInspect(INSPECT_OLD_BUILDKIT)).toEqual({
      name: 'old',
      driver: 'docker-container',
      buildkitVersion: '0.11.6',
    })
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
      rewriteTimestamp: true,
      cacheExport: true,
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

describe('runBuild and reproducible pushes', () => {
  const containerd: BuilderInfo = {
    name: 'default',
    driver: 'docker',
    containerdImageStore: true,
    rewriteTimestamp: true,
  }
  const pushed = (metadataFile: string) => () => {
    writeFileSync(metadataFile, JSON.stringify({ 'containerimage.digest': DIGEST }))
    return ok('')
  }

  test("SOURCE_DATE_EPOCH goes into buildx's environment too", async () => {
    const metadataFile = join(await dirs.make(), 'metadata.json')
    const exec = fakeDocker({ build: pushed(metadataFile) })
    await runBuild({ configDir: '/job/docker', exec }, plan({ metadataFile, sourceDateEpoch: 1700000000 }))
    expect(exec.calls[0]?.options.env).toEqual({
      DOCKER_CONFIG: '/job/docker',
      SOURCE_DATE_EPOCH: '1700000000',
    })
  })

  test('a rewritten push on the engine’s containerd store is pulled back, so the engine still has the image', async () => {
    const metadataFile = join(await dirs.make(), 'metadata.json')
    const exec = fakeDocker({ build: pushed(metadataFile) })
    const buildPlan = plan({ metadataFile, sourceDateEpoch: 1, rewriteTimestamp: true })
    await expect(
      runBuild({ configDir: '/job/docker', exec }, buildPlan, { builder: containerd }),
    ).resolves.toMatchObject({ digest: DIGEST })
    expect(exec.calls.map((c) => c.args.slice(0, 2).join(' '))).toEqual(['buildx build', 'pull --quiet'])
    expect(exec.calls[1]?.args).toEqual(['pull', '--quiet', '127.0.0.1:5000/app:t1'])
    expect(exec.calls[1]?.options.env).toEqual({ DOCKER_CONFIG: '/job/docker' })
  })

  test.each<[string, Partial<BuildPlan>, BuilderInfo | undefined]>([
    ['a plain push', { sourceDateEpoch: 1 }, containerd],
    ['a docker-container builder', { rewriteTimestamp: true }, { name: 'ci', driver: 'docker-container' }],
    ['no builder described', { rewriteTimestamp: true }, undefined],
  ])('nothing is pulled after %s', async (_name, overrides, builder) => {
    const metadataFile = join(await dirs.make(), 'metadata.json')
    const exec = fakeDocker({ build: pushed(metadataFile) })
    await runBuild(
      { configDir: '/c', exec },
      plan({ metadataFile, ...overrides }),
      builder ? { builder } : {},
    )
    expect(exec.calls.map((c) => c.args[0])).toEqual(['buildx'])
  })

  test('a failed pull-back only warns: the image is in the registry', async () => {
    const metadataFile = join(await dirs.make(), 'metadata.json')
    const logger = new MemoryLogger()
    const exec = fakeDocker({
      build: pushed(metadataFile),
      pull: () => failed('Error response from daemon: no space left on device\n'),
    })
    const result = await runBuild(
      { configDir: '/c', exec, logger },
      plan({ metadataFile, rewriteTimestamp: true }),
      { builder: containerd },
    )
    expect(result.digest).toBe(DIGEST)
    expect(logger.lines.filter((l) => l.startsWith('warning:'))).toEqual([
      'warning: 127.0.0.1:5000/app:t1 is pushed, but could not be pulled back into the local Docker engine (Error response from daemon: no space left on device): later steps of this job that run it pull it themselves.',
    ])
  })

  test('a failed build is a BuildFailedError that says whether to try again', async () => {
    const line = BUILDX_ERRORS[0]?.[1] as string
    const exec = fakeDocker({ build: () => failed(`#9 pushing layers\n${line}\n`) })
    const err = await rejectionOf(
      runBuild({ configDir: '/c', exec }, plan({ metadataFile: join(await dirs.make(), 'm.json') })),
    )
    expect(err).toBeInstanceOf(BuildFailedError)
    expect(err).toMatchObject({
      kind: 'transient',
      reason: line,
      // Written by hand: a failed push says that nothing was tagged and that a re-run finishes it.
      message:
        `docker buildx build failed: ${line}\n` +
        'Nothing was tagged: a registry moves a tag only once the whole image is in, so a re-run finishes the push.',
    })
  })

  test('upload URLs lose their query strings (state tokens, presigned signatures) in the message', () => {
    const stderr =
      'ERROR: failed to push r.example/a:t: PATCH http://r.example/v2/a/blobs/uploads/x?_state=SECRETSTATE&digest=1: EOF\n'
    expect(summariseBuildFailure(stderr)).not.toContain('SECRETSTATE')
    expect(summariseBuildFailure(stderr)).toContain('http://r.example/v2/a/blobs/uploads/x?…')
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

describe('rewriting layer timestamps', () => {
  const containerd: BuilderInfo = { name: 'default', driver: 'docker', containerdImageStore: true }
  const recent = { engine: '26.1.5', buildx: '0.29.1' }

  test.each<[string, BuilderInfo, { engine: string; buildx: string }, ReturnType<typeof timestampRewrite>]>([
    ['docker driver, containerd store, Docker 26.1', containerd, recent, { ok: true }],
    ["Debian's 26.1.5+dfsg1 engine", containerd, { engine: '26.1.5+dfsg1', buildx: '0.29.1' }, { ok: true }],
    [
      'docker driver, classic store',
      { ...containerd, containerdImageStore: false },
      recent,
      { ok: false, reason: 'the docker driver supports it only with the containerd image store' },
    ],
    [
      'docker driver, store unknown',
      { name: 'default', driver: 'docker' },
      recent,
      {
        ok: false,
        reason:
          'it could not be told whether the engine uses the containerd image store, which the docker driver needs for it',
      },
    ],
    [
      'docker driver, Docker 25 (BuildKit 0.12)',
      containerd,
      { engine: '25.0.5', buildx: '0.29.1' },
      { ok: false, reason: 'Docker 25.0.5 embeds a BuildKit older than 0.13 (Docker 26 has 0.13)' },
    ],
    [
      'buildx 0.12',
      { name: 'ci', driver: 'docker-container', buildkitVersion: '0.16.0' },
      { engine: '26.1.5', buildx: '0.12.1' },
      { ok: false, reason: 'Buildx v0.12.1 is older than 0.13' },
    ],
    [
      'docker-container, BuildKit 0.12.5',
      { name: 'ci', driver: 'docker-container', buildkitVersion: '0.12.5' },
      recent,
      { ok: false, reason: 'its BuildKit is v0.12.5, older than 0.13' },
    ],
    [
      'docker-container, BuildKit 0.13.0',
      { name: 'ci', driver: 'docker-container', buildkitVersion: '0.13.0' },
      recent,
      { ok: true },
    ],
    ['docker-container, BuildKit unknown', { name: 'ci', driver: 'docker-container' }, recent, { ok: true }],
  ])('%s', (_name, builder, versions, expected) => {
    expect(timestampRewrite(builder, versions)).toEqual(expected)
  })

  test('prepareBuilder says the builder can, with no warning', async () => {
    const logger = new MemoryLogger()
    const exec = fakeDocker({ info: () => ok(CONTAINERD_STORE), inspect: () => ok(INSPECT_DEBIAN) })
    const info = await prepareBuilder(
      { configDir: '/c', exec, logger },
      { plan: plan({ sourceDateEpoch: 1 }) },
    )
    expect(info).toEqual({
      name: 'default',
      driver: 'docker',
      containerdImageStore: true,
      rewriteTimestamp: true,
      cacheExport: true,
    })
    expect(logger.lines.filter((l) => l.startsWith('warning:'))).toEqual([])
  })

  test('a builder that cannot: one warning, and the build goes on', async () => {
    const logger = new MemoryLogger()
    const exec = fakeDocker() // docker driver on the classic store
    const info = await prepareBuilder(
      { configDir: '/c', exec, logger },
      { plan: plan({ sourceDateEpoch: 1 }) },
    )
    expect(info.rewriteTimestamp).toBe(false)
    expect(logger.lines.filter((l) => l.startsWith('warning:'))).toEqual([
      "warning: The Docker Buildx builder 'default' (driver: docker) cannot rewrite the file times in image layers (BuildKit's rewrite-timestamp): " +
        'the docker driver supports it only with the containerd image store. Images are pushed without it, so two builds of the same spec can ' +
        'push different digests (the digest output is still the one the tag points at). For reproducible images use Docker 26 or newer with ' +
        "the containerd image store, or a builder with BuildKit 0.13 or newer through the 'builder' input.",
    ])
  })

  test.each<[string, Partial<BuildPlan>]>([
    ['a load', { output: 'load', sourceDateEpoch: 1 }],
    ['a push without an epoch', {}],
  ])('no warning for %s, where nothing would be rewritten', async (_name, overrides) => {
    const logger = new MemoryLogger()
    await prepareBuilder({ configDir: '/c', exec: fakeDocker(), logger }, { plan: plan(overrides) })
    expect(logger.lines.filter((l) => l.startsWith('warning:'))).toEqual([])
  })
})

/**
 * Real buildx 0.29 error lines. Those with 127.0.0.1 came from this project's e2e engine, pushing through a
 * loopback proxy that answered the registry's requests with the failure; the others are buildx's wording as users
 * have reported it against Docker Hub, GHCR and ECR.
 */
// prettier-ignore
const BUILDX_ERRORS: [string, string, 'transient' | 'rewrite-unsupported' | 'fatal'][] = [
  ['503 on the manifest', 'ERROR: failed to build: failed to solve: failed to push 127.0.0.1:5901/errs/manifest503:t: failed commit on ref "manifest-sha256:9990d81bb92aed3d147827dbad9170dbc4c0bf2b4463e38e6e6b7dce4e6542a7": unexpected status from PUT request to http://127.0.0.1:5901/v2/errs/manifest503/manifests/t: 503 Service Unavailable', 'transient'],
  ['429 on the manifest', 'ERROR: failed to build: failed to solve: failed to push 127.0.0.1:5902/errs/manifest429:t: failed commit on ref "manifest-sha256:9990d81bb92aed3d147827dbad9170dbc4c0bf2b4463e38e6e6b7dce4e6542a7": unexpected status from PUT request to http://127.0.0.1:5902/v2/errs/manifest429/manifests/t: 429 Too Many Requests', 'transient'],
  ['502 on the manifest', 'ERROR: failed to build: failed to solve: failed to push 127.0.0.1:5903/errs/manifest502:t: failed commit on ref "manifest-sha256:9990d81bb92aed3d147827dbad9170dbc4c0bf2b4463e38e6e6b7dce4e6542a7": unexpected status from PUT request to http://127.0.0.1:5903/v2/errs/manifest502/manifests/t: 502 Bad Gateway', 'transient'],
  ['connection reset during a blob upload', 'ERROR: failed to build: failed to solve: failed to push 127.0.0.1:5904/errs/blobreset:t: failed commit on ref "config-sha256:75f022c64c4fa3263958192c9b9a5ab1306626ce929af9e72ee00caa9995ff67": failed to do request: Put "http://127.0.0.1:5904/v2/errs/blobreset/blobs/uploads/17bdd765-d136-4513-832a-9da44fe165bc?_state=p0YGTgYKa_x5&digest=sha256%3A75f022c64c4fa3263958192c9b9a5ab1306626ce929af9e72ee00caa9995ff67": read tcp 127.0.0.1:40476->127.0.0.1:5904: read: connection reset by peer', 'transient'],
  ['connection dropped during a blob upload', 'ERROR: failed to build: failed to solve: failed to push 127.0.0.1:5905/errs/blobeof:t: failed commit on ref "config-sha256:75f022c64c4fa3263958192c9b9a5ab1306626ce929af9e72ee00caa9995ff67": failed to do request: Put "http://127.0.0.1:5905/v2/errs/blobeof/blobs/uploads/033ca91b-f58f-450d-81ad-d0730ec8746d?_state=u3Gemjhw&digest=sha256%3A75f022c64c4fa3263958192c9b9a5ab1306626ce929af9e72ee00caa9995ff67": readfrom tcp 127.0.0.1:46340->127.0.0.1:5905: write tcp 127.0.0.1:46340->127.0.0.1:5905: use of closed network connection', 'transient'],
  ['EOF on the manifest', 'ERROR: failed to build: failed to solve: failed to push 127.0.0.1:5909/errs/manifesteof:t: failed commit on ref "manifest-sha256:9990d81bb92aed3d147827dbad9170dbc4c0bf2b4463e38e6e6b7dce4e6542a7": failed to do request: Put "https://127.0.0.1:5909/v2/errs/manifesteof/manifests/t": EOF', 'transient'],
  ['an i/o timeout fetching a token', 'ERROR: failed to solve: DeadlineExceeded: failed to fetch anonymous token: Get "https://auth.docker.io/token?scope=repository%3Alibrary%2Fpython%3Apull&service=registry.docker.io": dial tcp 3.94.224.37:443: i/o timeout', 'transient'],
  ['a TLS handshake timeout', 'ERROR: failed to solve: python:3.11-slim: failed to resolve source metadata for docker.io/library/python:3.11-slim: failed to do request: Head "https://registry-1.docker.io/v2/library/python/manifests/3.11-slim": net/http: TLS handshake timeout', 'transient'],
  ['a 500 from GHCR', 'ERROR: failed to solve: failed to push ghcr.io/example-org/app:k3p0TbQ7vHlFQnWW1pyZqA: unexpected status from PUT request to https://ghcr.io/v2/example-org/app/manifests/k3p0TbQ7vHlFQnWW1pyZqA: 500 Internal Server Error', 'transient'],
  ['two builds registering one image in the engine at once', 'ERROR: failed to build: failed to solve: image "127.0.0.1:5000/e2e/app:k3p0TbQ7vHlFQnWW1pyZqA": already exists', 'transient'],
  ['the engine refusing rewrite-timestamp', 'ERROR: failed to build: failed to solve: exporter option "rewrite-timestamp" conflicts with "unpack"', 'rewrite-unsupported'],
  ['a failed RUN step', 'ERROR: failed to solve: process "/bin/sh -c pip install nosuchpkg" did not complete successfully: exit code: 1', 'fatal'],
  ['a failed RUN step whose command mentions a timeout', 'ERROR: failed to solve: process "/bin/sh -c pip install --timeout 60 requests" did not complete successfully: exit code: 1', 'fatal'],
  ['401 on a blob (no login)', 'ERROR: failed to build: failed to solve: failed to push 127.0.0.1:5001/errs/x:t: unexpected status from HEAD request to http://127.0.0.1:5001/v2/errs/x/blobs/sha256:c3e4a36484924a89a0c251cfdd6d5915a487230694df527f176c3dbfbd1b70d8: 401 Unauthorized', 'fatal'],
  ['403 on the manifest', 'ERROR: failed to build: failed to solve: failed to push 127.0.0.1:5907/errs/manifestdenied:t: failed commit on ref "manifest-sha256:9990d81bb92aed3d147827dbad9170dbc4c0bf2b4463e38e6e6b7dce4e6542a7": unexpected status from PUT request to http://127.0.0.1:5907/v2/errs/manifestdenied/manifests/t: 403 Forbidden', 'fatal'],
  ['Docker Hub denying the push', 'ERROR: failed to solve: failed to push docker.io/someone/app:t: push access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed', 'fatal'],
  ['a 401 for the token, in a 5xx-looking URL', 'ERROR: failed to solve: failed to fetch oauth token: unexpected status from GET request to https://ghcr.io/token?scope=repository%3Aorg%2Fapp503%3Apull&service=ghcr.io: 401 Unauthorized', 'fatal'],
  ['a missing base image', 'ERROR: failed to build: failed to solve: 127.0.0.1:5000/nope/python:3.99: failed to resolve source metadata for 127.0.0.1:5000/nope/python:3.99: 127.0.0.1:5000/nope/python:3.99: not found', 'fatal'],
  ['an IMMUTABLE ECR tag', "ERROR: failed to solve: failed to push 123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:t: tag invalid: The image tag 't' already exists in the 'team/app' repository and cannot be overwritten because the repository is immutable.", 'fatal'],
  ['a driver limit', 'ERROR: Cache export is not supported for the docker driver.', 'fatal'],
  ['no error line at all', "unknown flag: --sbom\nSee 'docker buildx build --help'.", 'fatal'],
]

describe('classifyBuildFailure', () => {
  test.each(BUILDX_ERRORS)('%s', (_name, line, kind) => {
    expect(
      classifyBuildFailure(`#0 building with "default" instance using docker driver\n\n${line}\n`).kind,
    ).toBe(kind)
  })

  test("a RUN step's log that mentions timeouts and resets is the build's, not the registry's", () => {
    const result = classifyBuildFailure(
      FAILED_BUILD.replace(
        '1.020 ERROR: Could not find',
        '1.020 WARNING: Retrying after connection broken by \'ReadTimeoutError("HTTPSConnectionPool: Read timed out.")\': connection reset by peer\n1.020 ERROR: Could not find',
      ),
    )
    expect(result).toEqual({
      kind: 'fatal',
      reason:
        'ERROR: failed to solve: process "/bin/sh -c pip install nosuchpkg" did not complete successfully: exit code: 1',
    })
  })

  test('the reason is the line that decided', () => {
    const line = BUILDX_ERRORS[0]?.[1] as string
    expect(classifyBuildFailure(`#7 pushing layers\n${line}\n`)).toEqual({ kind: 'transient', reason: line })
  })
})
