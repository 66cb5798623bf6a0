/**
 * A pyproject.toml as `requirements`, built by the bundled action with installer pip against the real engine,
 * registry and loopback package index of scripts/e2e/up.sh: the project's dependency is installed in the image,
 * and the tag is the one flytekit computes (the file hashed like any requirements file), by Python itself.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { e2eEnv } from '../support/e2e-env.js'
import { py, pythonTag } from '../support/flytekit-tag.js'
import { runStep, type StepResult } from '../support/run-action.js'

const env = e2eEnv()
const REGISTRY = `${env.E2E_REGISTRY}/pyproject-${Date.now().toString(36)}`
const workspace = mkdtempSync(path.join(os.tmpdir(), 'e2e-pyproject-'))

const PYPROJECT = `[project]
name = "e2e-project"
version = "0.1.0"
dependencies = ["ispec-demo-b==1.0"]
`
const SPEC = `name: app
registry: ${REGISTRY}
base_image: ${env.E2E_BASE_IMAGE}
requirements: pyproject.toml
pip_index: ${env.E2E_PIP_INDEX}
`

let result: StepResult

beforeAll(async () => {
  writeFileSync(path.join(workspace, 'imagespec.yaml'), SPEC)
  writeFileSync(path.join(workspace, 'pyproject.toml'), PYPROJECT)
  result = await runStep({ spec: 'imagespec.yaml', installer: 'pip', network: 'host' }, { workspace })
}, 300_000)

afterAll(() => {
  rmSync(workspace, { recursive: true, force: true })
  spawnSync('docker', ['image', 'prune', '-f'])
})

describe('requirements: pyproject.toml with installer pip', () => {
  test('builds and pushes under the tag flytekit computes for the spec', () => {
    expect({
      exitCode: result.exitCode,
      log: result.exitCode === 0 ? '' : result.log.slice(-3000),
    }).toEqual({ exitCode: 0, log: '' })
    const tag = pythonTag(
      `{'name': 'app', 'registry': ${py(REGISTRY)}, ` +
        `'requirements': hashlib.sha1(${py(PYPROJECT)}.encode().strip()).hexdigest(), ` +
        `'base_image': ${py(env.E2E_BASE_IMAGE as string)}, 'platform': 'linux/amd64', ` +
        `'pip_index': ${py(env.E2E_PIP_INDEX as string)}}`,
    )
    expect(result.outputs.tag).toBe(tag)
    expect(result.outputs.image).toBe(`${REGISTRY}/app:${tag}`)
    expect(result.outputs.built).toBe('true')
  })

  test("the project's dependency is importable in the image", () => {
    const run = spawnSync(
      'docker',
      [
        'run',
        '--rm',
        result.outputs.image as string,
        'python',
        '-c',
        'import ispec_demo_b; print(ispec_demo_b.__version__)',
      ],
      { encoding: 'utf8' },
    )
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({
      status: 0,
      stderr: '',
    })
    expect(run.stdout.trim()).toBe('1.0')
  })
})
