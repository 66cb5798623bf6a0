/**
 * Character names and positions in messages. Every name this action gives is checked against Python's own
 * `unicodedata.name` (the runner's python3), so a typo in the table cannot hide.
 */
import { execFileSync } from 'node:child_process'
import { describe, expect, test } from '@jest/globals'
import {
  describeChar,
  describeOddChars,
  invisibleChars,
  nonAsciiChars,
  requirementStrictRanges,
} from '../../src/spec/characters.js'

const RANGES: [number, number][] = [
  [0x0000, 0x0600],
  [0x1000, 0x1900],
  [0x2000, 0x2a00],
  [0x3000, 0x3200],
  [0xa700, 0xa800],
  [0xfe00, 0x10000],
  [0xe0000, 0xe01f0],
]

function pythonNames(codePoints: number[]): (string | null)[] {
  const script =
    'import json,sys,unicodedata as u\nprint(json.dumps([u.name(chr(c), None) for c in json.load(sys.stdin)]))'
  const out = execFileSync('python3', ['-c', script], { input: JSON.stringify(codePoints) })
  return JSON.parse(out.toString('utf8')) as (string | null)[]
}

describe('describeChar', () => {
  test("every name given is Python's unicodedata.name", () => {
    const codePoints = RANGES.flatMap(([from, to]) =>
      Array.from({ length: to - from }, (_, i) => from + i).filter((cp) => cp < 0xd800 || cp > 0xdfff),
    )
    const python = pythonNames(codePoints)
    const named: string[] = []
    const wrong: string[] = []
    codePoints.forEach((cp, i) => {
      const described = describeChar(String.fromCodePoint(cp))
      const name = /^U\+[0-9A-F]{4,6} ([^(].*)$/.exec(described)?.[1]
      // Python has no names for control characters; those are their Unicode aliases, checked below.
      if (name === undefined || cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return
      named.push(name)
      if (name !== python[i]) wrong.push(`${described} (Python: ${python[i]})`)
    })
    expect(wrong).toEqual([])
    // Latin-1, General Punctuation, Greek, Cyrillic, fullwidth, variation selectors, tags and the others.
    expect(named.length).toBeGreaterThan(900)
  })

  test.each([
    ['\u0440', 'U+0440 CYRILLIC SMALL LETTER ER'],
    ['\u200b', 'U+200B ZERO WIDTH SPACE'],
    ['\u202e', 'U+202E RIGHT-TO-LEFT OVERRIDE'],
    ['\uff41', 'U+FF41 FULLWIDTH LATIN SMALL LETTER A'],
    ['\n', 'U+000A LINE FEED'],
    ['\u0085', 'U+0085 NEXT LINE'],
    ['\u0007', 'U+0007 (a control character)'],
    ['\ud800', 'U+D800 (a lone surrogate, which is not Unicode text)'],
    ['\u{1d5ba}', 'U+1D5BA (a non-ASCII letter)'],
    ['\u0251', 'U+0251 LATIN SMALL LETTER ALPHA'],
    ['\u0250', 'U+0250 (a Latin letter)'],
    ['\u0561', 'U+0561 ARMENIAN SMALL LETTER AYB'],
    ['\u0562', 'U+0562 (an Armenian letter)'],
  ])('%j is %s', (ch, expected) => {
    expect(describeChar(ch)).toBe(expected)
  })
})

describe('finding odd characters', () => {
  test('positions count code points, as a reader counts them', () => {
    expect(nonAsciiChars('\u{1f600}x\u0440')).toEqual([
      { description: 'U+1F600 (a non-ASCII character)', position: 1 },
      { description: 'U+0440 CYRILLIC SMALL LETTER ER', position: 3 },
    ])
  })

  test('invisible characters are found anywhere; other non-ASCII only in the strict ranges', () => {
    expect(nonAsciiChars('\u00e9a\u200bb\u00e9', [[4, 5]]).map((c) => c.position)).toEqual([3, 5])
    expect(invisibleChars('a\u00a0b\u2060c\ufe0f').map((c) => c.position)).toEqual([4, 6])
  })

  test('more than three are summed up', () => {
    expect(
      describeOddChars('\u0430\u0430\u0430\u0430\u0430', nonAsciiChars('\u0430\u0430\u0430\u0430\u0430')),
    ).toBe(
      "'\u0430\u0430\u0430\u0430\u0430' has U+0430 CYRILLIC SMALL LETTER A at position 1, U+0430 CYRILLIC SMALL LETTER A at position 2 and U+0430 CYRILLIC SMALL LETTER A at position 3 and 2 more",
    )
  })

  test.each<[string, [number, number][]]>([
    ['numpy>=1.0', [[0, 10]]],
    ['numpy >= 1.0', [[0, 5]]],
    [
      'pkg @ https://user@host.example/p',
      [
        [0, 3],
        [19, 31],
      ],
    ],
    ['./libs/caf\u00e9', [[0, 1]]],
    [
      'git+https://h\u0430st/x',
      [
        [0, 10],
        [12, 16],
      ],
    ],
  ])('the ASCII-only parts of the requirement %j', (item, expected) => {
    expect(requirementStrictRanges(item)).toEqual(expected)
  })
})
