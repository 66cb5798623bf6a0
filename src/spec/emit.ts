import { PyDate, PyDateTime, PyDict, PyEnum, PyTuple, type PyValue } from '../pyvalues/values.js'
import { floatRepr } from '../pyvalues/repr.js'
import { SPEC_FIELDS, YamlCopyMode, type ImageSpec } from './model.js'

/**
 * ImageSpec -> YAML that PyYAML's safe_load reads back to exactly the same Python values, so that
 * `pyflyte register --image <file>` computes the tag this action computed, inline inputs included. Every scalar
 * says what it is: strings are double-quoted (YAML 1.1 would read `3.10`, `yes` or `0755` as numbers and
 * booleans), floats and ints carry explicit tags, containers are written in flow style.
 */
export class NotExpressibleInYaml extends Error {}

// JSON escapes are YAML double-quoted escapes; beyond JSON's, PyYAML refuses these characters raw.
const UNSAFE = /[\u007f-\u009f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]/gu

function quoted(s: string): string {
  return JSON.stringify(s).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

function float(x: number): string {
  if (Number.isNaN(x)) return '!!float .nan'
  if (!Number.isFinite(x)) return x > 0 ? '!!float .inf' : '!!float -.inf'
  return `!!float ${floatRepr(x)}`
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/** A YAML 1.1 timestamp PyYAML reads back as the same datetime (6 fraction digits keep the microseconds). */
function dateTime(v: PyDateTime): string {
  const date = `${pad(v.year, 4)}-${pad(v.month, 2)}-${pad(v.day, 2)}`
  const time = `${pad(v.hour, 2)}:${pad(v.minute, 2)}:${pad(v.second, 2)}.${pad(v.microsecond, 6)}`
  if (v.offsetMinutes === null) return `${date}T${time}`
  if (v.offsetMinutes === 0) return `${date}T${time}Z`
  const abs = Math.abs(v.offsetMinutes)
  return `${date}T${time}${v.offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`
}

export function emitValue(v: PyValue): string {
  if (v === null) return '~'
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (typeof v === 'bigint') return `!!int ${v}`
  if (typeof v === 'number') return float(v)
  if (typeof v === 'string') return quoted(v)
  if (Array.isArray(v)) return `[${v.map(emitValue).join(', ')}]`
  if (v instanceof PyDict) return `{${[...v].map(([k, x]) => `${emitValue(k)}: ${emitValue(x)}`).join(', ')}}`
  if (v instanceof PyDate) return `${pad(v.year, 4)}-${pad(v.month, 2)}-${pad(v.day, 2)}`
  if (v instanceof PyDateTime) return dateTime(v)
  if (v instanceof PyEnum) {
    throw new NotExpressibleInYaml(
      `${v.className}.${v.name} is a Python enum member; YAML can only hold a string`,
    )
  }
  if (v instanceof PyTuple) throw new NotExpressibleInYaml('a tuple cannot be written in YAML')
  throw new NotExpressibleInYaml(`cannot write ${String(v)}`)
}

function fieldValue(spec: ImageSpec, field: (typeof SPEC_FIELDS)[number]): PyValue | undefined {
  const value = spec[field]
  if (value === undefined) return undefined
  if (field === 'base_image' && typeof value === 'object') return specMapping(value as ImageSpec)
  if (field === 'source_copy_mode') {
    if (value instanceof YamlCopyMode) return value.text
    throw new NotExpressibleInYaml(
      `source_copy_mode ${String(value)} came from the 'source-copy-mode' input, where it is flytekit's enum; a YAML file can only hold a string, which flytekit hashes differently: set source_copy_mode in the spec file instead`,
    )
  }
  return value as PyValue
}

function specMapping(spec: ImageSpec): PyDict {
  const out = new PyDict()
  for (const field of SPEC_FIELDS) {
    // pip_secret_mounts holds tuples, which YAML cannot write; flytekit leaves it out of the tag anyway.
    if (field === 'pip_secret_mounts') continue
    const value = fieldValue(spec, field)
    if (value !== undefined) out.set(field, value)
  }
  return out
}

/** The spec as a YAML document (one field per line), or NotExpressibleInYaml saying why it cannot be. */
export function emitSpecYaml(spec: ImageSpec): string {
  const lines = [...specMapping(spec)].map(([k, v]) => `${k as string}: ${emitValue(v)}`)
  return `# ImageSpec as this action resolved it (spec file and inline inputs): pyflyte reads it to the same tag.\n${lines.join('\n')}\n`
}
