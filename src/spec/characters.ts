/**
 * Characters in a spec that are almost never meant: invisible ones (zero-width spaces, joiners, bidi controls,
 * which can make text show differently from what it is) anywhere, and any non-ASCII character in a value whose
 * grammar is ASCII (image names, registries, package names), where a Cyrillic `р` or a fullwidth `ｐ` looks
 * like the letter it imitates but names something else. Each is reported with its code point, its name and its
 * position, because the value itself looks right on screen.
 */
import { strRepr } from '../pyvalues/repr.js'
import { unicodeName } from './unicode-names.js'

export interface OddChar {
  /** `U+0440 CYRILLIC SMALL LETTER ER`. */
  description: string
  /** 1-based, in code points (what a reader counts on screen). */
  position: number
}

/**
 * Invisible: Unicode's default-ignorable code points (drawn as nothing when not supported: U+200B, U+2060,
 * U+FEFF, variation selectors, tag characters, Hangul fillers…) and the bidi controls (U+202A..U+202E,
 * U+2066..U+2069, U+200E, U+200F, U+061C).
 */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]/u

/** Names Python has no `unicodedata.name` for: the control characters (their Unicode name aliases). */
const CONTROL_NAMES: ReadonlyMap<number, string> = new Map([
  [0x00, 'NULL'],
  [0x09, 'CHARACTER TABULATION'],
  [0x0a, 'LINE FEED'],
  [0x0b, 'LINE TABULATION'],
  [0x0c, 'FORM FEED'],
  [0x0d, 'CARRIAGE RETURN'],
  [0x1b, 'ESCAPE'],
  [0x7f, 'DELETE'],
  [0x85, 'NEXT LINE'],
])

const SCRIPTS: [RegExp, string][] = [
  [/\p{Script=Latin}/u, 'Latin'],
  [/\p{Script=Greek}/u, 'Greek'],
  [/\p{Script=Cyrillic}/u, 'Cyrillic'],
  [/\p{Script=Armenian}/u, 'Armenian'],
  [/\p{Script=Cherokee}/u, 'Cherokee'],
]

/** `U+0440 CYRILLIC SMALL LETTER ER`, or `U+1D5BA (a non-ASCII letter)` for a character without a name here. */
export function describeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0
  const code = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`
  const name = CONTROL_NAMES.get(cp) ?? unicodeName(cp)
  return name === undefined ? `${code} (${kindOf(ch)})` : `${code} ${name}`
}

function kindOf(ch: string): string {
  if (/\p{Cc}/u.test(ch)) return 'a control character'
  if (/\p{Cs}/u.test(ch)) return 'a lone surrogate, which is not Unicode text'
  if (INVISIBLE.test(ch)) return 'an invisible character'
  const script = SCRIPTS.find(([re]) => re.test(ch))?.[1]
  if (/\p{L}/u.test(ch))
    return script ? `${/^[AEIOU]/.test(script) ? 'an' : 'a'} ${script} letter` : 'a non-ASCII letter'
  if (/\p{N}/u.test(ch)) return 'a non-ASCII digit'
  if (/\p{Z}/u.test(ch)) return 'a non-ASCII space'
  if (/\p{P}/u.test(ch)) return 'a non-ASCII punctuation mark'
  if (/\p{M}/u.test(ch)) return 'a combining mark'
  return 'a non-ASCII character'
}

export function invisibleChars(text: string): OddChar[] {
  const found: OddChar[] = []
  let position = 0
  for (const ch of text) {
    position++
    if (INVISIBLE.test(ch)) found.push({ description: describeChar(ch), position })
  }
  return found
}

/**
 * Non-ASCII characters, and any invisible ones, in the parts of `text` that must be ASCII. `strict` lists
 * [start, end) code point ranges; the whole text when omitted.
 */
export function nonAsciiChars(text: string, strict?: [number, number][]): OddChar[] {
  const inStrict = (i: number) => !strict || strict.some(([from, to]) => i >= from && i < to)
  const found: OddChar[] = []
  let position = 0
  for (const ch of text) {
    position++
    const odd = (ch.codePointAt(0) ?? 0) > 0x7f && (INVISIBLE.test(ch) || inStrict(position - 1))
    if (odd) found.push({ description: describeChar(ch), position })
  }
  return found
}

/**
 * `'numрy' has U+0440 CYRILLIC SMALL LETTER ER at position 4`. The value is shown as Python's repr, which
 * escapes invisible characters (`'a\u200bb'`), so the message itself cannot be reordered or hidden.
 */
export function describeOddChars(value: string, found: OddChar[]): string {
  const shown = found.slice(0, 3).map((c) => `${c.description} at position ${c.position}`)
  const more = found.length > 3 ? ` and ${found.length - 3} more` : ''
  return `${strRepr(value)} has ${joinAnd(shown)}${more}`
}

function joinAnd(items: string[]): string {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`
}

/**
 * The code point ranges of a requirement (a pip or conda package, a channel) that must be ASCII: the name at the
 * start, up to the first blank, `@`, `;` or path separator, and the host of each URL in it. A path or a URL path
 * may hold any character (`./libs/café`), so only invisible characters count there.
 */
export function requirementStrictRanges(item: string): [number, number][] {
  const chars = [...item]
  const nameEnd = chars.findIndex((ch) => /[\s@;/\\]/.test(ch))
  const ranges: [number, number][] = [[0, nameEnd === -1 ? chars.length : nameEnd]]
  for (let i = 0; i + 2 < chars.length; i++) {
    if (chars[i] !== ':' || chars[i + 1] !== '/' || chars[i + 2] !== '/') continue
    let end = i + 3
    while (end < chars.length && !/[/?#\s]/.test(chars[end] as string)) end++
    // The host follows any user:password@ part.
    const at = chars.lastIndexOf('@', end - 1)
    ranges.push([at >= i + 3 ? at + 1 : i + 3, end])
  }
  return ranges
}

/** `value` for a message, with the password or token of any URL in it replaced by `***`. */
export function redactUrls(value: string): string {
  return value.replace(/(:\/\/)[^/?#\s@]*@/g, '$1***@')
}

/** Levenshtein distance, for suggesting the field a misspelt key meant. */
export function editDistance(a: string, b: string): number {
  const x = [...a]
  const y = [...b]
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j)
  for (let i = 1; i <= x.length; i++) {
    const current = [i]
    for (let j = 1; j <= y.length; j++) {
      const substitution = (previous[j - 1] as number) + (x[i - 1] === y[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution))
    }
    previous = current
  }
  return previous[y.length] as number
}
