import { describe, expect, test } from '@jest/globals'
import {
  isLockMode,
  providesFlytekit,
  requirementFileLines,
  requirementsMode,
  requirementsText,
} from '../../src/dockerfile/requirements.js'

describe('requirementsMode', () => {
  test.each([
    [undefined, 'requirements'],
    ['', 'requirements'],
    ['requirements.txt', 'requirements'],
    ['proj/uv.lock', 'uv.lock'],
    ['poetry.lock', 'poetry.lock'],
    ['pyproject.toml', 'pyproject.toml'],
    ['app/pyproject.toml', 'pyproject.toml'],
    ['my-uv.lock', 'requirements'],
    ['UV.lock', 'requirements'],
    ['pyproject.toml.txt', 'requirements'],
    ['PyProject.toml', 'requirements'],
  ])('%j -> %s', (requirements, mode) => {
    expect(requirementsMode({ name: 'x', platform: 'linux/amd64', requirements })).toBe(mode)
  })

  test.each([
    ['requirements', false],
    ['pyproject.toml', false],
    ['uv.lock', true],
    ['poetry.lock', true],
  ] as const)('isLockMode(%j) -> %s', (mode, expected) => {
    expect(isLockMode(mode)).toBe(expected)
  })
})

describe('requirementFileLines (readlines + strip)', () => {
  test.each([
    ['', []],
    ['a\n', ['a']],
    ['a\nb', ['a', 'b']],
    ['a\r\nb\rc\n\n', ['a', 'b', 'c', '']],
    ['  numpy>=1  \n# comment\n\n\tpandas\u00a0\n', ['numpy>=1', '# comment', '', 'pandas']],
    // U+2028 is not a line end in text mode and str.strip() removes it; a BOM is not whitespace.
    ['\ufeffa\u2028b\u2028\n\u001fc\u0085', ['\ufeffa\u2028b', 'c']],
  ])('%j', (text, lines) => {
    expect(requirementFileLines(text)).toEqual(lines)
  })
})

describe('providesFlytekit (flytekit _is_flytekit, plus union)', () => {
  test.each([
    ['flytekit', true],
    ['flytekit==1.16.24', true],
    ['flytekit[pandas]>=1', true],
    ['flytekit ; python_version>"3"', true],
    ['union', true],
    ['union==0.1.180', true],
    ['flytekitplugins-pandera', false],
    ['Flytekit', false],
    ['unionai', false],
    ['# flytekit', false],
    ['flytekitä', false],
    ['', false],
  ])('%j -> %s', (req, expected) => {
    expect(providesFlytekit(req)).toBe(expected)
  })
})

describe('requirementsText', () => {
  test('file lines, then packages, then the pin, joined without a trailing newline', () => {
    expect(requirementsText(['numpy', '# c', ''], ['pandas'], 'flytekit==1.16.24')).toBe(
      'numpy\n# c\n\npandas\nflytekit==1.16.24',
    )
  })

  test('no pin when flytekit or union is already named, in the file or the packages', () => {
    expect(requirementsText(['flytekit>=1.10'], ['pandas'], 'flytekit==1.16.24')).toBe(
      'flytekit>=1.10\npandas',
    )
    expect(requirementsText([], ['union'], 'flytekit==1.16.24')).toBe('union')
  })

  test('null adds nothing; no packages at all gives just the pin', () => {
    expect(requirementsText([], ['pandas'], null)).toBe('pandas')
    expect(requirementsText([], undefined, 'flytekit')).toBe('flytekit')
  })
})
