/**
 * Python's `str.format(**kwargs)` for string arguments, following CPython's Objects/stringlib/unicode_format.h
 * and the str branch of Python/formatter_unicode.c. flytekit builds the tag as
 * `tag_format.format(spec_hash=<hash>)`, so `{{`, format specs such as `{spec_hash:.8}` and conversions must
 * come out exactly as Python writes them, and whatever Python rejects must be rejected here too.
 *
 * All positions and lengths count code points, as Python does.
 */
import { pyAscii, pyRepr } from './repr.js'

/** A template Python's str.format would reject, or one this module deliberately refuses. */
export class FormatError extends Error {
  override name = 'FormatError'
}

/** CPython allows one level of nested replacement fields inside a format spec (`{x:{width}}`). */
const MAX_RECURSION = 2

export function pyFormat(template: string, kwargs: Record<string, string>): string {
  return buildString(Array.from(template), kwargs, MAX_RECURSION)
}

function buildString(chars: string[], kwargs: Record<string, string>, depth: number): string {
  if (depth <= 0)
    throw new FormatError('Max string recursion exceeded (replacement fields nested too deeply)')
  const cursor = { chars, pos: 0 }
  let out = ''
  while (cursor.pos < chars.length) {
    const { literal, field } = nextChunk(cursor)
    out += literal
    if (field) out += renderField(field, kwargs, depth)
  }
  return out
}

interface Cursor {
  chars: string[]
  pos: number
}

interface Field {
  name: string[]
  conversion?: string
  spec: string[]
  specNeedsExpanding: boolean
}

/** MarkupIterator_next: literal text up to the next `{` or `}`, and the replacement field that follows it. */
function nextChunk(c: Cursor): { literal: string; field?: Field } {
  const start = c.pos
  let brace: string | undefined
  while (c.pos < c.chars.length) {
    const ch = c.chars[c.pos++] as string
    if (ch === '{' || ch === '}') {
      brace = ch
      break
    }
  }
  const atEnd = c.pos >= c.chars.length
  if (brace === undefined) return { literal: c.chars.slice(start).join('') }
  const doubled = !atEnd && c.chars[c.pos] === brace
  if (brace === '}' && !doubled) {
    throw new FormatError(`Single '}' encountered in format string (write '}}' for a literal '}')`)
  }
  if (brace === '{' && atEnd) {
    throw new FormatError(`Single '{' encountered in format string (write '{{' for a literal '{')`)
  }
  if (doubled) {
    // `{{` or `}}`: keep one brace as literal text.
    c.pos++
    return { literal: c.chars.slice(start, c.pos - 1).join('') }
  }
  const literal = c.chars.slice(start, c.pos - 1).join('')
  return { literal, field: parseField(c) }
}

/** parse_field: `name[!conv][:spec]}` after the opening brace. */
function parseField(c: Cursor): Field {
  const nameStart = c.pos
  let stop: string | undefined
  while (c.pos < c.chars.length) {
    const ch = c.chars[c.pos++] as string
    if (ch === '{') throw new FormatError("unexpected '{' in field name")
    if (ch === '[') {
      // An index may hold any character, even ':', '!' or '}'.
      while (c.pos < c.chars.length && c.chars[c.pos] !== ']') c.pos++
      continue
    }
    if (ch === '}' || ch === ':' || ch === '!') {
      stop = ch
      break
    }
  }
  const field: Field = { name: c.chars.slice(nameStart, c.pos - 1), spec: [], specNeedsExpanding: false }
  if (stop === '}') return field
  if (stop === undefined) throw new FormatError("expected '}' before end of string")
  if (stop === '!') {
    if (c.pos >= c.chars.length) throw new FormatError('end of string while looking for conversion specifier')
    field.conversion = c.chars[c.pos++]
    if (c.pos < c.chars.length) {
      const next = c.chars[c.pos++]
      if (next === '}') return field
      if (next !== ':') throw new FormatError("expected ':' after conversion specifier")
    }
  }
  return parseSpec(c, field)
}

/** The format spec runs to the `}` that balances the field's `{`; inner braces mean nested fields. */
function parseSpec(c: Cursor, field: Field): Field {
  const specStart = c.pos
  let count = 1
  while (c.pos < c.chars.length) {
    const ch = c.chars[c.pos++]
    if (ch === '{') {
      field.specNeedsExpanding = true
      count++
    } else if (ch === '}' && --count === 0) {
      field.spec = c.chars.slice(specStart, c.pos - 1)
      return field
    }
  }
  throw new FormatError("unmatched '{' in format spec")
}

function renderField(field: Field, kwargs: Record<string, string>, depth: number): string {
  let value = lookUp(field.name, kwargs)
  if (field.conversion !== undefined) value = convert(value, field.conversion)
  const spec = field.specNeedsExpanding ? Array.from(buildString(field.spec, kwargs, depth - 1)) : field.spec
  return formatStr(value, spec)
}

function convert(value: string, conversion: string): string {
  if (conversion === 'r') return pyRepr(value)
  if (conversion === 's') return value
  if (conversion === 'a') return pyAscii(value)
  throw new FormatError(`Unknown conversion specifier ${conversion} (use !r, !s or !a)`)
}

/** get_field_object: the argument named by the part before any `.` or `[`, then each `[index]`. */
function lookUp(name: string[], kwargs: Record<string, string>): string {
  let i = 0
  while (i < name.length && name[i] !== '.' && name[i] !== '[') i++
  const first = name.slice(0, i).join('')
  if (first === '' || decimalValue(first) !== undefined) {
    throw new FormatError(
      `positional replacement field {${first}}: only named fields are available (${namedFields(kwargs)})`,
    )
  }
  if (!Object.hasOwn(kwargs, first)) {
    throw new FormatError(
      `unknown replacement field {${first}}: the available fields are ${namedFields(kwargs)}`,
    )
  }
  let value = kwargs[first] as string
  const rest = { chars: name, pos: i }
  while (rest.pos < name.length) value = applyAccessor(value, rest)
  return value
}

function namedFields(kwargs: Record<string, string>): string {
  return Object.keys(kwargs)
    .map((k) => `{${k}}`)
    .join(', ')
}

/** FieldNameIterator_next on a str value: `[n]` picks a character; attributes are refused. */
function applyAccessor(value: string, c: Cursor): string {
  const kind = c.chars[c.pos++]
  if (kind === '.') {
    // Python would look the attribute up on str; a method's repr embeds a memory address, so a tag built
    // from it could never be reproduced. Refuse every attribute instead.
    throw new FormatError("attribute access ('.name') in a replacement field is not supported")
  }
  if (kind !== '[') throw new FormatError("Only '.' or '[' may follow ']' in format field specifier")
  const start = c.pos
  while (c.pos < c.chars.length && c.chars[c.pos] !== ']') c.pos++
  if (c.pos >= c.chars.length) throw new FormatError("Missing ']' in format string")
  const key = c.chars.slice(start, c.pos).join('')
  c.pos++
  if (key === '') throw new FormatError('Empty attribute in format string')
  const index = decimalValue(key)
  if (index === undefined) throw new FormatError(`string indices must be integers, not '${key}'`)
  const chars = Array.from(value)
  if (index >= chars.length) throw new FormatError(`string index [${index}] out of range`)
  return chars[index] as string
}

/**
 * CPython's get_integer: a run of decimal digits, or undefined. (CPython also takes non-ASCII decimal
 * digits; those are treated as not-a-number here, which can only turn a Python result into an error.)
 */
function decimalValue(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined
  return Number(s)
}

interface Spec {
  fill: string
  align: string
  sign?: string
  noNegZero: boolean
  alternate: boolean
  width: number
  grouping?: string
  precision: number
  type: string
}

const ALIGNMENTS = new Set(['<', '>', '=', '^'])
const SIGNS = new Set([' ', '+', '-'])
/** Wider than any registry accepts for a tag, and small enough to never exhaust memory. */
const MAX_WIDTH = 100_000

/** parse_internal_render_format_spec with str's defaults (type 's', align '<'). */
function parseStrSpec(spec: string[]): Spec {
  const f: Spec = {
    fill: ' ',
    align: '<',
    noNegZero: false,
    alternate: false,
    width: -1,
    precision: -1,
    type: 's',
  }
  let pos = 0
  let fillSpecified = false
  if (spec.length >= 2 && ALIGNMENTS.has(spec[1] as string)) {
    f.fill = spec[0] as string
    f.align = spec[1] as string
    fillSpecified = true
    pos = 2
  } else if (spec.length >= 1 && ALIGNMENTS.has(spec[0] as string)) {
    f.align = spec[0] as string
    pos = 1
  }
  if (pos < spec.length && SIGNS.has(spec[pos] as string)) f.sign = spec[pos++]
  f.noNegZero = spec[pos] === 'z'
  if (f.noNegZero) pos++
  f.alternate = spec[pos] === '#'
  if (f.alternate) pos++
  // A leading 0 means '0' fill; for str the default alignment stays '<' (Python 3.10+).
  if (!fillSpecified && spec[pos] === '0') {
    f.fill = '0'
    pos++
  }
  ;[f.width, pos] = readInt(spec, pos)
  pos = readGrouping(spec, pos, f)
  if (spec[pos] === '.') {
    const [precision, next] = readInt(spec, pos + 1)
    if (next === pos + 1) throw new FormatError('Format specifier missing precision')
    ;[f.precision, pos] = [precision, next]
  }
  const rest = spec.slice(pos)
  if (rest.length > 1) {
    throw new FormatError(`Invalid format specifier '${spec.join('')}' for object of type 'str'`)
  }
  if (rest.length === 1) f.type = rest[0] as string
  checkGrouping(f)
  return f
}

/** Which presentation types take a thousands separator (PEP 378, PEP 515); others fail at parse time. */
function checkGrouping(f: Spec): void {
  if (f.grouping === undefined || 'defgEG%F'.includes(f.type)) return
  if (f.grouping === '_' && 'boxX'.includes(f.type)) return
  throw new FormatError(`Cannot specify '${f.grouping}' with '${f.type}'.`)
}

function readGrouping(spec: string[], pos: number, f: Spec): number {
  if (spec[pos] === ',') {
    f.grouping = ','
    pos++
  }
  if (spec[pos] === '_') {
    if (f.grouping !== undefined) throw new FormatError("Cannot specify both ',' and '_'.")
    f.grouping = '_'
    pos++
  }
  if (spec[pos] === ',' && f.grouping === '_') throw new FormatError("Cannot specify both ',' and '_'.")
  return pos
}

/** Reads decimal digits at pos; -1 when there are none. */
function readInt(spec: string[], pos: number): [number, number] {
  let end = pos
  while (end < spec.length && /^[0-9]$/.test(spec[end] as string)) end++
  if (end === pos) return [-1, pos]
  const n = Number(spec.slice(pos, end).join(''))
  if (n > MAX_WIDTH) throw new FormatError(`width or precision ${n} is too large`)
  return [n, end]
}

/** format(str, spec): format_string_internal. */
function formatStr(value: string, specChars: string[]): string {
  if (specChars.length === 0) return value
  const f = parseStrSpec(specChars)
  if (f.type !== 's') throw new FormatError(`Unknown format code '${f.type}' for object of type 'str'`)
  if (f.sign !== undefined) {
    throw new FormatError(`${f.sign === ' ' ? 'Space' : 'Sign'} not allowed in string format specifier`)
  }
  if (f.noNegZero) {
    throw new FormatError('Negative zero coercion (z) not allowed in string format specifier')
  }
  if (f.alternate) throw new FormatError('Alternate form (#) not allowed in string format specifier')
  if (f.align === '=') throw new FormatError("'=' alignment not allowed in string format specifier")
  let chars = Array.from(value)
  if (f.precision >= 0 && chars.length > f.precision) chars = chars.slice(0, f.precision)
  const total = Math.max(f.width, chars.length)
  const room = total - chars.length
  const left = f.align === '>' ? room : f.align === '^' ? Math.floor(room / 2) : 0
  return f.fill.repeat(left) + chars.join('') + f.fill.repeat(room - left)
}
