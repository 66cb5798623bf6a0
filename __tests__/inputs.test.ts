/**
 * The action's inputs as the runner passes them (INPUT_<NAME> variables, dashes kept): typed values, defaults,
 * and errors that name the input.
 */
import { afterEach, describe, expect, test } from '@jest/globals'
import { InputError } from '../src/errors.js'
import { getInputs } from '../src/inputs.js'

const set = (vars: Record<string, string>) => {
  for (const [k, v] of Object.entries(vars)) process.env[`INPUT_${k.toUpperCase()}`] = v
}

afterEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) delete process.env[k]
})

describe('getInputs', () => {
  test('defaults when nothing is set', () => {
    const inputs = getInputs()
    expect(inputs).toMatchObject({
      specs: [],
      workingDirectory: '.',
      dryRun: false,
      installer: 'uv',
      push: true,
      force: false,
      onCheckError: 'fail',
      provenance: 'false',
      sbom: 'false',
      buildxVersion: 'v0.29.1',
      inline: {},
    })
    expect(inputs.ecr).toMatchObject({ createRepository: true, scanOnPush: true, tagMutability: 'MUTABLE' })
    expect(inputs.gcp).toMatchObject({ auth: 'auto', universe: 'googleapis.com' })
  })

  test('lists take one item per line; inline spec inputs are kept raw for the spec module', () => {
    set({
      'cache-from': 'type=registry,ref=a\n\n  type=gha  \n',
      packages: 'numpy\npandas\n',
      'dry-run': 'TRUE',
      'ecr-repository-tags': 'team=ml\ncost-center=42',
      'aws-role-duration-seconds': '7200',
    })
    const inputs = getInputs()
    expect(inputs.cacheFrom).toEqual(['type=registry,ref=a', 'type=gha'])
    expect(inputs.inline).toEqual({ packages: 'numpy\npandas' })
    expect(inputs.dryRun).toBe(true)
    expect(inputs.ecr.tags).toEqual({ team: 'ml', 'cost-center': '42' })
    expect(inputs.aws.roleDurationSeconds).toBe(7200)
  })

  test.each([
    [{ force: 'maybe' }, "Input 'force': 'maybe' is not a boolean; use true or false"],
    [{ installer: 'conda' }, "Input 'installer': 'conda' is not one of uv, pip"],
    [{ 'on-check-error': 'ignore' }, "Input 'on-check-error': 'ignore' is not one of fail, build"],
    [
      { 'ecr-tag-mutability': 'immutable' },
      "Input 'ecr-tag-mutability': 'immutable' is not one of MUTABLE, IMMUTABLE",
    ],
    [
      { 'aws-role-duration-seconds': '1h' },
      "Input 'aws-role-duration-seconds': '1h' is not a whole number of seconds; write digits only, e.g. 3600",
    ],
    [{ 'parallel-builds': '0' }, "Input 'parallel-builds': must be at least 1 (or empty for the default)"],
    [
      { 'parallel-builds': 'many' },
      "Input 'parallel-builds': 'many' is not a whole number of builds; write digits only, e.g. 2",
    ],
    [
      { spec: 'a.yaml\nb.yaml', name: 'x', packages: 'numpy' },
      "Input 'name', 'packages': inline ImageSpec inputs change exactly one spec, but 'spec' names 2 files " +
        '(a.yaml, b.yaml): which one would they change? Put the values in the spec files, or build that spec in a ' +
        'step of its own',
    ],
    [
      { 'ecr-repository-tags': 'novalue' },
      "Input 'ecr-repository-tags': 'novalue' is not KEY=VALUE; write one per line",
    ],
  ])('%j is refused naming the input', (vars, message) => {
    set(vars)
    let error: unknown
    try {
      getInputs()
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InputError)
    expect((error as Error).message).toBe(message)
  })

  test('spec takes one file per line; inline inputs work with exactly one', () => {
    set({ spec: 'specs/a.yaml\n\n  specs/b.yaml  \n# not this one\n' })
    expect(getInputs().specs).toEqual(['specs/a.yaml', 'specs/b.yaml'])
    set({ spec: 'specs/a.yaml', packages: 'numpy' })
    expect(getInputs()).toMatchObject({ specs: ['specs/a.yaml'], inline: { packages: 'numpy' } })
  })

  test("parallel-builds: a number, or two to four by the runner's cores", () => {
    const auto = getInputs().parallelBuilds
    expect(auto).toBeGreaterThanOrEqual(2)
    expect(auto).toBeLessThanOrEqual(4)
    set({ 'parallel-builds': '7' })
    expect(getInputs().parallelBuilds).toBe(7)
  })

  test('the password is masked before anything else happens', () => {
    set({ password: 's3cr3t-value' })
    const writes: string[] = []
    const original = process.stdout.write.bind(process.stdout)
    process.stdout.write = ((chunk: string) => {
      writes.push(String(chunk))
      return true
    }) as typeof process.stdout.write
    try {
      expect(getInputs().password).toBe('s3cr3t-value')
    } finally {
      process.stdout.write = original
    }
    expect(writes.join('')).toContain('::add-mask::s3cr3t-value')
  })
})
