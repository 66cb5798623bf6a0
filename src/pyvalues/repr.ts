/**
 * CPython's `repr()` and `str()` for the values an ImageSpec can hold. flytekit's tag is the md5 of
 * `str(dict_of_fields)`, so every byte of this output is part of the tag.
 */
import { isPrintable } from './unicode-printable.js'
import { PyDate, PyDateTime, PyDict, PyEnum, PyTuple, type PyValue } from './values.js'

export function pyRepr(v: PyValue): string {
  if (v === null) return 'None'
  if (typeof v === 'boolean') return v ? 'True' : 'False'
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') return floatRepr(v)
  if (typeof v === 'string') return strRepr(v)
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`
  if (v instanceof PyDict) return dictRepr(v)
  if (v instanceof PyTuple) return tupleRepr(v)
  if (v instanceof PyEnum) return `<${v.className}.${v.name}: ${v.value.toString()}>`
  if (v instanceof PyDate) return `datetime.date(${v.year}, ${v.month}, ${v.day})`
  if (v instanceof PyDateTime) return dateTimeRepr(v)
  throw new TypeError(`not a Python value: ${String(v)}`)
}

/** Python `str()`: a string is itself, everything else (containers, numbers, None) prints as its repr. */
export function pyStr(v: PyValue): string {
  if (typeof v === 'string') return v
  // date.__str__ is isoformat(); a plain Enum member prints as `Class.NAME`.
  if (v instanceof PyDate) return `${v.year.toString().padStart(4, '0')}-${pad2(v.month)}-${pad2(v.day)}`
  if (v instanceof PyEnum) return `${v.className}.${v.name}`
  if (v instanceof PyDateTime) return dateTimeStr(v)
  return pyRepr(v)
}

/**
 * `datetime.__repr__`: trailing zero microsecond, then second, are left out; a fixed offset prints as
 * `datetime.timezone(datetime.timedelta(...))`, and a zero offset as the `datetime.timezone.utc` singleton.
 */
function dateTimeRepr(v: PyDateTime): string {
  const parts = [v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond]
  if (parts.at(-1) === 0) parts.pop()
  if (parts.at(-1) === 0) parts.pop()
  const tz = v.offsetMinutes === null ? '' : `, tzinfo=${timezoneRepr(v.offsetMinutes)}`
  return `datetime.datetime(${parts.join(', ')}${tz})`
}

function timezoneRepr(offsetMinutes: number): string {
  if (offsetMinutes === 0) return 'datetime.timezone.utc'
  // timedelta normalises to days and non-negative seconds below a day: -05:00 is days=-1, seconds=68400.
  const total = offsetMinutes * 60
  const days = Math.floor(total / 86400)
  const seconds = total - days * 86400
  const fields = [days !== 0 ? `days=${days}` : '', seconds !== 0 ? `seconds=${seconds}` : ''].filter(Boolean)
  return `datetime.timezone(datetime.timedelta(${fields.join(', ')}))`
}

/** `datetime.__str__`: `isoformat(sep=' ')`. */
function dateTimeStr(v: PyDateTime): string {
  const date = `${v.year.toString().padStart(4, '0')}-${pad2(v.month)}-${pad2(v.day)}`
  const us = v.microsecond !== 0 ? `.${v.microsecond.toString().padStart(6, '0')}` : ''
  const time = `${pad2(v.hour)}:${pad2(v.minute)}:${pad2(v.second)}${us}`
  if (v.offsetMinutes === null) return `${date} ${time}`
  const sign = v.offsetMinutes < 0 ? '-' : '+'
  const abs = Math.abs(v.offsetMinutes)
  return `${date} ${time}${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`
}

/** Python `ascii()`: like repr, but every non-ASCII code point is escaped. */
export function pyAscii(v: PyValue): string {
  return typeof v === 'string' ? strRepr(v, true) : pyRepr(v)
}

function pad2(n: number): string {
  return n.toString().padStart(2, '0')
}

function dictRepr(d: PyDict): string {
  const items: string[] = []
  for (const [k, val] of d) items.push(`${pyRepr(k)}: ${pyRepr(val)}`)
  return `{${items.join(', ')}}`
}

function tupleRepr(t: PyTuple): string {
  // A one-element tuple keeps its trailing comma: `(a,)`.
  if (t.items.length === 1) return `(${pyRepr(t.items[0] as PyValue)},)`
  return `(${t.items.map(pyRepr).join(', ')})`
}

/**
 * `float.__repr__`: the shortest digit string that round-trips (JavaScript finds the same digits), laid out
 * with Python's rules rather than JavaScript's: scientific notation when the decimal point would sit more
 * than 16 places right or 4 or more places left of the first digit, a two-digit minimum exponent (`1e-05`),
 * and `.0` appended to integral values (`3.0`).
 */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan'
  if (x === Infinity) return 'inf'
  if (x === -Infinity) return '-inf'
  const sign = x < 0 || Object.is(x, -0) ? '-' : ''
  const { digits, decpt } = shortestDigits(Math.abs(x))
  if (decpt <= -4 || decpt > 16) return sign + scientific(digits, decpt - 1)
  return sign + fixed(digits, decpt)
}

/** The shortest round-trip digits of a finite non-negative number and where the decimal point goes. */
function shortestDigits(x: number): { digits: string; decpt: number } {
  if (x === 0) return { digits: '0', decpt: 1 }
  // Number.prototype.toString picks the shortest round-trip digits, the closest one on ties, like CPython's
  // repr; only the layout differs ("1e+21", "1.5e-7", "0.000001", "123.45"), so take it apart.
  const [mantissa, exp = '0'] = x.toString().split('e') as [string, string?]
  const dot = mantissa.indexOf('.')
  const intLen = dot === -1 ? mantissa.length : dot
  const all = mantissa.replace('.', '')
  const lead = all.length - all.replace(/^0+/, '').length
  const digits = all.slice(lead).replace(/0+$/, '')
  return { digits, decpt: intLen - lead + Number(exp) }
}

function scientific(digits: string, exp: number): string {
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
  const expSign = exp < 0 ? '-' : '+'
  return `${mantissa}e${expSign}${Math.abs(exp).toString().padStart(2, '0')}`
}

function fixed(digits: string, decpt: number): string {
  if (decpt <= 0) return `0.${'0'.repeat(-decpt)}${digits}`
  if (decpt >= digits.length) return `${digits}${'0'.repeat(decpt - digits.length)}.0`
  return `${digits.slice(0, decpt)}.${digits.slice(decpt)}`
}

/**
 * CPython `unicode_repr`: single quotes unless the text has a `'` and no `"`; the chosen quote and `\` are
 * backslashed; `\t \n \r` get their short escapes; other ASCII controls and DEL become `\xhh`; non-ASCII is
 * kept when printable (Python 3.11's notion, see unicode-printable.ts) and otherwise escaped as `\xhh`,
 * `\uhhhh` or `\Uhhhhhhhh` by size. With `asciiOnly` (Python's `ascii()`), all non-ASCII is escaped.
 */
export function strRepr(s: string, asciiOnly = false): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'"
  let out = quote
  // for..of walks code points; a lone surrogate comes through as itself (category Cs, escaped like Python).
  for (const ch of s) out += escapeChar(ch, quote, asciiOnly)
  return out + quote
}

const SHORT_ESCAPES: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' }

function escapeChar(ch: string, quote: string, asciiOnly: boolean): string {
  if (ch === quote || ch === '\\') return `\\${ch}`
  const short = SHORT_ESCAPES[ch]
  if (short !== undefined) return short
  const cp = ch.codePointAt(0) as number
  if (cp < 0x20 || cp === 0x7f) return hexEscape(cp)
  if (cp < 0x7f) return ch
  if (!asciiOnly && isPrintable(cp)) return ch
  return hexEscape(cp)
}

function hexEscape(cp: number): string {
  const hex = cp.toString(16)
  if (cp <= 0xff) return `\\x${hex.padStart(2, '0')}`
  if (cp <= 0xffff) return `\\u${hex.padStart(4, '0')}`
  return `\\U${hex.padStart(8, '0')}`
}
