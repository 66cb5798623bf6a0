/**
 * The golden vectors for Flyte projects written in Python (computed by flytekit 1.16.24's own code by importing
 * each project), run through the bundled action in dry run: every expected image found, none extra, tags and
 * ids equal; projects a static reader must refuse fail the step naming one of the expected file:line places.
 * Each project runs in an empty folder with exactly its environment variables, as its vector says.
 */
import { describe, expect, test } from '@jest/globals'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { withActionDefaults } from '../support/action-defaults.js'
import { runStep } from '../support/run-action.js'

interface Expected {
  image: string
  tag: string
  id: string
  nested_base: boolean
}
interface Vector {
  id: string
  files: Record<string, string>
  env: Record<string, string>
  entry_points: string[]
  static: boolean
  expected: Expected[]
  expected_error?: { file: string; lines: number[]; construct: string }
}

const FIXTURE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/flytekit-python-vectors.json',
)
const vectors = (JSON.parse(readFileSync(FIXTURE, 'utf8')) as { vectors: Vector[] }).vectors

async function dryRun(vector: Vector) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pyvec-'))
  try {
    for (const [rel, text] of Object.entries(vector.files)) {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
      writeFileSync(path.join(root, rel), text)
    }
    const inputs = withActionDefaults({ spec: vector.entry_points.join('\n'), 'dry-run': 'true' })
    return await runStep(inputs, { workspace: root, env: vector.env, cleanEnv: true })
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

describe('Flyte projects in Python, through the bundled action', () => {
  test.each(vectors.filter((v) => v.static).map((v) => [v.id, v] as const))('%s', async (_id, vector) => {
    const step = await dryRun(vector)
    expect({ exitCode: step.exitCode, log: step.exitCode === 0 ? '' : step.log.slice(-2500) }).toEqual({
      exitCode: 0,
      log: '',
    })
    const images = JSON.parse(step.outputs.images as string) as Record<string, unknown>[]
    const got = images.map((i) => ({
      image: i.image,
      tag: i.tag,
      id: i['spec-id'],
      nested_base: i['nested-base'],
    }))
    const want = vector.expected.map((e) => ({
      image: e.image,
      tag: e.tag,
      id: e.id,
      nested_base: e.nested_base,
    }))
    const order = (a: { image: unknown }, b: { image: unknown }) =>
      String(a.image).localeCompare(String(b.image))
    expect(got.sort(order)).toEqual(want.sort(order))
  })

  test.each(vectors.filter((v) => !v.static).map((v) => [v.id, v] as const))(
    '%s is refused',
    async (_id, vector) => {
      const step = await dryRun(vector)
      expect(step.exitCode).not.toBe(0)
      const error = vector.expected_error as NonNullable<Vector['expected_error']>
      const places = error.lines.map((l) => `${error.file}:${l}:`)
      expect(places.some((p) => step.log.includes(p))).toBe(true)
      expect(step.log).toMatch(/cannot be read without running code/)
      expect(step.outputs.images).toBeUndefined()
    },
  )
})

describe('requirements: pyproject.toml, through the bundled action', () => {
  const TAG_VECTORS = path.resolve(path.dirname(FIXTURE), 'flytekit-tag-vectors.json')
  const vector = (
    JSON.parse(readFileSync(TAG_VECTORS, 'utf8')) as {
      vectors: { id: string; files: Record<string, string>; expected_tag: string; expected_id: string }[]
    }
  ).vectors.find((v) => v.id === 'requirements_pyproject_toml')

  test.each(['uv', 'pip'])(
    'the golden vector builds with installer %s under its flytekit tag',
    async (installer) => {
      expect(vector).toBeDefined()
      const root = mkdtempSync(path.join(os.tmpdir(), 'pyproject-'))
      try {
        for (const [rel, text] of Object.entries(vector?.files ?? {}))
          writeFileSync(path.join(root, rel), text)
        writeFileSync(path.join(root, 'imagespec.yaml'), 'requirements: pyproject.toml\n')
        const inputs = withActionDefaults({ spec: 'imagespec.yaml', 'dry-run': 'true', installer })
        const step = await runStep(inputs, { workspace: root, cleanEnv: true })
        expect({ exitCode: step.exitCode, log: step.exitCode === 0 ? '' : step.log.slice(-2000) }).toEqual({
          exitCode: 0,
          log: '',
        })
        expect(step.outputs.tag).toBe(vector?.expected_tag)
        expect(step.outputs['spec-id']).toBe(vector?.expected_id)
        // The vector's pyproject.toml depends on six: it is what gets installed.
        expect(step.log).toMatch(
          installer === 'uv' ? /--requirement pyproject\.toml/ : /--requirement requirements_uv\.txt/,
        )
      } finally {
        rmSync(root, { recursive: true, force: true })
      }
    },
  )
})
