/**
 * The bundled action against registries and engines that fail: loopback proxies in front of the real registry at
 * 127.0.0.1:5000 (support/fault-servers.ts) that answer the existence check with 5xx, 429, HTML pages, resets, slow
 * or no answers, reset a layer upload half-way, kill the "registry" in the middle of a push, or refuse a manifest
 * push; a Docker engine that is not there, or drops every connection; and two runs of one new spec at once.
 *
 * What is required: a check that cannot get an answer is retried on transient failures and otherwise fails the
 * step (never taken as "exists", nothing pushed); a push that is interrupted is retried by the step or, when the
 * step fails, by a re-run, and the tag never points at a half-pushed image (every manifest and blob it names is in
 * the registry); the digest output is the digest the registry's tag points at. Digests are read from the registry
 * directly (HEAD with every manifest type), never from the action.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { withActionDefaults } from '../support/action-defaults.js'
import { e2eEnv } from '../support/e2e-env.js'
import {
  GATEWAY_PAGE,
  registryImage,
  startDeadEngine,
  startFaultProxy,
  type FaultProxy,
  type FaultProxyOptions,
  type RegistryImage,
} from '../support/fault-servers.js'
import { runAction, type StepResult } from '../support/run-action.js'

const env = e2eEnv()
const UPSTREAM = env.E2E_REGISTRY as string
const STAMP = `e2e-faults-${Date.now().toString(36)}`
const BUILD_TIMEOUT = 600_000

const dirs: string[] = []
const proxies: FaultProxy[] = []
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  dirs.push(dir)
  return dir
}

afterAll(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()))
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

async function proxy(options: Omit<FaultProxyOptions, 'upstream'>): Promise<FaultProxy> {
  const started = await startFaultProxy({ upstream: UPSTREAM, ...options })
  proxies.push(started)
  return started
}

/**
 * The inputs of one image: `name` under `registry`, on the e2e base image, with `commands` making its own layer.
 * No packages, so nothing but the commands runs in the build.
 */
function inputs(registry: string, name: string, commands: string[]): Record<string, string> {
  return withActionDefaults({
    installer: 'pip',
    network: 'host',
    'flytekit-version': 'none',
    name,
    registry,
    'base-image': env.E2E_BASE_IMAGE as string,
    commands: commands.join('\n'),
  })
}

/**
 * A command whose layer is about 1.5 MB of random bytes: uploads long enough to be cut in the middle. The spec's
 * commands make one RUN step, and the interrupted pushes add one writing this run's stamp, so no earlier build's
 * cached layer (which the registry would mount from another repository instead of receiving it) stands in for it.
 */
const PAYLOAD = 'head -c 1500000 /dev/urandom > /root/payload.bin'

const ok = (step: StepResult) => ({
  exitCode: step.exitCode,
  log: step.exitCode === 0 ? '' : step.log.slice(-3000),
})

/** The `::error::` lines of a log, joined (the runner prints a multi-line message with %0A for each break). */
const errors = (log: string) =>
  log
    .split('\n')
    .filter((l) => l.startsWith('::error::'))
    .join('\n')

/** Requests for one repository's tag manifest: the existence checks and the digest read-back after a push. */
const checksOf = (p: FaultProxy, repository: string) =>
  p.requests.filter(
    (r) =>
      /^(HEAD|GET)$/.test(r.method) &&
      r.path.startsWith(`/v2/${repository}/manifests/`) &&
      !r.path.includes('sha256:'),
  )

const uploadsOf = (p: FaultProxy) => p.requests.filter((r) => /\/blobs\/uploads\//.test(r.path))

/** The registry's state for the step's image, read from the real registry behind the proxy. */
function imageOf(step: StepResult, repository: string): Promise<RegistryImage> {
  const tag = step.outputs.tag
  if (!tag) throw new Error(`the step output no tag:\n${step.log.slice(-2000)}`)
  return registryImage(UPSTREAM, repository, tag)
}

describe('the existence check against a misbehaving registry', () => {
  test(
    '503, then 429 with Retry-After: retried, then the image is built and pushed',
    async () => {
      const p = await proxy({ checks: [{ status: 503 }, { status: 429, retryAfter: '1' }] })
      const repository = `${STAMP}/retry`
      const ws = tempDir('e2e-faults-ws-')
      const { main } = await runAction(
        inputs(`${p.host}/${STAMP}`, 'retry', ['echo retry > /root/case.txt']),
        {
          workspace: ws,
        },
      )
      expect(ok(main)).toEqual({ exitCode: 0, log: '' })
      expect(main.outputs.built).toBe('true')
      expect(checksOf(p, repository).slice(0, 3)).toEqual([
        { method: 'HEAD', path: `/v2/${repository}/manifests/${main.outputs.tag}`, outcome: 'answered 503' },
        { method: 'HEAD', path: `/v2/${repository}/manifests/${main.outputs.tag}`, outcome: 'answered 429' },
        { method: 'HEAD', path: `/v2/${repository}/manifests/${main.outputs.tag}`, outcome: 'forwarded 404' },
      ])
      const pushed = await imageOf(main, repository)
      expect(pushed.missing).toEqual([])
      expect(main.outputs.digest).toBe(pushed.digest)
    },
    BUILD_TIMEOUT,
  )

  test(
    'a reset connection during the check is retried, then the image is built',
    async () => {
      const p = await proxy({ checks: [{ reset: true }] })
      const repository = `${STAMP}/reset-check`
      const { main } = await runAction(
        inputs(`${p.host}/${STAMP}`, 'reset-check', ['echo reset-check > /root/case.txt']),
        { workspace: tempDir('e2e-faults-ws-') },
      )
      expect(ok(main)).toEqual({ exitCode: 0, log: '' })
      expect(
        checksOf(p, repository)
          .slice(0, 2)
          .map((r) => r.outcome),
      ).toEqual(['reset', 'forwarded 404'])
      expect(main.outputs.digest).toBe((await imageOf(main, repository)).digest)
    },
    BUILD_TIMEOUT,
  )

  test(
    'a slow answer is waited for',
    async () => {
      const p = await proxy({ checks: [{ delayMs: 3000 }] })
      const repository = `${STAMP}/slow`
      const { main } = await runAction(inputs(`${p.host}/${STAMP}`, 'slow', ['echo slow > /root/case.txt']), {
        workspace: tempDir('e2e-faults-ws-'),
      })
      expect(ok(main)).toEqual({ exitCode: 0, log: '' })
      expect(checksOf(p, repository)[0]?.outcome).toBe('delayed 3000 ms, forwarded 404')
      expect(main.outputs.built).toBe('true')
    },
    BUILD_TIMEOUT,
  )

  test(
    "a gateway's 502 HTML page on every check: retried, then the step fails closed and pushes nothing",
    async () => {
      const page = GATEWAY_PAGE(502, 'Bad Gateway')
      const p = await proxy({ checks: () => ({ status: 502, html: page }) })
      const repository = `${STAMP}/gateway`
      const { main } = await runAction(
        inputs(`${p.host}/${STAMP}`, 'gateway', ['echo gateway > /root/case.txt']),
        {
          workspace: tempDir('e2e-faults-ws-'),
        },
      )
      expect(main.exitCode).toBe(1)
      const error = errors(main.log)
      expect(error).toContain(
        `Could not check whether ${p.host}/${repository}:${main.outputs.tag ?? ''} exists: ${p.host} answered 502 Bad Gateway; the registry failed internally`,
      )
      expect(error).toContain('an unanswered check is never taken as "exists"')
      expect(error).not.toMatch(/<html|<center|nginx/)
      const checks = checksOf(p, repository)
      expect(checks.filter((r) => r.method === 'HEAD').length).toBeGreaterThan(1)
      expect(checks.every((r) => r.outcome === 'answered 502 with HTML')).toBe(true)
      expect(uploadsOf(p)).toEqual([])
      expect(main.log).not.toContain('buildx build')
      expect(main.outputs.built ?? '').not.toBe('true')
    },
    BUILD_TIMEOUT,
  )

  test(
    'a registry that never answers the check fails the step on the timeout, naming it, and pushes nothing',
    async () => {
      const p = await proxy({ checks: () => ({ hang: true }) })
      const { main } = await runAction(inputs(`${p.host}/${STAMP}`, 'hang', ['echo hang > /root/case.txt']), {
        workspace: tempDir('e2e-faults-ws-'),
      })
      expect(main.exitCode).toBe(1)
      expect(errors(main.log)).toMatch(
        new RegExp(
          `${p.host.replaceAll('.', '\\.')}.*exists: the registry did not answer in time \\(no answer within \\d+ ms\\)`,
        ),
      )
      expect(errors(main.log)).toContain('never taken as "exists"')
      expect(uploadsOf(p)).toEqual([])
      expect(main.log).not.toContain('buildx build')
    },
    BUILD_TIMEOUT,
  )
})

/**
 * One interrupted push: the step, then (only when it failed) a re-run with the proxy healthy. The registry is read
 * after each, so a half-pushed tag is caught whenever it existed.
 */
interface Interrupted {
  proxy: FaultProxy
  repository: string
  first: StepResult
  afterFirst: RegistryImage
  rerun: StepResult | undefined
  final: RegistryImage
  last: StepResult
}

async function interruptedPush(
  name: string,
  faults: Omit<FaultProxyOptions, 'upstream'>,
  beforeRerun: (p: FaultProxy) => Promise<void> = async () => undefined,
): Promise<Interrupted> {
  const p = await proxy(faults)
  const repository = `${STAMP}/${name}`
  const ws = tempDir('e2e-faults-ws-')
  const stepInputs = inputs(`${p.host}/${STAMP}`, name, [PAYLOAD, `echo ${STAMP}-${name} > /root/case.txt`])
  const first = (await runAction(stepInputs, { workspace: ws })).main
  const afterFirst = await imageOf(first, repository)
  let rerun: StepResult | undefined
  if (first.exitCode !== 0) {
    await beforeRerun(p)
    rerun = (await runAction(stepInputs, { workspace: ws })).main
  }
  const last = rerun ?? first
  return { proxy: p, repository, first, afterFirst, rerun, final: await imageOf(last, repository), last }
}

interface InterruptCase {
  title: string
  name: string
  faults: Omit<FaultProxyOptions, 'upstream'>
  /** The proxy's record of the fault. */
  fault: RegExp
  /**
   * `recovers`: the step must get over it by itself (the fault is transient and gone by the retry); `fails`: the
   * step must fail (the registry is still down) and a re-run finish the push; `either`: one of the two.
   */
  step: 'recovers' | 'fails' | 'either'
  /** For `recovers`: what the log must say about the retry. */
  warning?: RegExp
  beforeRerun?: (p: FaultProxy) => Promise<void>
}

function describeInterrupted(c: InterruptCase): void {
  describe(c.title, () => {
    let run: Interrupted
    beforeAll(async () => {
      run = await interruptedPush(c.name, c.faults, c.beforeRerun)
    }, 2 * BUILD_TIMEOUT)

    test('the fault happened', () => {
      expect(run.proxy.requests.map((r) => r.outcome)).toContainEqual(expect.stringMatching(c.fault))
    })

    test('the tag never points at a half-pushed image', () => {
      expect(run.afterFirst.missing).toEqual([])
      expect(run.final.missing).toEqual([])
      expect(run.final.parts.length).toBeGreaterThan(1)
    })

    test('the step or its re-run succeeds, and outputs the digest the tag points at', () => {
      expect(ok(run.last)).toEqual({ exitCode: 0, log: '' })
      expect(run.final.digest).toMatch(/^sha256:[a-f0-9]{64}$/)
      expect(run.last.outputs.digest).toBe(run.final.digest)
    })

    if (c.step === 'recovers') {
      test('the step itself gets over it', () => {
        expect(ok(run.first)).toEqual({ exitCode: 0, log: '' })
        if (c.warning) expect(run.first.log).toMatch(c.warning)
      })
    } else {
      test('a failed step names the registry, says a re-run finishes the push, and outputs no digest', () => {
        if (c.step === 'fails') expect(run.first.exitCode).toBe(1)
        if (run.first.exitCode === 0) {
          expect(run.rerun).toBeUndefined()
          return
        }
        const error = errors(run.first.log)
        expect(error).toContain(run.proxy.host)
        expect(error).toMatch(/re-run/i)
        expect(run.first.outputs.digest ?? '').toBe('')
        expect(run.afterFirst.digest).toBeNull()
      })
    }
  })
}

// BuildKit retries a failed blob or manifest push by itself (after 1, 2 and 4 s), so one reset or one 5xx is
// over before buildx reports anything.
describeInterrupted({
  title: 'a connection reset in the middle of a layer upload',
  name: 'reset-upload',
  faults: { uploads: [{ resetAfterBytes: 256 * 1024 }] },
  fault: /^reset after \d+ bytes$/,
  step: 'recovers',
})

describeInterrupted({
  title: "a gateway's 503 page for the manifest push",
  name: 'manifest-503',
  faults: { manifestPuts: [{ status: 503, html: GATEWAY_PAGE(503, 'Service Unavailable') }] },
  fault: /^answered 503 with HTML$/,
  step: 'recovers',
})

// Four resets of one layer outlast BuildKit's own attempts; the step's retry (a new build from the cache) gets it up.
describeInterrupted({
  title: 'one layer whose upload is reset four times in a row',
  name: 'stubborn-layer',
  faults: { stubbornBlob: { attempts: 4, afterBytes: 256 * 1024 } },
  fault: /^reset after \d+ bytes$/,
  step: 'recovers',
  warning: /::warning::.*failed on a transient error; trying once more/,
})

describeInterrupted({
  title: 'the registry killed in the middle of a layer upload and back a second later',
  name: 'killed-restarted',
  faults: { uploads: [{ killAfterBytes: 256 * 1024, restartAfterMs: 1000 }] },
  fault: /^registry killed after \d+ bytes$/,
  step: 'either',
})

describeInterrupted({
  title: 'the registry killed in the middle of a layer upload and down until the step ends',
  name: 'killed-down',
  faults: { uploads: [{ killAfterBytes: 256 * 1024 }] },
  fault: /^registry killed after \d+ bytes$/,
  step: 'fails',
  beforeRerun: (p) => p.restart(),
})

describe('a Docker engine that is not there', () => {
  async function noEngine(name: string, dockerHost: string): Promise<StepResult> {
    const { main, post } = await runAction(
      inputs(`${UPSTREAM}/${STAMP}`, name, [`echo ${name} > /root/case.txt`]),
      { workspace: tempDir('e2e-faults-ws-'), env: { DOCKER_HOST: dockerHost } },
    )
    expect(post.exitCode).toBe(0)
    return main
  }

  test('DOCKER_HOST at a socket that does not exist: the step fails saying so, and nothing is pushed', async () => {
    const socket = path.join(tempDir('e2e-faults-nosock-'), 'docker.sock')
    const main = await noEngine('no-engine', `unix://${socket}`)
    expect(main.exitCode).toBe(1)
    const error = errors(main.log)
    expect(error).toContain(
      `Docker is not available on this runner: Cannot connect to the Docker daemon at unix://${socket}.`,
    )
    expect(error).toContain('Start the Docker daemon, or point DOCKER_HOST at a running one')
    expect(main.outputs.digest ?? '').toBe('')
    const res = await fetch(`http://${UPSTREAM}/v2/${STAMP}/no-engine/tags/list`)
    expect(res.status).toBe(404)
  }, 120_000)

  test('an engine that drops every connection: the step fails saying Docker is not available, nothing pushed', async () => {
    const dir = tempDir('e2e-faults-deadsock-')
    const engine = await startDeadEngine(path.join(dir, 'docker.sock'))
    try {
      const main = await noEngine('dead-engine', `unix://${engine.path}`)
      expect(main.exitCode).toBe(1)
      expect(engine.connections).toBeGreaterThan(0)
      expect(errors(main.log)).toContain(`Docker is not available on this runner: error during connect: `)
      expect(errors(main.log)).toContain(`${engine.path}: read: connection reset by peer`)
      expect(main.outputs.digest ?? '').toBe('')
      const res = await fetch(`http://${UPSTREAM}/v2/${STAMP}/dead-engine/tags/list`)
      expect(res.status).toBe(404)
    } finally {
      await engine.close()
    }
  }, 120_000)
})

describe('two runs of one new spec at the same moment', () => {
  test(
    'both succeed and both output the digest the registry tag points at',
    async () => {
      // Two runners with checkouts of one commit: two workspaces, one git commit time.
      const first = tempDir('e2e-faults-twin-')
      mkdirSync(path.join(first, 'data'))
      writeFileSync(path.join(first, 'data', 'hello.txt'), 'hello\n')
      writeFileSync(
        path.join(first, 'imagespec.yaml'),
        [
          'name: twins',
          `registry: ${UPSTREAM}/${STAMP}`,
          `base_image: ${env.E2E_BASE_IMAGE}`,
          `pip_index: ${env.E2E_PIP_INDEX}`,
          'packages: [ispec-demo-b==1.0]',
          `commands: ["echo ${STAMP} > /root/twins.txt"]`,
          'copy: [data/hello.txt]',
          '',
        ].join('\n'),
      )
      const git = (cwd: string, ...args: string[]) =>
        execFileSync('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.com', ...args], {
          cwd,
          env: {
            ...process.env,
            GIT_COMMITTER_DATE: '2026-01-02T03:04:05Z',
            GIT_AUTHOR_DATE: '2026-01-02T03:04:05Z',
          },
        })
      git(first, 'init', '-q')
      git(first, 'add', '.')
      git(first, 'commit', '-q', '-m', 'spec')
      const second = tempDir('e2e-faults-twin-')
      cpSync(first, second, { recursive: true })

      const stepInputs = withActionDefaults({
        spec: 'imagespec.yaml',
        installer: 'pip',
        network: 'host',
        'flytekit-version': 'none',
      })
      const [a, b] = (
        await Promise.all([
          runAction(stepInputs, { workspace: first }),
          runAction(stepInputs, { workspace: second }),
        ])
      ).map((r) => r.main) as [StepResult, StepResult]
      expect([ok(a), ok(b)]).toEqual([
        { exitCode: 0, log: '' },
        { exitCode: 0, log: '' },
      ])
      expect(b.outputs.image).toBe(a.outputs.image)
      const pushed = await imageOf(a, `${STAMP}/twins`)
      expect(pushed.missing).toEqual([])
      expect([a.outputs.digest, b.outputs.digest]).toEqual([pushed.digest, pushed.digest])
    },
    BUILD_TIMEOUT,
  )
})
