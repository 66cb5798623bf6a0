/**
 * The spec-file output must read back, through PyYAML's safe_load (Debian's python3-yaml, installed by
 * scripts/e2e/up.sh), as exactly the Python values the action hashed: checked by comparing Python's own repr of
 * what PyYAML loaded with the repr flytekit would hash.
 */
import { describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { pyRepr } from '../../src/pyvalues/repr.js'
import { PyDate, PyDateTime, PyDict, PyEnum, type PyValue } from '../../src/pyvalues/values.js'
import { emitSpecYaml, emitValue, NotExpressibleInYaml } from '../../src/spec/emit.js'
import { YamlCopyMode, type ImageSpec } from '../../src/spec/model.js'

const PYTHON = '/usr/bin/python3'

function pythonRepr(yamlText: string): string {
  return execFileSync(PYTHON, ['-c', 'import sys, yaml; print(repr(yaml.safe_load(sys.stdin.read())))'], {
    input: yamlText,
    encoding: 'utf8',
  }).replace(/\n$/, '')
}

const tricky: [string, PyValue][] = [
  [
    'YAML 1.1 look-alikes stay strings',
    ['3.10', 'yes', 'on', 'Off', '0755', '1:30', '~', 'null', '', '2024-01-31', '1e5'],
  ],
  [
    'escapes and unicode',
    [
      "it's",
      'say "hi"',
      'a\\b',
      'tab\there',
      'new\nline',
      '\u00a0nbsp',
      '\u0085nel',
      '\u2028',
      '\u007f',
      'é 中文 🚀',
    ],
  ],
  [
    'numbers keep their type',
    [3.1, 3.0, 1e16, 1e-5, -0.0, 0.1, Infinity, -Infinity, 4n, -12n, 12345678901234567890123n],
  ],
  [
    'booleans, None, dates and datetimes',
    [
      true,
      false,
      null,
      new PyDate(2024, 1, 31),
      new PyDateTime(2024, 1, 31, 10, 0, 0, 0, null),
      new PyDateTime(2001, 12, 14, 21, 59, 43, 100000, -300),
      new PyDateTime(2001, 12, 15, 2, 59, 43, 1, 0),
      new PyDateTime(2024, 1, 31, 10, 0, 5, 0, 330),
    ],
  ],
  [
    'nested dicts keep order and key types',
    new PyDict([
      ['Z', 'last?'],
      ['A', new PyDict([['x', [1n, 'y']]])],
      [10n, 'int key'],
    ]),
  ],
]

describe('emitValue reads back through PyYAML as the same Python value', () => {
  test.each(tricky)('%s', (_name, value) => {
    expect(pythonRepr(`v: ${emitValue(value)}\n`)).toBe(pyRepr(new PyDict([['v', value]])))
  })

  test('NaN reads back as nan', () => {
    expect(pythonRepr(`v: ${emitValue(NaN)}\n`)).toBe("{'v': nan}")
  })

  test('an enum member cannot be written', () => {
    expect(() => emitValue(new PyEnum('CopyFileDetection', 'ALL', 2n))).toThrow(NotExpressibleInYaml)
  })
})

describe('emitSpecYaml', () => {
  const spec: ImageSpec = {
    name: 'app',
    python_version: '3.10',
    env: new PyDict([
      ['DEBUG', true],
      ['WORKERS', 4n],
    ]),
    registry: 'ghcr.io/org',
    packages: ['pandas==2.2.2'],
    platform: 'linux/amd64',
    base_image: { name: 'base', registry: 'ghcr.io/org', platform: 'linux/amd64', packages: ['torch'] },
    source_root: 'src',
    source_copy_mode: new YamlCopyMode('ALL'),
    pip_secret_mounts: [['a', 'b']],
  }

  test('writes every field in dataclass order, nested base as a mapping, the YAML copy mode as a string', () => {
    expect(pythonRepr(emitSpecYaml(spec))).toBe(
      "{'name': 'app', 'python_version': '3.10', 'source_root': 'src', 'env': {'DEBUG': True, 'WORKERS': 4}, " +
        "'registry': 'ghcr.io/org', 'packages': ['pandas==2.2.2'], 'base_image': {'name': 'base', " +
        "'registry': 'ghcr.io/org', 'packages': ['torch'], 'platform': 'linux/amd64'}, 'platform': 'linux/amd64', " +
        "'source_copy_mode': 'ALL'}",
    )
  })

  test('a copy mode from the input (the enum) is refused with the fix', () => {
    expect(() => emitSpecYaml({ ...spec, source_copy_mode: 'ALL' })).toThrow(
      /set source_copy_mode in the spec file/,
    )
  })
})
