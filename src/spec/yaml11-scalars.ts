/**
 * PyYAML's YAML 1.1 scalar rules: the implicit resolvers of yaml/resolver.py (which tag a plain scalar gets)
 * and the SafeConstructor methods of yaml/constructor.py (which Python value a tagged scalar becomes).
 * flytekit reads spec files with `yaml.safe_load`, so `3.10` must become the float 3.1, `on` True and
 * `1e5` a string, exactly as there.
 */
import { pyStrip } from '../pyvalues/str-methods.js'
import { PyDate, PyDateTime, type PyValue } from '../pyvalues/values.js'

export const YAML_TAG_PREFIX = 'tag:yaml.org,2002:'
export const TAGS = {
  str: `${YAML_TAG_PREFIX}str`,
  int: `${YAML_TAG_PREFIX}int`,
  float: `${YAML_TAG_PREFIX}float`,
  bool: `${YAML_TAG_PREFIX}bool`,
  null: `${YAML_TAG_PREFIX}null`,
  timestamp: `${YAML_TAG_PREFIX}timestamp`,
  merge: `${YAML_TAG_PREFIX}merge`,
  value: `${YAML_TAG_PREFIX}value`,
  seq: `${YAML_TAG_PREFIX}seq`,
  map: `${YAML_TAG_PREFIX}map`,
  set: `${YAML_TAG_PREFIX}set`,
  omap: `${YAML_TAG_PREFIX}omap`,
  pairs: `${YAML_TAG_PREFIX}pairs`,
  binary: `${YAML_TAG_PREFIX}binary`,
} as const

/** A scalar PyYAML would fail to construct (its ValueError, KeyError or ConstructorError). */
export class ScalarError extends Error {
  override name = 'ScalarError'
}

interface ImplicitResolver {
  tag: string
  /** PyYAML only tries a resolver when the scalar's first character is in this list ('' for the empty scalar). */
  first: string
  regex: RegExp
}

// The regexes of resolver.py with re.X whitespace removed, in registration order (the first match wins).
// Python's `$` also matches before one trailing newline, hence `\n?$`.
const IMPLICIT_RESOLVERS: ImplicitResolver[] = [
  {
    tag: TAGS.bool,
    first: 'yYnNtTfFoO',
    regex: /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)\n?$/,
  },
  {
    tag: TAGS.float,
    first: '-+0123456789.',
    regex:
      /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\n?$/,
  },
  {
    tag: TAGS.int,
    first: '-+0123456789',
    regex:
      /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)\n?$/,
  },
  { tag: TAGS.merge, first: '<', regex: /^(?:<<)\n?$/ },
  { tag: TAGS.null, first: '~nN', regex: /^(?:~|null|Null|NULL|)\n?$/ },
  {
    tag: TAGS.timestamp,
    first: '0123456789',
    regex:
      /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9]{2})?))?)\n?$/,
  },
  { tag: TAGS.value, first: '=', regex: /^(?:=)\n?$/ },
]

/** BaseResolver.resolve for a scalar whose tag is implicit (plain, or the non-specific `!`). */
export function resolveImplicit(value: string): string {
  const first = value === '' ? '' : (value[0] as string)
  for (const r of IMPLICIT_RESOLVERS) {
    const applies = first === '' ? r.tag === TAGS.null : r.first.includes(first)
    if (applies && r.regex.test(value)) return r.tag
  }
  return TAGS.str
}

/** SafeConstructor for a scalar of one of the tags it knows; undefined for tags it has no constructor for. */
export function constructScalar(tag: string, value: string): PyValue | undefined {
  switch (tag) {
    case TAGS.str:
      return value
    case TAGS.null:
      return null
    case TAGS.bool:
      return constructBool(value)
    case TAGS.int:
      return constructInt(value)
    case TAGS.float:
      return constructFloat(value)
    case TAGS.timestamp:
      return constructTimestamp(value)
    default:
      return undefined
  }
}

const BOOL_VALUES: Record<string, boolean> = {
  yes: true,
  no: false,
  true: true,
  false: false,
  on: true,
  off: false,
}

function constructBool(value: string): boolean {
  const b = BOOL_VALUES[value.toLowerCase()]
  if (b === undefined)
    throw new ScalarError(`'${value}' is not a YAML 1.1 boolean (yes/no, true/false, on/off)`)
  return b
}

/** construct_yaml_int: underscores dropped, then 0b/0x/leading-0 octal/sexagesimal (base 60) or decimal. */
export function constructInt(raw: string): bigint {
  let value = raw.replaceAll('_', '')
  if (value === '') throw new ScalarError('an empty string is not an integer')
  const sign = value[0] === '-' ? -1n : 1n
  if (value[0] === '-' || value[0] === '+') value = value.slice(1)
  if (value === '0') return 0n
  if (value.startsWith('0b')) return sign * pyInt(value.slice(2), 2)
  if (value.startsWith('0x')) return sign * pyInt(value.slice(2), 16)
  if (value === '') throw new ScalarError(`'${raw}' is not an integer`)
  if (value[0] === '0') return sign * pyInt(value, 8)
  if (value.includes(':')) {
    let total = 0n
    for (const part of value.split(':')) total = total * 60n + pyInt(part, 10)
    return sign * total
  }
  return sign * pyInt(value, 10)
}

const DIGITS: Record<number, RegExp> = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }
const PREFIXES: Record<number, string> = { 2: '0b', 8: '0o', 16: '0x' }

/**
 * Python `int(s, base)` on a string without underscores: surrounding whitespace, one sign and the base's
 * own prefix are allowed. (Python also takes non-ASCII decimal digits; those are rejected here, which can
 * only turn a value PyYAML accepts into an error, never into a different value.)
 */
function pyInt(raw: string, base: 2 | 8 | 10 | 16): bigint {
  let s = pyStrip(raw)
  let negative = false
  if (s[0] === '-' || s[0] === '+') {
    negative = s[0] === '-'
    s = s.slice(1)
  }
  const prefix = PREFIXES[base]
  if (prefix !== undefined && s.toLowerCase().startsWith(prefix)) s = s.slice(2)
  if (!(DIGITS[base] as RegExp).test(s))
    throw new ScalarError(`invalid literal for int() with base ${base}: '${raw}'`)
  const n = BigInt(prefix === undefined ? s : `${prefix}${s}`)
  return negative ? -n : n
}

/** construct_yaml_float: lower-cased, underscores dropped, .inf/.nan, sexagesimal, else Python float(). */
export function constructFloat(raw: string): number {
  let value = raw.replaceAll('_', '').toLowerCase()
  if (value === '') throw new ScalarError('an empty string is not a float')
  const sign = value[0] === '-' ? -1 : 1
  if (value[0] === '-' || value[0] === '+') value = value.slice(1)
  if (value === '.inf') return sign * Infinity
  if (value === '.nan') return NaN
  if (value.includes(':')) {
    // Same operations in the same order as PyYAML, so the double rounds the same way.
    const digits = value.split(':').map(pyFloat).reverse()
    let base = 1
    let total = 0
    for (const digit of digits) {
      total += digit * base
      base *= 60
    }
    return sign * total
  }
  return sign * pyFloat(value)
}

/** Python `float(s)` for a string without underscores (both convert decimal text with correct rounding). */
function pyFloat(raw: string): number {
  const s = pyStrip(raw).toLowerCase()
  const m = /^([-+]?)(?:(inf|infinity)|(nan)|((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[-+]?[0-9]+)?))$/.exec(s)
  if (!m) throw new ScalarError(`could not convert string to float: '${raw}'`)
  if (m[3] !== undefined) return NaN
  const magnitude = m[2] !== undefined ? Infinity : Number(m[4])
  return m[1] === '-' ? -magnitude : magnitude
}

// SafeConstructor.timestamp_regexp (re.X whitespace removed).
const TIMESTAMP =
  /^([0-9]{4})-([0-9][0-9]?)-([0-9][0-9]?)(?:(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9][0-9]?)(?::([0-9]{2}))?))?)?\n?$/

/**
 * construct_yaml_timestamp. A plain date becomes a `datetime.date`; with a time, a `datetime.datetime`: the
 * fraction cut or padded to 6 digits, `Z` the UTC singleton, `±hh[:mm]` a fixed `datetime.timezone`.
 */
function constructTimestamp(value: string): PyDate | PyDateTime {
  const m = TIMESTAMP.exec(value)
  if (!m) throw new ScalarError(`'${value}' is not a YAML timestamp`)
  const date = makeDate(Number(m[1]), Number(m[2]), Number(m[3]))
  if (m[4] === undefined) return date
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])]
  if (hour > 23) throw new ScalarError('hour must be in 0..23')
  if (minute > 59) throw new ScalarError('minute must be in 0..59')
  if (second > 59) throw new ScalarError('second must be in 0..59')
  const microsecond = m[7] ? Number(m[7].slice(0, 6).padEnd(6, '0')) : 0
  let offset: number | null = null
  if (m[9] !== undefined) {
    offset = (Number(m[10]) * 60 + Number(m[11] ?? 0)) * (m[9] === '-' ? -1 : 1)
    // datetime.timezone accepts offsets strictly inside one day.
    if (Math.abs(offset) >= 24 * 60)
      throw new ScalarError('offset must be a timedelta strictly between -24 and 24 hours')
  } else if (m[8] === 'Z') {
    offset = 0
  }
  return new PyDateTime(date.year, date.month, date.day, hour, minute, second, microsecond, offset)
}

/** `datetime.date(y, m, d)`, which raises ValueError for impossible dates. */
function makeDate(year: number, month: number, day: number): PyDate {
  if (year < 1 || year > 9999) throw new ScalarError(`year ${year} is out of range`)
  if (month < 1 || month > 12) throw new ScalarError('month must be in 1..12')
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
  if (day < 1 || day > (lengths[month - 1] as number)) throw new ScalarError('day is out of range for month')
  return new PyDate(year, month, day)
}
