/** Expected values are CPython 3.11.7 `template.format(a='héllo', b='5')` results, pasted as literals. */
import { describe, expect, test } from '@jest/globals'
import { FormatError, pyFormat } from '../../src/pyvalues/format.js'

const args = { a: 'héllo', b: '5' }

describe('pyFormat: what Python produces', () => {
  test.each([
    ['{a}', 'héllo'],
    ['pre-{a}-post', 'pre-héllo-post'],
    ['{a}{a}', 'héllohéllo'],
    ['x{{y}}z', 'x{y}z'],
    ['{{{a}}}', '{héllo}'],
    ['{{a}}', '{a}'],
    ['}}{{', '}{'],
    ['{a:}', 'héllo'],
    ['{a:.3}', 'hél'],
    ['{a:.0}', ''],
    ['{a:.2s}', 'hé'],
    ['{a:5s}', 'héllo'],
    ['{a:^9.2}', '   hé    '],
    ['{a:^10}', '  héllo   '],
    ['{a:^11}', '   héllo   '],
    ['{a:*^9}', '**héllo**'],
    ['{a:>>7}', '>>héllo'],
    ['{a:<<7}', 'héllo<<'],
    ['{a:^^8}', '^héllo^^'],
    ['{a:x<}', 'héllo'],
    ['{a:é^9}', 'ééhélloéé'],
    ['{a:🚀>8}', '🚀🚀🚀héllo'],
    ['{a:010}', 'héllo00000'],
    ['{a:<010}', 'héllo00000'],
    ['{a:05.2}', 'hé000'],
    ['{a:0}', 'héllo'],
    ['{a!s:>8}', '   héllo'],
    ['{a!r}', "'héllo'"],
    ['{a!r:^12}', "  'héllo'   "],
    ['{a!a}', "'h\\xe9llo'"],
    ['{a!a:.4}', "'h\\x"],
    ['{a[0]}', 'h'],
    ['{a[1][0]}', 'é'],
    ['{a[1]!r}', "'é'"],
    ['{a[1]:3}', 'é  '],
    ['{a:{b}}', 'héllo'],
    ['{a:{b}.{b}}', 'héllo'],
  ])('%s', (template, expected) => {
    expect(pyFormat(template, args)).toBe(expected)
  })

  test('a tag_format as flytekit uses it', () => {
    expect(pyFormat('{spec_hash}-dev', { spec_hash: 'D4JbiArn3VdnBEMfTJ8V5Q' })).toBe(
      'D4JbiArn3VdnBEMfTJ8V5Q-dev',
    )
    expect(pyFormat('v1-{spec_hash:.8}', { spec_hash: 'j_rC2ubudAxRlWRNoBZmPg' })).toBe('v1-j_rC2ubu')
  })
})

describe('pyFormat: what Python rejects', () => {
  test.each([
    ['}', /Single '}' encountered/],
    ['{a}}', /Single '}' encountered/],
    ['{', /Single '{' encountered/],
    ['{a', /expected '}' before end of string/],
    ['{a[0}', /expected '}' before end of string/],
    ['{a!r', /unmatched '{' in format spec/],
    ['{a:{{}}', /unmatched '{' in format spec/],
    ['{a!rx}', /expected ':' after conversion specifier/],
    ['{a!x}', /Unknown conversion specifier x/],
    ['{a:{a:{a}}}', /Max string recursion exceeded/],
    ['{a[]}', /Empty attribute in format string/],
    ['{a[0]x}', /Only '\.' or '\[' may follow '\]'/],
    ['{}', /positional replacement field \{\}/],
    ['{0}', /positional replacement field \{0\}/],
    ['{ a}', /unknown replacement field \{ a\}: the available fields are \{a\}, \{b\}/],
    ['{c}', /unknown replacement field \{c\}/],
    ['{a.upper}', /attribute access/],
    ['{a[-1]}', /string indices must be integers/],
    ['{a[x]}', /string indices must be integers/],
    ['{a[99]}', /out of range/],
    ['{a:=10}', /'=' alignment not allowed in string format specifier/],
    ['{a:+}', /Sign not allowed in string format specifier/],
    ['{a: }', /Space not allowed in string format specifier/],
    ['{a:#}', /Alternate form \(#\) not allowed/],
    ['{a:z}', /Negative zero coercion/],
    ['{a:,}', /Cannot specify ',' with 's'\./],
    ['{a:_}', /Cannot specify '_' with 's'\./],
    ['{a:,_}', /Cannot specify both ',' and '_'\./],
    ['{a:.}', /Format specifier missing precision/],
    ['{a:d}', /Unknown format code 'd' for object of type 'str'/],
    ['{a:ss}', /Invalid format specifier 'ss' for object of type 'str'/],
    ['{b:{a}}', /Invalid format specifier 'héllo'/],
  ])('%s', (template, message) => {
    expect(() => pyFormat(template, args)).toThrow(FormatError)
    expect(() => pyFormat(template, args)).toThrow(message)
  })
})
