/**
 * loadYaml11 against PyYAML 6.0 `yaml.safe_load` (Python 3.11.7): each expected value is `repr()` of what
 * PyYAML returned for the same text, pasted as a literal.
 */
import { describe, expect, test } from '@jest/globals'
import { SpecError } from '../../src/errors.js'
import { pyRepr, pyStr } from '../../src/pyvalues/repr.js'
import type { PyDict, PyValue } from '../../src/pyvalues/values.js'
import { loadYaml11 } from '../../src/spec/yaml11.js'

function load(text: string): string {
  return pyRepr(loadYaml11(text, 'spec.yaml').value)
}

function errorOf(text: string): SpecError {
  try {
    loadYaml11(text, 'spec.yaml')
  } catch (e) {
    if (e instanceof SpecError) return e
    throw e
  }
  throw new Error(`no error for ${JSON.stringify(text)}`)
}

describe('values are what PyYAML safe_load gives', () => {
  test.each([
    ['a version number is a float', 'python_version: 3.10', "{'python_version': 3.1}"],
    ['quoted stays a string', "python_version: '3.10'", "{'python_version': '3.10'}"],
    [
      'decimal ints, sign and underscores',
      'a: 1\nb: -17\nc: +5\nd: 1_000',
      "{'a': 1, 'b': -17, 'c': 5, 'd': 1000}",
    ],
    ['binary and hex', 'a: 0b1010\nb: -0b1\nc: 0x1F\nd: +0x_ff', "{'a': 10, 'b': -1, 'c': 31, 'd': 255}"],
    [
      'leading-0 octal; 08 and 0o17 are strings',
      'a: 017\nb: 0_17\nc: 08\nd: 0o17',
      "{'a': 15, 'b': 15, 'c': '08', 'd': '0o17'}",
    ],
    [
      'sexagesimal ints (1:60 is a string)',
      'a: 1:30\nb: -1:30:00\nc: 190:20:30\nd: 1:60',
      "{'a': 90, 'b': -5400, 'c': 685230, 'd': '1:60'}",
    ],
    [
      'floats need a dot',
      'a: 3.0\nb: .5\nc: 5.\nd: 1_2.3_4\ne: -0.0',
      "{'a': 3.0, 'b': 0.5, 'c': 5.0, 'd': 12.34, 'e': -0.0}",
    ],
    [
      'exponents need a dot and a sign',
      'a: 1e5\nb: 1.5e3\nc: 1.5e+3\nd: 1.5E-3',
      "{'a': '1e5', 'b': '1.5e3', 'c': 1500.0, 'd': 0.0015}",
    ],
    ['sexagesimal floats', 'a: 1:30.5\nb: -1:30.25', "{'a': 90.5, 'b': -90.25}"],
    [
      '.inf and .nan (+.nan is a string)',
      'a: .inf\nb: -.Inf\nc: +.INF\nd: .NaN\ne: +.nan',
      "{'a': inf, 'b': -inf, 'c': inf, 'd': nan, 'e': '+.nan'}",
    ],
    [
      'YAML 1.1 booleans',
      'a: yes\nb: No\nc: ON\nd: off\ne: TRUE\nf: False',
      "{'a': True, 'b': False, 'c': True, 'd': False, 'e': True, 'f': False}",
    ],
    [
      'other casings and y/n are strings',
      'a: yEs\nb: y\nc: n\nd: tRUE',
      "{'a': 'yEs', 'b': 'y', 'c': 'n', 'd': 'tRUE'}",
    ],
    [
      'null spellings',
      'a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: nUll',
      "{'a': None, 'b': None, 'c': None, 'd': None, 'e': None, 'f': 'nUll'}",
    ],
    [
      'quoted scalars are strings',
      "a: ''\nb: \"\"\nc: '1'\nd: \"yes\"\ne: 'null'",
      "{'a': '', 'b': '', 'c': '1', 'd': 'yes', 'e': 'null'}",
    ],
    [
      'a plain date is a date',
      "a: 2024-01-31\nb: 2024-1-31\nc: '2024-01-31'",
      "{'a': datetime.date(2024, 1, 31), 'b': '2024-1-31', 'c': '2024-01-31'}",
    ],
    [
      'explicit tags',
      "a: !!str 12\nb: !!int '12'\nc: !!float '1'\nd: !!bool 'on'\ne: !!null x\nf: !!str",
      "{'a': '12', 'b': 12, 'c': 1.0, 'd': True, 'e': None, 'f': ''}",
    ],
    [
      "explicit tags use Python's int() and float()",
      "a: !!int 0o17\nb: !!int ' 12 '\nc: !!int --5\nd: !!float infinity\ne: !!float 1e5\nf: !!timestamp 2024-1-5",
      "{'a': 15, 'b': 12, 'c': 5, 'd': inf, 'e': 100000.0, 'f': datetime.date(2024, 1, 5)}",
    ],
    [
      'the non-specific tag resolves like a plain scalar',
      "a: ! 12\nb: ! '12'\nc: !<tag:yaml.org,2002:int> '5'",
      "{'a': 12, 'b': 12, 'c': 5}",
    ],
    [
      'block scalars',
      'a: |\n  line1\n  line2\nb: >\n  folded\n  text\n\n  para\nc: |-\n  x\n',
      "{'a': 'line1\\nline2\\n', 'b': 'folded text\\npara\\n', 'c': 'x'}",
    ],
    [
      'folding and escapes',
      "a: plain\n  continued\nb: 'single ''quoted'''\nc: \"dq \\x41\\u00e9\\t\\\\ \\\"\"",
      "{'a': 'plain continued', 'b': \"single 'quoted'\", 'c': 'dq Aé\\t\\\\ \"'}",
    ],
    ['YAML 1.1 escapes', 'a: "\\N\\_\\L\\P\\e\\/\\ \\0"', "{'a': '\\x85\\xa0\\u2028\\u2029\\x1b/ \\x00'}"],
    [
      'key order is kept, int keys stay ints',
      "env:\n  B: 1\n  A: 2\n  '10': x\n  2: y",
      "{'env': {'B': 1, 'A': 2, '10': 'x', 2: 'y'}}",
    ],
    [
      'merge key: own keys win, merged keys first',
      'base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n  z: 4',
      "{'base': {'x': 1, 'y': 2}, 'other': {'x': 1, 'y': 3, 'z': 4}}",
    ],
    [
      'merge list: earlier mappings win',
      'a: &a {x: 1}\nb: &b {x: 2, w: 0}\nc:\n  <<: [*a, *b]\n  k: v',
      "{'a': {'x': 1}, 'b': {'x': 2, 'w': 0}, 'c': {'x': 1, 'w': 0, 'k': 'v'}}",
    ],
    [
      'two merge keys: the later wins',
      'a: &a {x: 1}\nb: &b {x: 2}\nc:\n  <<: *a\n  <<: *b',
      "{'a': {'x': 1}, 'b': {'x': 2}, 'c': {'x': 2}}",
    ],
    ['nested merges', 'x: {<<: {<<: {z: 1}, y: 2}, x: 3}', "{'x': {'z': 1, 'y': 2, 'x': 3}}"],
    ['a quoted << and a = key are plain keys', "'<<': 1\n=: 2", "{'<<': 1, '=': 2}"],
    ['alias', 'a: &x [1, 2]\nb: *x', "{'a': [1, 2], 'b': [1, 2]}"],
    ['duplicate key: first position, last value', 'a: 1\nb: 2\na: 3', "{'a': 3, 'b': 2}"],
    ['1, 1.0 and true are one key', '{1: a, 1.0: b, true: c}', "{1: 'c'}"],
    ['0 and false are one key, so are null and ~', '{0: a, false: b, null: c, ~: d}', "{0: 'b', None: 'd'}"],
    [
      'ordered maps and pairs are lists of tuples',
      'a: !!omap [{x: 1}, {y: 2}]\nb: !!pairs [{x: 1}, {x: 2}]',
      "{'a': [('x', 1), ('y', 2)], 'b': [('x', 1), ('x', 2)]}",
    ],
    ['a leading byte order mark is skipped', '\ufeffa: 1', "{'a': 1}"],
    ['a YAML 1.1 directive', '%YAML 1.1\n---\na: yes', "{'a': True}"],
    ['an empty file', '', 'None'],
    ['only a comment', '# only a comment', 'None'],
    ['comments', 'a: x #comment\nb: x#y\nc: "#no"', "{'a': 'x', 'b': 'x#y', 'c': '#no'}"],
    [
      'tabs inside quotes, block scalars and comments',
      "a: 'x\ty'\nb: |\n  x\ty\n# \tc",
      "{'a': 'x\\ty', 'b': 'x\\ty\\n'}",
    ],
    ['CRLF line ends', 'a: 1\r\nb: [2, 3]\r\n', "{'a': 1, 'b': [2, 3]}"],
  ])('%s', (_why, text, expected) => {
    expect(load(text)).toBe(expected)
  })
})

describe('what PyYAML rejects (or this action cannot hash) is a SpecError', () => {
  test.each([
    // ScannerError: mapping values are not allowed here
    ['bad syntax', 'a: b: c'],
    // ParserError: while parsing a flow sequence
    ['unclosed flow sequence', 'a: [1, 2'],
    // ComposerError: expected a single document in the stream
    ['two documents', 'a: 1\n---\nb: 2'],
    // ComposerError: found undefined alias 'nope'
    ['undefined alias', 'a: *nope'],
    // ComposerError: found duplicate anchor 'x'; first occurrence
    ['duplicate anchor', 'a: &x 1\nb: &x 2'],
    // PyYAML gives {'a': [1, [...]]}; a self-containing value is refused here
    ['recursive alias', 'a: &x [1, *x]'],
    // ConstructorError: could not determine a constructor for the tag '!foo'
    ['unknown tag', 'a: !foo x'],
    // ConstructorError: could not determine a constructor for the tag 'tag:yaml.org,2002:value'
    ['the value key as a value', 'a: ='],
    // ConstructorError: could not determine a constructor for the tag 'tag:yaml.org,2002:merge'
    ['a merge key as a value', 'a: <<'],
    // ConstructorError: while constructing a mapping
    ['merging a scalar', 'a: {<<: 5}'],
    // ConstructorError: while constructing a mapping
    ['merging a list with a scalar', 'a: {<<: [{x: 1}, 5]}'],
    // ValueError: invalid literal for int() with base 10: 'abc'
    ['not an int', 'a: !!int abc'],
    // ValueError: invalid literal for int() with base 2: ''
    ['0b_ has no digits', 'a: 0b_'],
    // KeyError: 'maybe'
    ['not a bool', 'a: !!bool maybe'],
    // ValueError: could not convert string to float: 'x'
    ['not a float', 'a: !!float x'],
    // ValueError: day is out of range for month
    ['impossible date', 'a: 2024-02-30'],
    // ValueError: hour must be in 0..23
    ['impossible time', 'a: 2024-01-31 24:00:00'],
    // ConstructorError: expected a scalar node, but found sequence
    ['a sequence tagged !!str', 'a: !!str [1]'],
    // ConstructorError: expected a mapping node, but found sequence
    ['a sequence tagged !!map', 'a: !!map [1]'],
    // ConstructorError: while constructing a mapping
    ['a list as a key', '? [a]\n: 1'],
    // PyYAML gives {'a': {'x'}}; a set's repr order depends on string hashing, so it is refused
    ['a set', 'a: !!set {x}'],
    // PyYAML gives {'a': b'hi'}; bytes are refused
    ['binary', 'a: !!binary aGk='],
    // ScannerError: while scanning for the next token
    ['a trailing tab', 'a: b\t'],
    // ScannerError: while scanning for the next token
    ['a tab in a flow sequence', 'a: [x,\tb]'],
    // ReaderError: unacceptable character #x0007: special characters are not allowed
    ['a control character', 'a: x\u0007'],
    // ScannerError: while scanning a simple key
    ['a line separator', 'a: x\u2028y'],
  ])('%s', (_why, text) => {
    expect(errorOf(text)).toBeInstanceOf(SpecError)
  })
})

describe('errors say where and what', () => {
  test('a syntax error names the file and line', () => {
    const e = errorOf('name: app\npackages:\n  - a\n  b: c\n')
    expect(e.issues[0]?.location).toBe('spec.yaml:4')
    expect(e.issues[0]?.path).toBe('spec')
    expect(e.message).toMatch(/YAML syntax error/)
  })

  test('a bad value names the field, the line and the tag', () => {
    const e = errorOf('name: app\nenv:\n  A: !!int abc\n')
    expect(e.issues).toEqual([
      expect.objectContaining({
        path: 'env.A',
        location: 'spec.yaml:3',
        message: expect.stringMatching(/!!int/),
      }),
    ])
  })

  test('an impossible time names the field', () => {
    const e = errorOf('env:\n  WHEN: 2024-01-31 10:61:00\n')
    expect(e.issues[0]?.path).toBe('env.WHEN')
    expect(e.message).toMatch(/minute must be in 0..59/)
  })

  test('an unknown tag says so', () => {
    expect(errorOf('packages: [!py x]').message).toMatch(/no constructor for the tag !py/)
  })

  test('a stray tab points at its line', () => {
    expect(errorOf('name: app\nregistry: ghcr.io\t\n').issues[0]?.location).toBe('spec.yaml:2')
  })

  test('a control character points at its line', () => {
    expect(errorOf('a: 1\nb: x\u0007\n').issues[0]?.location).toBe('spec.yaml:2')
  })
})

describe('locate', () => {
  const doc = loadYaml11(
    [
      'name: app', // 1
      'packages:', // 2
      '  - pandas', // 3
      '  - numpy', // 4
      'env: &e', // 5
      '  A: "1"', // 6
      '  2: two', // 7
      'builder_options:', // 8
      '  <<: *e', // 9
      '  B: x', // 10
      'empty:', // 11
      'copy: *e', // 12
    ].join('\n'),
    'imagespec.yaml',
  )

  test.each([
    [['name'], 'imagespec.yaml:1'],
    [['packages'], 'imagespec.yaml:3'],
    [['packages', 1], 'imagespec.yaml:4'],
    [['env', 'A'], 'imagespec.yaml:6'],
    [['env', 2], 'imagespec.yaml:7'],
    [['builder_options', 'A'], 'imagespec.yaml:6'],
    [['builder_options', 'B'], 'imagespec.yaml:10'],
    [['empty'], 'imagespec.yaml:11'],
    [['copy'], 'imagespec.yaml:12'],
    [['copy', 'A'], 'imagespec.yaml:6'],
    [[], 'imagespec.yaml:1'],
  ] as [(string | number)[], string][])('%j', (path, expected) => {
    expect(doc.locate(path)).toBe(expected)
  })

  test('a path that is not there has no location', () => {
    expect(doc.locate(['nope'])).toBeUndefined()
    expect(doc.locate(['packages', 5])).toBeUndefined()
    expect(doc.locate(['name', 'x'])).toBeUndefined()
  })
})

describe('duplicate keys', () => {
  test('keep the first position and the last value, with a warning naming both lines', () => {
    const doc = loadYaml11('env:\n  A: "1"\n  B: "2"\n  A: "3"\n', 'spec.yaml')
    expect(pyRepr(doc.value)).toBe("{'env': {'A': '3', 'B': '2'}}")
    expect(doc.warnings).toEqual([
      expect.stringMatching(/^spec\.yaml:4: the key 'A' in env is repeated \(first on line 2\)/),
    ])
    expect(doc.locate(['env', 'A'])).toBe('spec.yaml:4')
  })

  test('a merged key overridden by the mapping itself is not a duplicate', () => {
    const doc = loadYaml11('base: &b {A: 1}\nenv:\n  <<: *b\n  A: 2\n', 'spec.yaml')
    expect(pyRepr(doc.value)).toBe("{'base': {'A': 1}, 'env': {'A': 2}}")
    expect(doc.warnings).toEqual([])
  })
})

describe('timestamps with a time are datetime.datetime, as PyYAML 6.0 builds them', () => {
  // Expected: repr() and str() of yaml.safe_load('v: <text>')['v'] printed by PyYAML 6.0 on Python 3.11.
  test.each([
    ['2024-01-31 10:00:00', 'datetime.datetime(2024, 1, 31, 10, 0)', '2024-01-31 10:00:00'],
    [
      '2001-12-14t21:59:43.10-05:00',
      'datetime.datetime(2001, 12, 14, 21, 59, 43, 100000, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400)))',
      '2001-12-14 21:59:43.100000-05:00',
    ],
    [
      '2001-12-15T02:59:43.1Z',
      'datetime.datetime(2001, 12, 15, 2, 59, 43, 100000, tzinfo=datetime.timezone.utc)',
      '2001-12-15 02:59:43.100000+00:00',
    ],
    [
      '2001-12-14 21:59:43.1234567 +5',
      'datetime.datetime(2001, 12, 14, 21, 59, 43, 123456, tzinfo=datetime.timezone(datetime.timedelta(seconds=18000)))',
      '2001-12-14 21:59:43.123456+05:00',
    ],
    [
      '2002-12-14T00:00:00+00:00',
      'datetime.datetime(2002, 12, 14, 0, 0, tzinfo=datetime.timezone.utc)',
      '2002-12-14 00:00:00+00:00',
    ],
    ['2024-2-3 4:05:06.000001', 'datetime.datetime(2024, 2, 3, 4, 5, 6, 1)', '2024-02-03 04:05:06.000001'],
    [
      '2024-01-31T10:00:00-00:30',
      'datetime.datetime(2024, 1, 31, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=84600)))',
      '2024-01-31 10:00:00-00:30',
    ],
  ])('%s', (text, repr, str) => {
    const v = (loadYaml11(`v: ${text}\n`, 't.yaml').value as PyDict).get('v') as PyValue
    expect(pyRepr(v)).toBe(repr)
    expect(pyStr(v)).toBe(str)
  })
})
