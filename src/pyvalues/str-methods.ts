/**
 * Python str methods whose JavaScript look-alikes differ. `String.prototype.trim` strips U+FEFF and keeps
 * U+001C..U+001F and U+0085; Python's `str.strip()` does the opposite, and flytekit strips .dockerignore lines
 * with it.
 */

/** Code points for which Python 3.11's `str.isspace()` is true (a stable set since Unicode 6.3). */
const PY_WHITESPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002,
  0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
])

export function isPySpace(ch: string): boolean {
  return PY_WHITESPACE.has(ch.codePointAt(0) as number)
}

/** Python `s.strip()` with no argument. */
export function pyStrip(s: string): string {
  let start = 0
  let end = s.length
  // Every Python whitespace character is in the BMP, so UTF-16 indexing is safe here.
  while (start < end && isPySpace(s[start] as string)) start++
  while (end > start && isPySpace(s[end - 1] as string)) end--
  return s.slice(start, end)
}
