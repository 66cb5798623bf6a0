/** Expected values are CPython 3.11.7 output (`repr(x)`, `str(x)`, `ascii(x)`), pasted as literals. */
import { describe, expect, test } from '@jest/globals'
import { floatRepr, pyAscii, pyRepr, pyStr } from '../../src/pyvalues/repr.js'
import { isPrintable } from '../../src/pyvalues/unicode-printable.js'
import { PyDate, PyDict, PyEnum, PyTuple } from '../../src/pyvalues/values.js'

describe('str repr (CPython unicode_repr)', () => {
  test.each([
    ['ASCII', 'plain', "'plain'"],
    ['a single quote switches to double quotes', "it's", '"it\'s"'],
    ['double quotes alone stay literal', 'say "hi"', '\'say "hi"\''],
    ["both quotes: single-quoted, ' escaped", 'both \' and "', "'both \\' and \"'"],
    ['empty', '', "''"],
    ['backslash doubled', 'back\\slash', "'back\\\\slash'"],
    ['short escapes', 'tab\tnl\ncr\r', "'tab\\tnl\\ncr\\r'"],
    ['ASCII controls and DEL', '\u0000\u0001\u001f\u007f', "'\\x00\\x01\\x1f\\x7f'"],
    ['C1 controls', '\u0080\u009f', "'\\x80\\x9f'"],
    ['no-break space (Zs)', '\u00a0nbsp', "'\\xa0nbsp'"],
    ['soft hyphen (Cf)', 'soft\u00adhyphen', "'soft\\xadhyphen'"],
    ['printable non-ASCII is literal', 'é中文🚀', "'é中文🚀'"],
    ['zero-width space (Cf)', '\u200bzwsp', "'\\u200bzwsp'"],
    ['line and paragraph separators', '\u2028\u2029', "'\\u2028\\u2029'"],
    ['byte order mark', '\ufeffbom', "'\\ufeffbom'"],
    ['private use (Co)', '\ue000private', "'\\ue000private'"],
    ['astral format character', '\u{e0001}tag', "'\\U000e0001tag'"],
    ['unassigned (Cn)', '\u0378unassigned', "'\\u0378unassigned'"],
    ["assigned in Unicode 15, unassigned in Python 3.11's Unicode 14", '\u{31350}cjkH', "'\\U00031350cjkH'"],
    ['an emoji from Unicode 15: escaped by Python 3.11', '\u{1fae8}shaking', "'\\U0001fae8shaking'"],
    ['ideographic space', '\u3000ideo', "'\\u3000ideo'"],
    ['ogham space mark', '\u1680ogham', "'\\u1680ogham'"],
  ])('%s', (_why, input, expected) => {
    expect(pyRepr(input)).toBe(expected)
  })

  test('a lone surrogate is escaped like any Cs code point', () => {
    expect(pyRepr('a\ud800b')).toBe("'a\\ud800b'")
  })
})

describe('float repr', () => {
  test.each([
    [0, '0.0'],
    [-0, '-0.0'],
    [1, '1.0'],
    [3.1, '3.1'],
    [0.5, '0.5'],
    [1e16, '1e+16'],
    [1e15, '1000000000000000.0'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [1e22, '1e+22'],
    [1.5e300, '1.5e+300'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [0.1 + 0.2, '0.30000000000000004'],
    [123456789.123, '123456789.123'],
    [2.5e-7, '2.5e-07'],
    [-1e-7, '-1e-07'],
    [12345678901234568, '1.2345678901234568e+16'],
    [100, '100.0'],
    [1e100, '1e+100'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [NaN, 'nan'],
  ])('%p -> %s', (x, expected) => {
    expect(floatRepr(x)).toBe(expected)
    expect(pyRepr(x)).toBe(expected)
  })
})

describe('containers and other values', () => {
  test('nested dict, list, tuple, None, bool, int, date and enum', () => {
    const value = new PyDict([
      ['a', [1n, new PyTuple([2n]), new PyTuple([]), new PyTuple([3n, 4n])]],
      [
        'b',
        new PyDict([
          ['c', null],
          [1n, true],
        ]),
      ],
      ['d', new PyDate(2024, 1, 31)],
      ['e', new PyEnum('CopyFileDetection', 'ALL', 2n)],
      ['f', 10n ** 30n],
      ['g', -5n],
      ['h', false],
      ['i', [[], new PyDict()]],
    ])
    expect(pyRepr(value)).toBe(
      "{'a': [1, (2,), (), (3, 4)], 'b': {'c': None, 1: True}, 'd': datetime.date(2024, 1, 31), " +
        "'e': <CopyFileDetection.ALL: 2>, 'f': 1000000000000000000000000000000, 'g': -5, 'h': False, 'i': [[], {}]}",
    )
  })

  test('an int stays an int and a float stays a float', () => {
    expect(pyRepr(3n)).toBe('3')
    expect(pyRepr(3)).toBe('3.0')
  })
})

describe('str() and ascii()', () => {
  test('str() is the string itself, isoformat for a date, Class.NAME for an enum, repr otherwise', () => {
    expect(pyStr("it's")).toBe("it's")
    expect(pyStr(new PyDate(2024, 1, 5))).toBe('2024-01-05')
    expect(pyStr(new PyEnum('CopyFileDetection', 'NO_COPY', 3n))).toBe('CopyFileDetection.NO_COPY')
    expect(pyStr([1n, 'a'])).toBe("[1, 'a']")
    expect(pyStr(null)).toBe('None')
    expect(pyStr(3)).toBe('3.0')
  })

  test('ascii() escapes all non-ASCII', () => {
    expect(pyAscii("é中🚀'")).toBe('"\\xe9\\u4e2d\\U0001f680\'"')
  })
})

describe('isPrintable follows Python 3.11 (Unicode 14), not the JavaScript engine', () => {
  test.each([
    ['0020', true],
    ['007E', true],
    ['007F', false],
    ['00A0', false],
    ['00A1', true],
    ['00AD', false],
    ['0378', false],
    ['4E2D', true],
    ['D800', false],
    ['E000', false],
    ['FFFD', true],
    ['1F680', true],
    ['1FAE8', false],
    ['31350', false],
    ['10FFFF', false],
  ])('U+%s', (hex, expected) => {
    expect(isPrintable(parseInt(hex, 16))).toBe(expected)
  })
})
