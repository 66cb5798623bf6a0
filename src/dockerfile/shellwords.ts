/**
 * Splits `pip_extra_args` into words. flytekit pastes the string into the install command, so the shell splits
 * it; here it is split once, up front, with the shell's quoting rules (blanks separate words; '...' is literal;
 * "..." honours \" \\ \$ \`; a backslash outside quotes escapes the next character) but without expansion or
 * operators, and each word is quoted again for the RUN line. `--no-cache-dir --config-settings "a=b c"` keeps its
 * meaning; `$(cmd)`, `;` and `|` become literal text that pip rejects instead of shell code that runs.
 */
export type SplitResult = { words: string[] } | { error: string }

const BLANK = new Set([' ', '\t', '\n'])
const DOUBLE_QUOTE_ESCAPABLE = new Set(['$', '`', '"', '\\', '\n'])

export function splitShellWords(text: string): SplitResult {
  const words: string[] = []
  let word = ''
  let inWord = false
  let i = 0
  const chars = [...text]
  while (i < chars.length) {
    const ch = chars[i] as string
    if (BLANK.has(ch)) {
      if (inWord) words.push(word)
      word = ''
      inWord = false
      i++
      continue
    }
    if (ch === '\\' && chars[i + 1] === '\n') {
      // Backslash-newline is a line continuation: both characters disappear.
      i += 2
      continue
    }
    inWord = true
    if (ch === "'") {
      const end = chars.indexOf("'", i + 1)
      if (end < 0) return { error: 'has an unterminated single quote' }
      word += chars.slice(i + 1, end).join('')
      i = end + 1
    } else if (ch === '"') {
      const r = readDoubleQuoted(chars, i + 1)
      if (r === undefined) return { error: 'has an unterminated double quote' }
      word += r.text
      i = r.next
    } else if (ch === '\\' && i + 1 < chars.length) {
      word += chars[i + 1]
      i += 2
    } else {
      word += ch
      i++
    }
  }
  if (inWord) words.push(word)
  return { words }
}

function readDoubleQuoted(chars: string[], start: number): { text: string; next: number } | undefined {
  let text = ''
  let i = start
  while (i < chars.length) {
    const ch = chars[i] as string
    if (ch === '"') return { text, next: i + 1 }
    if (ch === '\\' && i + 1 < chars.length && DOUBLE_QUOTE_ESCAPABLE.has(chars[i + 1] as string)) {
      if (chars[i + 1] !== '\n') text += chars[i + 1]
      i += 2
      continue
    }
    text += ch
    i++
  }
  return undefined
}
