/**
 * Bad inputs through the bundled action: refused before anything is pushed, and a credential written into a
 * registry never reaches the job log, the outputs or the job summary. `::add-mask::` lines are the masking
 * itself (the runner consumes them and hides the value everywhere after), so they are the one place a
 * credential may appear, and must.
 */
import { describe, expect, test } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { e2eEnv } from '../support/e2e-env.js'
import { runAction, type StepResult } from '../support/run-action.js'

const env = e2eEnv()
const RUN = `bad-${Date.now().toString(36)}`
const workspace = mkdtempSync(path.join(os.tmpdir(), 'e2e-bad-inputs-'))

/** A small inline spec that builds in seconds, so a push would really happen if nothing stopped it. */
const SMALL = {
  installer: 'pip',
  network: 'host',
  'flytekit-version': 'none',
  name: 'app',
  'base-image': env.E2E_BASE_IMAGE as string,
}

/**
 * Repositories of a registry under this run's unique path, from the whole catalog (the open or the login
 * registry), page by page as distribution hands it out.
 */
async function repositoriesOfRun(
  registry: string,
  login?: { user: string; password: string },
): Promise<string[]> {
  const headers: Record<string, string> = login
    ? { authorization: `Basic ${Buffer.from(`${login.user}:${login.password}`).toString('base64')}` }
    : {}
  const found: string[] = []
  let last = ''
  for (;;) {
    const res = await fetch(
      `http://${registry}/v2/_catalog?n=1000${last ? `&last=${encodeURIComponent(last)}` : ''}`,
      {
        headers,
      },
    )
    expect(res.status).toBe(200)
    const page = ((await res.json()) as { repositories?: string[] }).repositories ?? []
    found.push(...page.filter((r) => r.startsWith(RUN)))
    if (!res.headers.get('link') || page.length === 0) return found
    last = page[page.length - 1] as string
  }
}

/** Everything the runner keeps of a step: its log without the mask commands, its outputs file and summary. */
function whatTheRunnerKeeps(step: StepResult): string {
  const log = step.log
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n')
  return [log, JSON.stringify(step.outputs), step.summary].join('\n')
}

describe('bad inputs through the bundled action', () => {
  test('a bad second registries line fails before anything is pushed to either registry', async () => {
    const { main } = await runAction(
      {
        ...SMALL,
        registries: `${env.E2E_REGISTRY}/${RUN}\n${env.E2E_AUTH_REGISTRY}/${RUN}_`,
      },
      { workspace },
    )
    expect(main.exitCode).toBe(1)
    expect(main.log).toContain(
      `::error::imagespec-action failed: Input 'registries': line 2: '${env.E2E_AUTH_REGISTRY}/${RUN}_': the path ` +
        `part '${RUN}_' is not valid in an image name; use lower-case letters, digits and single separators`,
    )
    expect(main.log).not.toContain('buildx build')
    expect(main.outputs.images ?? '').toBe('')
    expect(await repositoriesOfRun(env.E2E_REGISTRY as string)).toEqual([])
    expect(
      await repositoriesOfRun(env.E2E_AUTH_REGISTRY as string, {
        user: env.E2E_AUTH_USER as string,
        password: env.E2E_AUTH_PASSWORD as string,
      }),
    ).toEqual([])
  }, 120_000)

  test('registry: user:secret@127.0.0.1:5000 fails without the secret anywhere the runner keeps', async () => {
    const secret = 'S3cretE2eValue'
    const { main, post } = await runAction(
      { ...SMALL, registry: `e2e-user:${secret}@${env.E2E_REGISTRY}/${RUN}` },
      { workspace },
    )
    expect(main.exitCode).toBe(1)
    expect(main.log).toContain(
      "::error::imagespec-action failed: Input 'registry': holds a user name or password ('user:password@host'): " +
        'a registry is host[:port][/path]',
    )
    expect(main.log).toContain(`::add-mask::${secret}`)
    expect(main.log).toContain(`::add-mask::${secret.toLowerCase()}`)
    for (const step of [main, post]) {
      const kept = whatTheRunnerKeeps(step)
      expect(kept).not.toContain(secret)
      expect(kept).not.toContain(secret.toLowerCase())
      expect(kept).not.toContain('e2e-user')
    }
    expect(main.log).not.toContain('buildx build')
    expect(await repositoriesOfRun(env.E2E_REGISTRY as string)).toEqual([])
  }, 120_000)

  test('a spec file whose registry holds a password is refused at its line, without the password', async () => {
    const secret = 'Sp3cF1lePassWord'
    writeFileSync(
      path.join(workspace, 'imagespec.yaml'),
      `name: app\nbase_image: ${env.E2E_BASE_IMAGE}\nregistry: robot:${secret}@${env.E2E_REGISTRY}/${RUN}\n`,
    )
    const { main } = await runAction(
      { installer: 'pip', network: 'host', 'flytekit-version': 'none', spec: 'imagespec.yaml' },
      { workspace },
    )
    expect(main.exitCode).toBe(1)
    expect(main.log).toMatch(/::error::.*imagespec\.yaml:3: registry: holds a user name or password/)
    // Nothing masks a password read from a file: it must not be printed at all, add-mask lines included.
    for (const text of [main.log, JSON.stringify(main.outputs), main.summary]) {
      expect(text).not.toContain(secret)
      expect(text).not.toContain(secret.toLowerCase())
      expect(text).not.toContain('robot')
    }
    expect(await repositoriesOfRun(env.E2E_REGISTRY as string)).toEqual([])
  }, 120_000)
})
