import { describe, expect, test } from '@jest/globals'
import { InputError } from '../../src/errors.js'
import { flytekitRequirement, imageChain, specsForRegistries } from '../../src/plan/targets.js'
import type { ImageSpec } from '../../src/spec/model.js'

const base: ImageSpec = {
  name: 'base',
  registry: 'ghcr.io/org',
  platform: 'linux/amd64',
  packages: ['torch'],
}
const child: ImageSpec = { name: 'child', registry: 'ghcr.io/org', platform: 'linux/amd64', base_image: base }

describe('imageChain', () => {
  test('nested base specs come first, deepest first', () => {
    const grand: ImageSpec = { name: 'grand', platform: 'linux/amd64', base_image: child }
    expect(imageChain(grand).map((s) => s.name)).toEqual(['base', 'child', 'grand'])
    expect(
      imageChain({ name: 'solo', platform: 'linux/amd64', base_image: 'debian' }).map((s) => s.name),
    ).toEqual(['solo'])
  })
})

describe('specsForRegistries', () => {
  test('no registries input: the spec itself', () => {
    expect(specsForRegistries(child, [])).toEqual([child])
  })

  test('one spec per registry, lower-cased; a base in the same registry follows it, another stays', () => {
    const elsewhere: ImageSpec = { ...child, base_image: { ...base, registry: 'quay.io/other' } }
    const [east, west] = specsForRegistries(elsewhere, ['ECR-East.example/Team', 'ecr-west.example/team'])
    expect(east?.registry).toBe('ecr-east.example/team')
    expect(west?.registry).toBe('ecr-west.example/team')
    expect((east?.base_image as ImageSpec).registry).toBe('quay.io/other')
    const [followed] = specsForRegistries(child, ['ecr-east.example/team'])
    expect((followed?.base_image as ImageSpec).registry).toBe('ecr-east.example/team')
  })
})

describe('flytekitRequirement', () => {
  test.each([
    ['', 'flytekit'],
    ['none', null],
    ['NONE', null],
    ['1.16.24', 'flytekit==1.16.24'],
    ['1.16.0rc1', 'flytekit==1.16.0rc1'],
    ['flytekit>=1.16,<2', 'flytekit>=1.16,<2'],
    ['flytekit[all]==1.16.24', 'flytekit[all]==1.16.24'],
  ])('%j -> %j', (input, expected) => {
    expect(flytekitRequirement(input)).toBe(expected)
  })

  test('anything else names the input', () => {
    expect(() => flytekitRequirement('latest')).toThrow(InputError)
    expect(() => flytekitRequirement('latest')).toThrow(/Input 'flytekit-version': 'latest' is not a version/)
  })
})
