import { describe, expect, test } from '@jest/globals'
import fc from 'fast-check'
import { splitShellWords } from '../../src/dockerfile/shellwords.js'
import { shellWords } from './shell.js'

describe('splitShellWords', () => {
  test.each([
    ['--pre --no-cache-dir', ['--pre', '--no-cache-dir']],
    ['  --config-settings "a=b c"  ', ['--config-settings', 'a=b c']],
    ['\'$(id)\' "\\$HOME" a\\ b', ['$(id)', '$HOME', 'a b']],
    ['"" x', ['', 'x']],
    ['a\\\nb', ['ab']],
    ["'a\\\nb' \"c\\\nd\" 'e\nf'", ['a\\\nb', 'cd', 'e\nf']],
    ['"a\\b"', ['a\\b']],
    ['x;y|z', ['x;y|z']],
    ['', []],
  ])('%j', (text, words) => {
    expect(splitShellWords(text)).toEqual({ words })
  })

  test.each(["'open", '"open', 'a "b'])('%j has an unterminated quote', (text) => {
    expect(splitShellWords(text)).toHaveProperty('error')
  })

  test('a newline outside quotes separates words like a blank', () => {
    expect(splitShellWords('--pre\n--no-deps')).toEqual({ words: ['--pre', '--no-deps'] })
  })

  // Text without expansions or operators means the same to sh whether it is code or data, so sh is the oracle.
  // (Newlines are left out: to sh an unquoted one ends the command; the examples above cover them.)
  const pieces = fc.constantFrom(
    'a',
    'B',
    '-',
    '=',
    '.',
    '/',
    '*',
    ' ',
    '  ',
    '\t',
    "'",
    '"',
    '\\',
    'é',
    '😀',
  )
  const text = fc.array(pieces, { maxLength: 24 }).map((p) => p.join(''))

  test('splits like sh does', () => {
    fc.assert(
      fc.property(text, (t) => {
        const split = splitShellWords(t)
        if ('error' in split) {
          expect(() => shellWords(t)).toThrow()
        } else {
          expect(split.words).toEqual(shellWords(t))
        }
      }),
      { numRuns: 300 },
    )
  })
})
