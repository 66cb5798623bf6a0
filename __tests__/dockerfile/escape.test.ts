import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from '@jest/globals'
import {
  dockerfileDoubleQuote,
  envValue,
  firstUnsafeChar,
  isImageReference,
  isVerbatimSafe,
  jsonArray,
  runnableCommand,
  shQuote,
  singleQuote,
} from '../../src/dockerfile/escape.js'
import { runScript, SHELLS, shellWords } from './shell.js'

describe('shQuote', () => {
  test.each([
    ['curl', 'curl'],
    ['python=3.11', 'python=3.11'],
    ['https://host/simple', 'https://host/simple'],
    ['', "''"],
    ['a b', "'a b'"],
    ["it's", `'it'\\''s'`],
    ['$(id)', "'$(id)'"],
    ['<<EOF', "'<''<EOF'"],
    ['a<<<b', "'a<''<''<b'"],
    ['~root', "'~root'"],
    ['#x', "'#x'"],
  ])('%j -> %s', (word, quoted) => {
    expect(shQuote(word)).toBe(quoted)
  })

  test.each(SHELLS)('%s reads every quoted word back unchanged', (shell) => {
    const words = [
      'plain',
      '',
      'a b',
      "it's",
      "''",
      '"',
      '\\',
      '$HOME',
      '${x}',
      '`id`',
      '$(id)',
      '*',
      '?',
      '[a]',
      '{a,b}',
      '~',
      '#',
      ';',
      '&&',
      '|',
      'é😀',
      '\t',
      '<<EOF',
      'x\\',
    ]
    expect(shellWords(words.map(shQuote).join(' '), shell)).toEqual(words)
  })

  test('singleQuote always quotes: a command word is then neither a reserved word nor an assignment', () => {
    expect(singleQuote('if')).toBe("'if'")
    expect(singleQuote('A=b')).toBe("'A=b'")
    expect(shellWords(singleQuote("/opt/it's/python"))).toEqual(["/opt/it's/python"])
  })
})

describe('dockerfileDoubleQuote and envValue', () => {
  test('escapes exactly the characters BuildKit unescapes inside double quotes', () => {
    expect(dockerfileDoubleQuote("a\"b\\c$d ${x} 'e' `f`")).toBe('"a\\"b\\\\c\\$d \\${x} \'e\' `f`"')
  })

  test('plain values stay unquoted, as flytekit writes them', () => {
    expect(envValue('/root')).toBe('/root')
    expect(envValue('a=b:c,d')).toBe('a=b:c,d')
    expect(envValue('')).toBe('""')
    expect(envValue('two words')).toBe('"two words"')
  })
})

describe('jsonArray', () => {
  test('spaces items like json.dumps and escapes what is not printable', () => {
    expect(jsonArray([])).toBe('[]')
    expect(jsonArray(['python', '-m', 'x'])).toBe('["python", "-m", "x"]')
    expect(jsonArray(['a\nb', 'c"d', 'e\u2028f', '\u0085'])).toBe(
      '["a\\nb", "c\\"d", "e\\u2028f", "\\u0085"]',
    )
    expect(JSON.parse(jsonArray(['a\nb', 'c"d', 'e\u2028f']))).toEqual(['a\nb', 'c"d', 'e\u2028f'])
  })
})

describe('firstUnsafeChar', () => {
  test.each([
    ['a\nb', 'U+000A'],
    ['a\rb', 'U+000D'],
    ['\0', 'U+0000'],
    ['x\u0085', 'U+0085'],
    ['x\u2028', 'U+2028'],
    ['x\u2029', 'U+2029'],
    ['\u007f', 'U+007F'],
    ['\ud800', 'U+D800'],
  ])('%j contains %s', (value, name) => {
    expect(firstUnsafeChar(value)).toBe(name)
  })

  test('tabs, quotes and printable Unicode are fine', () => {
    expect(firstUnsafeChar('a\tb "c" \'d\' é 😀 \u00a0')).toBeUndefined()
  })
})

describe('isImageReference', () => {
  test.each([
    'debian:bookworm-slim',
    'ghcr.io/astral-sh/uv:0.5.1',
    'mambaorg/micromamba:2.0.3-debian12-slim',
    'localhost:5000/app',
    '127.0.0.1:5000/python:3.11-bookworm',
    '[::1]:5000/app:t',
    'registry.example.com/a/b/c@sha256:' + 'a'.repeat(64),
    'python:3.11@sha256:' + 'b'.repeat(64),
  ])('%s is valid', (ref) => {
    expect(isImageReference(ref)).toBe(true)
  })

  test.each([
    '',
    'Debian:bookworm',
    'debian:bookworm RUN x',
    'debian\nRUN id',
    '${BASE}',
    'debian:$TAG',
    '--platform=linux/arm64 debian',
    'debian:bookworm AS x',
    'a//b',
    'debian:' + 't'.repeat(129),
  ])('%j is not', (ref) => {
    expect(isImageReference(ref)).toBe(false)
  })
})

describe('runnableCommand', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'imagespec-cmd-'))
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))

  test('a one-line command stays as written (commands are shell by design)', () => {
    for (const cmd of [
      'echo hi > /tmp/x',
      'pip install "a b" && echo $HOME',
      "sed -e 's/\\./_/g' f",
      'a || b; c',
    ]) {
      expect(isVerbatimSafe(cmd, true)).toBe(true)
      expect(runnableCommand(cmd, true)).toBe(cmd)
    }
  })

  test.each([
    ['a newline', 'echo a\necho b', true],
    ['a carriage return', 'echo a\r', true],
    ['a heredoc marker', 'cat <<EOF', true],
    ['a heredoc marker spelled through a variable', 'cat <$x<EOF', true],
    ['a trailing backslash (line continuation)', 'echo a \\', true],
    ['a trailing backslash and blanks', 'echo a \\ \t', true],
    ['a leading -- (a RUN flag)', '--network=host echo', true],
    ['a leading -- and nothing special', '--mount=type=bind,source=/,target=/h', true],
    ['a U+2028', 'echo a\u2028b', true],
  ])('a command with %s is encoded', (_what, cmd, first) => {
    expect(isVerbatimSafe(cmd, first)).toBe(false)
    const encoded = runnableCommand(cmd, first)
    expect(encoded).toMatch(/^__imagespec_cmd=\$\(printf '%b' '.*'\) && eval "\$__imagespec_cmd"$/s)
    expect(encoded).not.toMatch(/[\n\r<\u2028]/)
    expect(encoded).not.toMatch(/\\[ \t]*$/)
  })

  test('a leading -- only matters for the first command', () => {
    expect(isVerbatimSafe('--version', false)).toBe(true)
  })

  const scripts = [
    'echo one\necho two',
    "if true; then\n  echo 'yes it is'\nfi",
    'cat <<EOF\nline $((1 + 2))\n  indented \\ backslash\nEOF',
    "cat <<'EOF'\n$HOME stays\nEOF\necho after",
    'x=1\r\necho "$x"',
    'printf "%s\\n" a\\\nb',
    'echo "tab\there" \'single\' "a<b" \u2028 done',
    "echo 'quote'\\''s'\necho \\\\back",
    'echo trailing \\',
  ]

  test.each(SHELLS)('%s runs the encoded form exactly as the original script', (shell) => {
    for (const script of scripts) {
      const encoded = runnableCommand(script, true)
      expect(encoded).not.toBe(script)
      expect(runScript(encoded, scratch, shell)).toBe(runScript(script, scratch, shell))
    }
  })

  test('the encoded form keeps its place in an && chain and passes on the exit status', () => {
    expect(runScript(`echo a && ${runnableCommand('echo b\necho c', false)} && echo d`, scratch)).toBe(
      'a\nb\nc\nd\n',
    )
    expect(() => runScript(`${runnableCommand('true\nexit 3', true)} && echo never`, scratch)).toThrow(
      /status 3|code 3|failed/,
    )
  })
})
