/**
 * A symbolic link in the repository must not carry the runner's files into the image: the bundled action, run as
 * the runner runs it, with a spec whose `copy` lists a link to a docker config.json outside the workspace (holding
 * a marker secret). The step fails naming the path and where it leads, before any registry is asked; nothing is
 * pushed, and the marker is nowhere in RUNNER_TEMP, the outputs, the job summary or the log.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { e2eEnv } from '../support/e2e-env.js'
import { runAction } from '../support/run-action.js'

const env = e2eEnv()
const REPOSITORY = `e2e-links-${Date.now().toString(36)}`
const REGISTRY = `${env.E2E_REGISTRY}/${REPOSITORY}`
const MARKER = `marker-secret-${Date.now().toString(36)}-do-not-push`

const dirs: string[] = []
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  dirs.push(dir)
  return dir
}

/** The runner's home, outside the workspace: a docker config with registry credentials. */
const home = tempDir('e2e-runner-home-')
const config = path.join(home, '.docker', 'config.json')
const workspace = tempDir('e2e-ws-links-')
const runnerTemp = path.join(tempDir('e2e-runner-temp-'), 'temp')

function write(rel: string, body: string): void {
  mkdirSync(path.dirname(path.join(workspace, rel)), { recursive: true })
  writeFileSync(path.join(workspace, rel), body)
}

// Line 7 holds copy[1].
const SPEC = `name: leak
registry: ${REGISTRY}
base_image: ${env.E2E_BASE_IMAGE}
pip_index: ${env.E2E_PIP_INDEX}
copy:
  - data/hello.txt
  - data/config.json
`

/** Every regular file under `dir` (none when it does not exist), with its bytes. */
function filesUnder(dir: string): { file: string; text: string }[] {
  let names: string[]
  try {
    names = readdirSync(dir, { recursive: true }).map(String)
  } catch {
    return []
  }
  return names.flatMap((rel) => {
    const file = path.join(dir, rel)
    try {
      return [{ file, text: readFileSync(file, 'latin1') }]
    } catch {
      return [] // a folder
    }
  })
}

const holding = (dir: string): string[] =>
  filesUnder(dir)
    .filter((f) => f.text.includes(MARKER))
    .map((f) => f.file)

beforeAll(() => {
  mkdirSync(path.dirname(config), { recursive: true })
  writeFileSync(config, JSON.stringify({ auths: { 'ghcr.io': { auth: MARKER } } }))
  write('imagespec.yaml', SPEC)
  write('data/hello.txt', 'hello\n')
  symlinkSync(config, path.join(workspace, 'data/config.json'))
})

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('a copy entry that is a symbolic link to a file outside the workspace', () => {
  let run: Awaited<ReturnType<typeof runAction>>

  beforeAll(async () => {
    run = await runAction(
      { spec: 'imagespec.yaml', installer: 'pip', network: 'host' },
      { workspace, env: { RUNNER_TEMP: runnerTemp } },
    )
  }, 300_000)

  test('fails, naming the field, its line, the path and where it leads', () => {
    expect(run.main.exitCode).not.toBe(0)
    expect(run.main.log).toContain(
      `imagespec.yaml:7: copy[1]: 'data/config.json' is a symbolic link to ${config}, outside the working ` +
        `directory ${workspace}; only files inside it can go into the image`,
    )
  })

  test('no registry was asked, and nothing was pushed', async () => {
    expect(run.main.log).not.toContain('is not in the registry yet')
    expect(run.main.log).not.toMatch(/leak:\S+ exists \(/)
    const res = await fetch(`http://${env.E2E_REGISTRY}/v2/${REPOSITORY}/leak/tags/list`)
    expect(res.status).toBe(404)
  })

  test('the marker is in no file under RUNNER_TEMP', () => {
    expect(holding(runnerTemp)).toEqual([])
  })

  test('the marker is in no output, summary or log line', () => {
    for (const step of [run.main, run.post]) {
      expect(step.log).not.toContain(MARKER)
      expect(step.summary).not.toContain(MARKER)
      expect(Object.values(step.outputs).join('\n')).not.toContain(MARKER)
    }
  })

  test('the RUNNER_TEMP scan finds the marker where it is (the check above can fail)', () => {
    const probe = path.join(tempDir('e2e-scan-probe-'), 'nested', 'deep')
    mkdirSync(probe, { recursive: true })
    writeFileSync(path.join(probe, 'copied.json'), readFileSync(config))
    expect(holding(path.dirname(path.dirname(probe)))).toEqual([path.join(probe, 'copied.json')])
  })
})
