/**
 * Every golden vector produced by running flytekit v1.16.24's own image_spec.py (see
 * __tests__/fixtures/flytekit-tag-vectors.json): the spec is built the way the action builds it, the files
 * are written into a fresh working directory, and tag, image, id and both hash inputs must match byte for
 * byte.
 */
import { afterAll, describe, expect, test } from '@jest/globals'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PyDict, PyEnum, type PyValue } from '../../src/pyvalues/values.js'
import { COPY_MODES } from '../../src/spec/model.js'
import { constructImageSpec } from '../../src/spec/construct.js'
import { loadYaml11 } from '../../src/spec/yaml11.js'
import { computeSpecId, computeTag } from '../../src/tag/tag.js'
import { TempDirs } from '../support/temp-dirs.js'

interface Vector {
  id: string
  spec: Record<string, unknown>
  yaml?: string
  files?: Record<string, string>
  source_root_is_absolute?: boolean
  expected_tag: string
  expected_image: string
  hash_input: string
  expected_id: string | null
  id_hash_input: string
}

const FIXTURE = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/flytekit-tag-vectors.json',
)

/** JSON numbers written without a fraction or exponent are Python ints: keep them exact as bigint. */
function reviver(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === 'number' && context?.source !== undefined && /^-?\d+$/.test(context.source)) {
    return BigInt(context.source)
  }
  return value
}

/**
 * Python's json module writes non-finite floats as bare NaN / Infinity / -Infinity, which JSON.parse refuses;
 * outside strings they are rewritten to a marker object that toPy turns back into the float.
 */
function quoteNonFinite(text: string): string {
  let out = ''
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string
    if (inString) {
      out += ch
      if (ch === '\\') out += text[++i] ?? ''
      else if (ch === '"') inString = false
      continue
    }
    const word = /^(-?Infinity|NaN)/.exec(text.slice(i, i + 9))?.[1]
    if (word !== undefined) {
      out += `{"$float": "${word}"}`
      i += word.length - 1
      continue
    }
    if (ch === '"') inString = true
    out += ch
  }
  return out
}

async function loadVectors(): Promise<Vector[]> {
  const text = quoteNonFinite(await readFile(FIXTURE, 'utf8'))
  return (JSON.parse(text, reviver as (key: string, value: unknown) => unknown) as { vectors: Vector[] })
    .vectors
}

/** Fixture JSON to Python values: objects are dicts in key order, `{"$imagespec": {...}}` a nested spec. */
function toPy(v: unknown): PyValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'bigint' || typeof v === 'number') return v
  if (typeof v === 'string') return v
  if (Array.isArray(v)) return v.map(toPy)
  const obj = v as Record<string, unknown>
  if (typeof obj['$float'] === 'string') return Number(obj['$float'])
  const nested = obj['$imagespec']
  return new PyDict(
    Object.entries(nested !== undefined ? (nested as object) : obj).map(([k, x]) => [k, fieldValue(k, x)]),
  )
}

/** The harness passes source_copy_mode (given by member name) as the enum itself, as Python code does. */
function fieldValue(key: string, v: unknown): PyValue {
  if (key === 'source_copy_mode' && typeof v === 'string' && v in COPY_MODES) {
    return new PyEnum('CopyFileDetection', v, COPY_MODES[v as keyof typeof COPY_MODES])
  }
  return toPy(v)
}

function fieldsOf(vector: Vector, cwd: string): Map<string, PyValue> {
  const fields = new Map<string, PyValue>()
  if (vector.yaml !== undefined) {
    const doc = loadYaml11(vector.yaml, `${vector.id}.yaml`)
    for (const [k, v] of doc.value as PyDict) fields.set(k as string, v)
  } else {
    for (const [k, v] of Object.entries(vector.spec)) fields.set(k, fieldValue(k, v))
  }
  const root = fields.get('source_root')
  if (vector.source_root_is_absolute && typeof root === 'string') {
    fields.set('source_root', path.join(cwd, root))
  }
  return fields
}

async function writeFiles(dir: string, files: Record<string, string> = {}): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(dir, rel)
    await mkdir(path.dirname(full), { recursive: true })
    await writeFile(full, content, 'utf8')
  }
}

const vectors = await loadVectors()
const dirs = new TempDirs()
afterAll(() => dirs.removeAll())

describe('flytekit golden vectors', () => {
  test('the fixture holds the vectors', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(48)
  })

  test.each(vectors.map((v) => [v.id, v] as const))('%s', async (_id, vector) => {
    const cwd = await dirs.make('imagespec-vector-')
    await writeFiles(cwd, vector.files)
    // The vectors were generated on an x86_64 machine.
    const spec = constructImageSpec(fieldsOf(vector, cwd), { hostArch: 'x64' })

    const result = await computeTag(spec, cwd)

    expect(result.hashInput).toBe(vector.hash_input)
    expect(result.tag).toBe(vector.expected_tag)
    expect(result.image).toBe(vector.expected_image)
    expect(result.idHashInput).toBe(vector.id_hash_input)
    expect(computeSpecId(spec).hashInput).toBe(vector.id_hash_input)
    if (vector.expected_id !== null) expect(result.id).toBe(vector.expected_id)
  })
})
