/**
 * Quoting for each place a value can take in the generated Dockerfile. flytekit's template pastes values in as
 * they are (`ENV K=v`, `apt-get install <pkgs>`), so a newline or a quote in a spec value can end the instruction
 * and start another. Here every value either goes through the quoting for its position or is rejected.
 *
 * Every value goes on one physical line. BuildKit splits a Dockerfile on LF only (dropping a trailing CR), joins a
 * line that ends in `\` (plus blanks) to the next one, and finds heredocs (`<<EOF`) in RUN/COPY/ADD lines after its
 * own rough shell-word split with an empty environment. Each helper below keeps those three out of reach.
 */

/**
 * Characters that never appear in the output, even quoted: C0 controls other than TAB, DEL, the C1 controls
 * (NEL among them), the Unicode line and paragraph separators, and lone surrogates (not encodable as UTF-8). They
 * are the characters that BuildKit, editors or diff viewers may take for a line break, and none has a quoted form
 * in ENV values or shell words that fits on one line.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE_CHAR = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]|\p{Cs}/u

/** `U+000A`-style name of the first character that cannot be written into a Dockerfile line, if any. */
export function firstUnsafeChar(value: string): string | undefined {
  const m = UNSAFE_CHAR.exec(value)
  return m ? codePointName(m[0]) : undefined
}

export function codePointName(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
}

/** Words that mean the same to every POSIX shell whether quoted or not (no globbing, expansion or operators). */
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/

/**
 * One argument for a shell-form RUN, POSIX single-quoted unless it is plain. Inside single quotes nothing is
 * special to sh, and BuildKit's word splitter treats `'...'` the same way, so it sees one word starting with a
 * quote: never a heredoc marker. The caller has rejected characters from firstUnsafeChar.
 */
export function shQuote(word: string): string {
  return PLAIN_WORD.test(word) ? word : singleQuote(word)
}

/**
 * `word` in POSIX single quotes, always. Used for a word in command position (the interpreter of python_exec),
 * where quoting keeps `if` from being a reserved word and `A=b` from being an assignment.
 */
export function singleQuote(word: string): string {
  return `'${splitLessThans(word.replaceAll("'", `'\\''`))}'`
}

/**
 * `<<` as `<''<`: the same text to sh, but no `<<` for a Dockerfile tool that looks for heredoc markers in
 * blank-separated tokens without regard to quotes (dockerfile-ast does; BuildKit honours the quotes).
 */
function splitLessThans(quotedBody: string): string {
  return quotedBody.replace(/<(?=<)/g, "<''")
}

/**
 * An ENV value in Dockerfile double quotes. BuildKit's word lexer honours `\"`, `\\` and `\$` inside double quotes
 * and keeps every other character as it is, so the value reaches the image unchanged and is never expanded
 * (flytekit writes `K=v` unquoted, so there `$X` expands and a space breaks the build).
 */
export function dockerfileDoubleQuote(value: string): string {
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`
}

/**
 * Environment variable names the ENV line holds as they are. BuildKit splits ENV arguments into words at blanks,
 * cuts each word at its first `=`, and runs the name through its word lexer as well (quotes, backslashes and `$`
 * would change it), so a name keeps to characters none of that touches, and starts with a letter, digit or `_`.
 * That is wider than POSIX (`10`, `my.var` and `A-B` are names Docker keeps and programs can read, though no
 * shell can expand them) and narrower than Docker, which takes any name without `=`.
 */
const ENV_NAME_WORD = /^[A-Za-z0-9_][A-Za-z0-9_.:@%+,/-]*$/
const ENV_NAME_CHAR = /[A-Za-z0-9_.:@%+,/-]/

/** The first character that keeps `name` out of an ENV line, with its 1-based position; `''` for an empty name. */
export function envNameObstacle(name: string): { char: string; position: number } | undefined {
  if (ENV_NAME_WORD.test(name)) return undefined
  if (name === '') return { char: '', position: 0 }
  let position = 0
  for (const ch of name) {
    position++
    const allowed = position === 1 ? /[A-Za-z0-9_]/.test(ch) : ENV_NAME_CHAR.test(ch)
    if (!allowed) return { char: ch, position }
  }
  return undefined
}

export type EnvValueObstacle = {
  char: string
  position: number
  kind: 'line break' | 'NUL' | 'surrogate' | 'raw only'
}

/**
 * The first character an ENV value cannot carry, and why. Inside Dockerfile double quotes BuildKit keeps every
 * character but three it escapes, and has no escape for any other: a line break ends the instruction, NUL and
 * lone surrogates are not text an environment can hold, and the other characters of UNSAFE_CHAR could only be
 * written raw, which this generator never does (see the top of this file).
 */
export function envValueObstacle(value: string): EnvValueObstacle | undefined {
  let position = 0
  for (const ch of value) {
    position++
    if (!UNSAFE_CHAR.test(ch)) continue
    const kind =
      ch === '\n' || ch === '\r'
        ? 'line break'
        : ch === '\0'
          ? 'NUL'
          : /\p{Cs}/u.test(ch)
            ? 'surrogate'
            : 'raw only'
    return { char: ch, position, kind }
  }
  return undefined
}

/** Values BuildKit's lexer leaves alone unquoted: no quotes, backslash, `$` or blanks. */
const PLAIN_ENV_VALUE = /^[A-Za-z0-9_@%+=:,./-]+$/

/** An ENV value: as it is when plain (flytekit's `K=v` spelling), else double-quoted. */
export function envValue(value: string): string {
  return PLAIN_ENV_VALUE.test(value) ? value : dockerfileDoubleQuote(value)
}

/**
 * A JSON array for ENTRYPOINT or COPY, spaced like Python's json.dumps. JSON escapes every control character; DEL,
 * the C1 controls and U+2028/U+2029 are escaped too so that the line holds printable text only, and `<` so that
 * no tool can mistake a `<<X` in it for a heredoc.
 */
export function jsonArray(items: string[]): string {
  const json = items.map((s) =>
    JSON.stringify(s).replace(
      /[<\u007f-\u009f\u2028\u2029]/g,
      (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
    ),
  )
  return `[${json.join(', ')}]`
}

/** Argument text of printf's `%b` that prints `s`: backslashes doubled, risky characters as octal bytes. */
function printfBEscape(s: string): string {
  let out = ''
  for (const ch of s) {
    if (ch === '\\') out += '\\\\'
    else if (ch === '\n') out += '\\n'
    else if (ch === '<' || UNSAFE_CHAR.test(ch)) out += octalBytes(ch)
    else out += ch
  }
  return out
}

function octalBytes(ch: string): string {
  return [...Buffer.from(ch, 'utf8')].map((b) => `\\0${b.toString(8).padStart(3, '0')}`).join('')
}

/**
 * Whether a `commands` entry can go into the RUN line as it is. It cannot when it holds a line break or another
 * unsafe character, when it holds `<` (BuildKit would see `<<X`, even one spelled `<$a<X`, as a heredoc and swallow
 * the following instructions), when it ends in a backslash (a line continuation), or, as the first command, when
 * it starts with `--` (BuildKit would read it as another RUN flag such as `--mount` or `--network`).
 */
export function isVerbatimSafe(command: string, first: boolean): boolean {
  if (UNSAFE_CHAR.test(command) || command.includes('<')) return false
  if (/\\[ \t]*$/.test(command)) return false
  // A first command starting with `--` would read as a RUN flag; one starting with `\` is read so by some
  // Dockerfile parsers (BuildKit only takes a literal `--`): encode both rather than rely on either reading.
  return !(first && /^[ \t]*(--|\\)/.test(command))
}

/** Shell variable the encoded form of a command goes through. */
export const ENCODED_COMMAND_VAR = '__imagespec_cmd'

/**
 * A `commands` entry as shell text for the RUN line. `commands` are shell by design, so a safe entry is kept as
 * written (as flytekit does). Any other entry runs as exactly the same script through printf and eval: the line
 * then holds only a single-quoted printf argument in which newlines, `<` and unsafe characters are escapes.
 * NUL and lone surrogates have no place in a shell script and are rejected before this.
 */
export function runnableCommand(command: string, first: boolean): string {
  if (isVerbatimSafe(command, first)) return command
  const v = ENCODED_COMMAND_VAR
  return `${v}=$(printf '%b' ${singleQuote(printfBEscape(command))}) && eval "$${v}"`
}

/**
 * Docker's image reference grammar (distribution/reference): optional registry host (name or [IPv6], optional
 * port), lower-case path components, optional tag, optional digest. Anything else, `${ARG}` included, is refused
 * before it reaches a FROM line.
 */
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const TAG = '[\\w][\\w.-]{0,127}'
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}'
const IMAGE_REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`,
)

export function isImageReference(ref: string): boolean {
  const name = ref.split('@')[0]?.replace(/:[\w][\w.-]{0,127}$/, '') ?? ''
  return name.length <= 255 && IMAGE_REFERENCE.test(ref)
}
