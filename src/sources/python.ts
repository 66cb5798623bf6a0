import type { SpecIssue } from '../errors.js'
import { PyDict, PyEnum, PyTuple, type PyValue } from '../pyvalues/values.js'

/**
 * What the static reader (src/python/reader.py) found in a project's Python files, turned into spec fields.
 * Values cross as tagged JSON so that nothing is lost on the way: ints as decimal text (Python ints are
 * unbounded), floats as their Python repr, tuples, dicts in insertion order, CopyFileDetection members, and a
 * nested ImageSpec as a reference to another found spec.
 */
export type Encoded =
  | null
  | boolean
  | string
  | Encoded[]
  | { int: string }
  | { float: string }
  | { tuple: Encoded[] }
  | { dict: [Encoded, Encoded][] }
  | { spec: number }
  | { enum: [string, string, number] }

export interface PyLocation {
  file: string
  line: number
  /** The module-level name it is bound to (assignments), else null. */
  name: string | null
  kind: 'assignment' | 'container_image' | 'base_image'
}

export interface ReaderSpec {
  id: number
  fields: [string, Encoded][]
  /** Where each field's value was written. */
  lines: Record<string, { file: string; line: number }>
  /** Every place the spec object is bound or used, first first. */
  locations: PyLocation[]
}

export interface ReaderError {
  file: string
  line: number
  col: number
  /** The expression's source text (or the line, for a syntax error). */
  source: string
  message: string
  syntax?: boolean
}

export interface ReaderOutput {
  /** major.minor of the Python that read the files (the one that will run register). */
  python: string
  specs: ReaderSpec[]
  errors: ReaderError[]
  modules: string[]
}

export function decode(
  value: Encoded,
  specs: ReadonlyMap<number, ReaderSpec>,
  seen = new Set<number>(),
): PyValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value
  if (Array.isArray(value)) return value.map((v) => decode(v, specs, seen))
  if ('int' in value) return BigInt(value.int)
  if ('float' in value) return pyFloat(value.float)
  if ('tuple' in value) return new PyTuple(value.tuple.map((v) => decode(v, specs, seen)))
  if ('dict' in value) {
    return new PyDict(value.dict.map(([k, v]) => [decode(k, specs, seen), decode(v, specs, seen)] as const))
  }
  if ('enum' in value) return new PyEnum(value.enum[0], value.enum[1], BigInt(value.enum[2]))
  return specDict(value.spec, specs, seen)
}

/** A nested ImageSpec as the mapping of its fields (what a YAML file's nested base_image is). */
function specDict(id: number, specs: ReadonlyMap<number, ReaderSpec>, seen: Set<number>): PyDict {
  const spec = specs.get(id)
  if (!spec || seen.has(id)) throw new Error(`the reader's output names an unknown or cyclic spec ${id}`)
  const inner = new Set([...seen, id])
  return new PyDict(spec.fields.map(([k, v]) => [k, decode(v, specs, inner)] as const))
}

/** Python's float repr back to a number: `inf`, `-inf` and `nan` are spelled differently in JavaScript. */
function pyFloat(text: string): number {
  if (text === 'inf') return Infinity
  if (text === '-inf') return -Infinity
  if (text === 'nan') return NaN
  return Number(text)
}

export interface PythonSpec {
  /** `file:line` of its first location. */
  origin: string
  fields: Map<string, PyValue>
  /** `file:line` of a field path (`packages[2]`, `base_image.env.X`), or of the spec when the field has none. */
  locate(path: string): string | undefined
  /** Where it is bound or used, `file:line (name)`. */
  locations: string[]
}

/**
 * The specs a source names itself: those bound to a module-level name or passed as container_image. A spec that
 * is only some spec's nested base_image comes in through that spec, as a nested base.
 */
export function pythonSpecs(out: ReaderOutput): { specs: PythonSpec[]; errors: SpecIssue[] } {
  const byId = new Map(out.specs.map((s) => [s.id, s] as const))
  const specs = out.specs
    .filter((s) => s.locations.some((l) => l.kind !== 'base_image'))
    .map((s) => ({
      origin: where(s.locations[0] as PyLocation),
      fields: new Map(s.fields.map(([k, v]) => [k, decode(v, byId)] as const)),
      locate: (path: string) => locateIn(s, path.split('.'), byId),
      locations: s.locations.map((l) => `${where(l)}${l.name ? ` (${l.name})` : ''}`),
    }))
  return { specs, errors: out.errors.map(refusal) }
}

function where(l: { file: string; line: number }): string {
  return `${l.file}:${l.line}`
}

function locateIn(spec: ReaderSpec, path: string[], byId: ReadonlyMap<number, ReaderSpec>): string {
  const [head = '', ...rest] = path
  const field = head.replace(/\[.*$/, '')
  if (field === 'base_image' && rest.length > 0) {
    const base = spec.fields.find(([k]) => k === 'base_image')?.[1]
    const nested = base && typeof base === 'object' && 'spec' in base ? byId.get(base.spec) : undefined
    if (nested) return locateIn(nested, rest, byId)
  }
  if (field === 'base_image' && rest.length === 0) {
    const base = spec.fields.find(([k]) => k === 'base_image')?.[1]
    const nested = base && typeof base === 'object' && 'spec' in base ? byId.get(base.spec) : undefined
    if (nested) return where(nested.locations[0] as PyLocation)
  }
  const line = spec.lines[field]
  return line ? where(line) : where(spec.locations[0] as PyLocation)
}

/** A construct the reader refused, or a syntax error, as a problem of the spec source. */
function refusal(e: ReaderError): SpecIssue {
  const location = `${e.file}:${e.line}:${e.col}`
  if (e.syntax) {
    return {
      path: '',
      location,
      message:
        `${e.message}${e.source ? `: ${e.source.trim()}` : ''}; fix the Python there ` +
        `(python3 -m py_compile ${e.file} shows the same error): register would fail to import it too`,
    }
  }
  return {
    path: '',
    location,
    message:
      `cannot be read without running code: ${e.message}${e.source ? `: \`${e.source}\`` : ''}. ` +
      'Make the value a module-level literal or constant, read it from an environment variable ' +
      '(os.environ.get), or give this image as a YAML spec',
  }
}
