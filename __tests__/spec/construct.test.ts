/** constructImageSpec: ImageSpec(**fields) plus __post_init__, as flytekit 1.16 does it. */
import { describe, expect, test } from '@jest/globals'
import { SpecError } from '../../src/errors.js'
import { PyDict, PyEnum, PyTuple, type PyValue } from '../../src/pyvalues/values.js'
import { constructImageSpec } from '../../src/spec/construct.js'
import { YamlCopyMode } from '../../src/spec/model.js'

const X64 = { hostArch: 'x64' }

function build(fields: Record<string, PyValue>, opts = X64) {
  return constructImageSpec(new Map(Object.entries(fields)), opts)
}

function issuesOf(fields: Record<string, PyValue>): { path: string; message: string }[] {
  try {
    build(fields)
  } catch (e) {
    if (e instanceof SpecError) return e.issues.map(({ path, message }) => ({ path, message }))
    throw e
  }
  throw new Error('no SpecError')
}

describe('defaults and normalisation', () => {
  test('an empty spec is ImageSpec()', () => {
    expect(build({})).toEqual({ name: 'flytekit', platform: 'linux/amd64' })
  })

  test('name and a non-empty registry are lower-cased', () => {
    expect(build({ name: 'Team/App', registry: 'GHCR.IO/MyOrg' })).toEqual({
      name: 'team/app',
      registry: 'ghcr.io/myorg',
      platform: 'linux/amd64',
    })
  })

  test('an empty registry is kept as is', () => {
    expect(build({ registry: '' }).registry).toBe('')
  })

  test('None means "not given"', () => {
    expect(build({ python_version: null, env: null, platform: null, packages: null })).toEqual({
      name: 'flytekit',
      platform: 'linux/amd64',
    })
  })

  test('values flytekit never checks keep their Python type', () => {
    const env = new PyDict([
      ['A', null],
      ['B', 1n],
    ])
    const spec = build({ python_version: 3.1, cuda: 12n, env, builder: 'envd' })
    expect(spec.python_version).toBe(3.1)
    expect(spec.cuda).toBe(12n)
    expect(spec.env).toBe(env)
    expect(spec.builder).toBe('envd')
  })
})

describe('platform default', () => {
  test.each([
    ['x64', 'localhost:30000', 'linux/amd64'],
    ['arm64', 'localhost:30000', 'linux/arm64'],
    ['aarch64', 'localhost:5000', 'linux/arm64'],
    ['arm64', 'LOCALHOST:5000', 'linux/arm64'],
    ['arm64', 'ghcr.io/org', 'linux/amd64'],
    ['arm64', undefined, 'linux/amd64'],
  ])('host %s, registry %s -> %s', (hostArch, registry, expected) => {
    const fields: Record<string, PyValue> = registry === undefined ? {} : { registry }
    expect(build(fields, { hostArch }).platform).toBe(expected)
  })

  test('an explicit platform is kept', () => {
    expect(
      build({ registry: 'localhost:30000', platform: 'linux/s390x' }, { hostArch: 'arm64' }).platform,
    ).toBe('linux/s390x')
  })
})

describe('source_copy_mode', () => {
  test('defaults to LOADED_MODULES when source_root is set', () => {
    expect(build({ source_root: '.' }).source_copy_mode).toBe('LOADED_MODULES')
  })

  test('stays unset without source_root', () => {
    expect(build({}).source_copy_mode).toBeUndefined()
  })

  test('a YAML string stays a string (flytekit never converts it); the enum is the member', () => {
    expect(build({ source_root: '.', source_copy_mode: 'ALL' }).source_copy_mode).toEqual(
      new YamlCopyMode('ALL'),
    )
    expect(build({ source_root: '.', source_copy_mode: 'all' }).source_copy_mode).toEqual(
      new YamlCopyMode('all'),
    )
    expect(build({ source_copy_mode: new PyEnum('CopyFileDetection', 'NO_COPY', 3n) }).source_copy_mode).toBe(
      'NO_COPY',
    )
  })

  test('a value that is neither a string nor the enum is an error', () => {
    expect(issuesOf({ source_copy_mode: 2n })).toEqual([
      { path: 'source_copy_mode', message: expect.stringMatching(/LOADED_MODULES, ALL, NO_COPY/) },
    ])
  })
})

describe('base_image', () => {
  test('a string stays a string', () => {
    expect(build({ base_image: 'python:3.11-slim' }).base_image).toBe('python:3.11-slim')
  })

  test('a mapping becomes a nested, normalised ImageSpec', () => {
    const base = new PyDict([
      ['name', 'Base'],
      ['registry', 'GHCR.io/Org'],
      ['source_root', 'src'],
    ])
    expect(build({ base_image: base }, { hostArch: 'arm64' }).base_image).toEqual({
      name: 'base',
      registry: 'ghcr.io/org',
      platform: 'linux/amd64',
      source_root: 'src',
      source_copy_mode: 'LOADED_MODULES',
    })
  })

  test("a nested spec's problems are reported under base_image", () => {
    expect(issuesOf({ base_image: new PyDict([['registry', 'bad registry!']]) })).toEqual([
      { path: 'base_image.registry', message: expect.stringMatching(/not a valid container registry/) },
    ])
  })
})

describe('pip_secret_mounts', () => {
  test('2-item lists and tuples become pairs', () => {
    const spec = build({ pip_secret_mounts: [['.gitconfig', '/etc/gitconfig'], new PyTuple(['a', 'b'])] })
    expect(spec.pip_secret_mounts).toEqual([
      ['.gitconfig', '/etc/gitconfig'],
      ['a', 'b'],
    ])
  })

  test('anything else is an error', () => {
    expect(issuesOf({ pip_secret_mounts: [['only-one']] })[0]?.path).toBe('pip_secret_mounts')
  })
})

describe('what ImageSpec(**d) rejects', () => {
  test.each([
    [{ registry: 'Not A Registry' }, 'registry'],
    [{ registry: 'ghcr.io:123456' }, 'registry'],
    [{ name: null }, 'name'],
    [{ name: 5n }, 'name'],
    [{ packages: ['a', 1n] }, 'packages'],
    [{ commands: 'echo hi' }, 'commands'],
    [{ env: ['A=1'] }, 'env'],
    [{ tag_format: 5n }, 'tag_format'],
    [{ nmae: 'typo' }, 'nmae'],
  ] as [Record<string, PyValue>, string][])('%j', (fields, path) => {
    expect(issuesOf(fields).map((i) => i.path)).toEqual([path])
  })

  test('every problem is reported at once', () => {
    expect(issuesOf({ registry: 'UPPER CASE', packages: 'x', extra: 1n }).map((i) => i.path)).toEqual([
      'extra',
      'registry',
      'packages',
    ])
  })

  test('registry names allowed by flytekit pass', () => {
    // Python's \w and \d are Unicode-aware and its $ also matches before a final newline.
    const allowed = [
      'localhost:30000',
      'ghcr.io/org/sub',
      'docker.io/user',
      'my-reg.example:5000/a_b.c-d',
      'user',
      'ghcr.io/ór٣',
      'ghcr.io/org\n',
    ]
    for (const registry of allowed) expect(build({ registry }).registry).toBe(registry)
  })
})
