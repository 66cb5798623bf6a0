import { COPY_MODES, SPEC_FIELDS, YamlCopyMode, type ImageSpec } from '../spec/model.js'
import { PyDate, PyDateTime, PyDict, PyEnum, PyTuple, type PyValue } from '../pyvalues/values.js'
import type { Encoded } from './python.js'

/**
 * An ImageSpec's fields in the tagged JSON that crosses to Python (the reverse of python.ts's decode), so that
 * flytekit can rebuild the same ImageSpec. A nested base spec travels inline.
 */
export type SpecEncoded = [string, Encoded | { imagespec: SpecEncoded }][]

export function encodeSpec(spec: ImageSpec): SpecEncoded {
  const out: SpecEncoded = []
  for (const field of SPEC_FIELDS) {
    const value = spec[field]
    if (value === undefined) continue
    if (field === 'base_image' && typeof value === 'object')
      out.push([field, { imagespec: encodeSpec(value as ImageSpec) }])
    else if (field === 'source_copy_mode') out.push([field, copyMode(value as ImageSpec['source_copy_mode'])])
    else if (field === 'pip_secret_mounts') {
      out.push([field, (value as [string, string][]).map((pair) => ({ tuple: [...pair] }))])
    } else out.push([field, encodeValue(value as PyValue)])
  }
  return out
}

function copyMode(mode: ImageSpec['source_copy_mode']): Encoded {
  if (mode instanceof YamlCopyMode) return mode.text
  const name = mode as keyof typeof COPY_MODES
  return { enum: ['CopyFileDetection', name, Number(COPY_MODES[name])] }
}

export function encodeValue(value: PyValue): Encoded {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value
  if (typeof value === 'bigint') return { int: value.toString() }
  if (typeof value === 'number') return { float: floatRepr(value) }
  if (Array.isArray(value)) return value.map(encodeValue)
  if (value instanceof PyTuple) return { tuple: value.items.map(encodeValue) }
  if (value instanceof PyDict) return { dict: [...value].map(([k, v]) => [encodeValue(k), encodeValue(v)]) }
  if (value instanceof PyEnum) return { enum: [value.className, value.name, Number(value.value)] }
  if (value instanceof PyDate || value instanceof PyDateTime) {
    throw new TypeError('a date cannot be handed to flytekit by the self-check')
  }
  throw new TypeError(`unexpected value ${String(value)}`)
}

/** Text Python's float() reads back to the same number. */
function floatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan'
  if (n === Infinity) return 'inf'
  if (n === -Infinity) return '-inf'
  return String(n)
}
