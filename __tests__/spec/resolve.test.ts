import { describe, expect, test } from '@jest/globals'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SpecError } from '../../src/errors.js'
import { PyDict } from '../../src/pyvalues/values.js'
import { parsePath, resolveSpec } from '../../src/spec/resolve.js'

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spec-'))
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    writeFileSync(path.join(dir, name), body)
  }
  return dir
}

function errorsOf(fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof SpecError) return err.issues.map((i) => `${i.location ?? ''}|${i.path}|${i.message}`)
    throw err
  }
  throw new Error('expected a SpecError')
}

const resolve = (cwd: string, inline: Record<string, string> = {}, specFile = 'imagespec.yaml') =>
  resolveSpec({ specFile, inline, cwd, hostArch: 'x64' })

describe('resolveSpec: valid specs', () => {
  test('YAML 1.1 values reach the spec as flytekit sees them', () => {
    const cwd = project({
      'imagespec.yaml':
        'name: Demo\nregistry: GHCR.io/Org\npython_version: "3.11"\npackages: [pandas]\nenv:\n  DEBUG: yes\n  WORKERS: 4\n',
    })
    const { spec } = resolve(cwd)
    expect(spec.name).toBe('demo')
    expect(spec.registry).toBe('ghcr.io/org')
    expect(spec.python_version).toBe('3.11')
    expect(spec.packages).toEqual(['pandas'])
    expect(spec.platform).toBe('linux/amd64')
    expect(spec.env).toEqual(
      new PyDict([
        ['DEBUG', true],
        ['WORKERS', 4n],
      ]),
    )
  })

  test('inline inputs override the file field by field and are strings', () => {
    const cwd = project({ 'imagespec.yaml': 'name: a\npackages: [x]\npython_version: 3.9\n' })
    const { spec } = resolve(cwd, {
      packages: 'numpy\n\n# comment\npandas==2.2.2\n',
      'python-version': '3.10',
      env: 'A=1\nB=x=y',
    })
    expect(spec.name).toBe('a')
    expect(spec.packages).toEqual(['numpy', 'pandas==2.2.2'])
    expect(spec.python_version).toBe('3.10')
    expect(spec.env).toEqual(
      new PyDict([
        ['A', '1'],
        ['B', 'x=y'],
      ]),
    )
  })

  test('inline inputs alone are enough', () => {
    const cwd = project({})
    const { spec } = resolveSpec({
      inline: { name: 'solo', 'source-copy-mode': 'no_copy', 'source-root': '.' },
      cwd,
      hostArch: 'x64',
    })
    expect(spec.name).toBe('solo')
    expect(spec.source_copy_mode).toBe('NO_COPY')
  })

  test('an empty file is the default ImageSpec', () => {
    const { spec } = resolve(project({ 'imagespec.yaml': '' }))
    expect(spec.name).toBe('flytekit')
  })

  test('a number as python_version is a warning that names the field', () => {
    const cwd = project({ 'imagespec.yaml': 'python_version: 3.11\n' })
    const { warnings } = resolve(cwd)
    expect(warnings.join('\n')).toMatch(/imagespec.yaml:1: python_version is the number 3.11/)
  })
})

describe('resolveSpec: every problem is reported at once, with field and line', () => {
  test('several problems in one file', () => {
    const cwd = project({
      'imagespec.yaml': [
        'name: app',
        'pakages: [pandas]',
        'registry: "ghcr.io/bad path"',
        'apt_packages: [git, 3]',
        'requirements: missing.txt',
        'cuda: "12.1"',
        'python_version: 3.10',
        '',
      ].join('\n'),
    })
    const errors = errorsOf(() => resolve(cwd))
    expect(errors).toHaveLength(6)
    expect(errors.find((e) => e.includes('|pakages|'))).toMatch(
      /^imagespec.yaml:2\|pakages\|unknown field.*packages/,
    )
    expect(errors.find((e) => e.includes('|registry|'))).toMatch(
      /^imagespec.yaml:3\|registry\|'ghcr.io\/bad path' is not a registry/,
    )
    expect(errors.find((e) => e.includes('apt_packages'))).toMatch(
      /^imagespec.yaml:4\|apt_packages\[1\]\|apt_packages must be a list of strings/,
    )
    expect(errors.find((e) => e.includes('|requirements|'))).toMatch(
      /imagespec.yaml:5\|requirements\|file 'missing.txt' not found/,
    )
    expect(errors.find((e) => e.includes('|cuda|'))).toMatch(/CUDA base_image/)
    expect(errors.find((e) => e.includes('|python_version|'))).toMatch(/quote it: python_version: "3.10"/)
  })

  test.each([
    [
      'uv.lock without pyproject.toml',
      { 'imagespec.yaml': 'requirements: uv.lock\n', 'uv.lock': 'version = 1\n' },
      /requirements\|uv.lock needs a pyproject.toml/,
    ],
    [
      'lock file with packages',
      {
        'imagespec.yaml': 'requirements: poetry.lock\npackages: [x]\n',
        'poetry.lock': '',
        'pyproject.toml': '',
      },
      /packages\|packages cannot be combined with a poetry.lock/,
    ],
    ['copy with ..', { 'imagespec.yaml': 'copy: [../x]\n' }, /copy\[0\]\|'..\/x' must be a path relative/],
    [
      'copy of a missing path',
      { 'imagespec.yaml': 'copy: [nope.txt]\n' },
      /copy\[0\]\|'nope.txt' does not exist/,
    ],
    [
      'source_root without a copy mode',
      { 'imagespec.yaml': 'source_root: .\n' },
      /source_copy_mode\|with source_root set, flytekit defaults to LOADED_MODULES.*ALL.*NO_COPY/,
    ],
    [
      'copy mode without source_root',
      { 'imagespec.yaml': 'source_copy_mode: ALL\n' },
      /source_copy_mode\|needs source_root/,
    ],
    [
      'python_exec with conda',
      { 'imagespec.yaml': 'python_exec: /usr/bin/python3\nconda_packages: [numpy]\n' },
      /python_exec\|cannot be combined with conda/,
    ],
    [
      'pip_secret_mounts in YAML',
      { 'imagespec.yaml': 'pip_secret_mounts: [[a, b]]\n' },
      /pip_secret_mounts.*the action input `secrets`/,
    ],
    ['a list where a string belongs', { 'imagespec.yaml': 'name: [a]\n' }, /name\|name must be a string/],
    ['env that is not a mapping', { 'imagespec.yaml': 'env: [A=1]\n' }, /env\|env must be a mapping/],
    [
      'an invalid image name',
      { 'imagespec.yaml': 'name: "my image"\n' },
      /name\|'my image' is not a valid image repository name/,
    ],
    ['a top level that is a list', { 'imagespec.yaml': '- name: a\n' }, /must hold a YAML mapping/],
    [
      'a nested base spec with a typo',
      { 'imagespec.yaml': 'base_image:\n  name: base\n  pacakges: [x]\n' },
      /imagespec.yaml:3\|base_image.pacakges\|unknown field/,
    ],
  ])('%s', (_name, files, expected) => {
    const errors = errorsOf(() => resolve(project(files)))
    expect(errors.join('\n')).toMatch(expected)
  })

  test('a bad inline input is named as the input', () => {
    const errors = errorsOf(() => resolve(project({}), { env: 'NOT_A_PAIR', name: 'x' }, ''))
    expect(errors).toEqual([expect.stringMatching(/^input 'env'\|env\|'NOT_A_PAIR' is not KEY=VALUE/)])
  })

  test('a missing spec file names the input', () => {
    const errors = errorsOf(() => resolve(project({}), {}, 'nope.yaml'))
    expect(errors[0]).toMatch(/spec\|file 'nope.yaml' not found.*'spec' input/)
  })

  test('nothing at all is an error that says what to set', () => {
    const errors = errorsOf(() => resolveSpec({ inline: {}, cwd: project({}), hostArch: 'x64' }))
    expect(errors[0]).toMatch(/no ImageSpec given/)
  })
})

describe('locating a field path reported later (e.g. by the Dockerfile generator)', () => {
  test.each([
    ['env.BAD NAME', ['env', 'BAD NAME']],
    ['apt_packages[0]', ['apt_packages', 0]],
    ['base_image.packages[12]', ['base_image', 'packages', 12]],
  ])('%s', (text, expected) => {
    expect(parsePath(text)).toEqual(expected)
  })

  test('paths map to the spec file line, or to the input that set them', () => {
    const cwd = project({ 'imagespec.yaml': 'name: a\nenv:\n  A: "1"\napt_packages:\n  - git\n  - jq\n' })
    const { locate } = resolve(cwd, { packages: 'numpy' })
    expect(locate('env.A')).toBe('imagespec.yaml:3')
    expect(locate('apt_packages[1]')).toBe('imagespec.yaml:6')
    expect(locate('packages[0]')).toBe("input 'packages'")
  })
})
