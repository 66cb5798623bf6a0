import { describe, expect, test } from '@jest/globals'
import { InputError } from '../src/errors.js'
import { flytekitRequirement, imageChain, specsForRegistries } from '../src/plan.js'
import { keyValues, parseSecret } from '../src/plan-inputs.js'
import { imageWithDigest, summaryMarkdown, type ImageResult } from '../src/outputs.js'
import { installerWarnings } from '../src/pipeline/prepare.js'
import type { ImageSpec } from '../src/spec/model.js'

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

describe('build inputs', () => {
  test('KEY=VALUE lines keep everything after the first =', () => {
    expect(keyValues(['A=1', 'B=x=y', 'C='], 'build-args')).toEqual({ A: '1', B: 'x=y', C: '' })
    expect(() => keyValues(['=1'], 'labels')).toThrow(
      "Input 'labels': '=1' is not KEY=VALUE; write one per line",
    )
  })

  test.each([
    ['id=netrc,src=/home/runner/.netrc', { id: 'netrc', src: '/home/runner/.netrc' }],
    ['id=pip,source=pip.conf', { id: 'pip', src: 'pip.conf' }],
    ['id=token,env=INDEX_TOKEN', { id: 'token', env: 'INDEX_TOKEN' }],
  ])('secret %s', (text, expected) => {
    expect(parseSecret(text)).toEqual(expected)
  })

  test('a secret without id or source names the input, not the value', () => {
    expect(() => parseSecret('src=/x')).toThrow(
      /Input 'secrets': .*write id=NAME,src=FILE or id=NAME,env=VARIABLE/,
    )
  })
})

describe('outputs', () => {
  test.each([
    ['ghcr.io/org/app:tag1', 'sha256:abc', 'ghcr.io/org/app@sha256:abc'],
    ['localhost:5000/app:tag1', 'sha256:abc', 'localhost:5000/app@sha256:abc'],
    ['localhost:5000/app', 'sha256:abc', 'localhost:5000/app@sha256:abc'],
    ['ghcr.io/org/app:tag1', '', ''],
  ])('image-digest of %s', (image, digest, expected) => {
    expect(imageWithDigest(image, digest)).toBe(expected)
  })

  test('the summary has a row per image and the register command', () => {
    const result: ImageResult = {
      registry: 'ghcr.io/org',
      image: 'ghcr.io/org/app:t1',
      tag: 't1',
      specId: 'id1',
      digest: 'sha256:abc',
      built: true,
      pushed: true,
      dockerfile: '/tmp/Dockerfile',
      buildSeconds: 12.34,
    }
    const md = summaryMarkdown(
      [result, { ...result, image: 'ghcr.io/org/app:t2', built: false, buildSeconds: undefined }],
      'imagespec.yaml',
      false,
    )
    expect(md).toContain('| `ghcr.io/org/app:t1` | `sha256:abc` | built and pushed | 12.3 s |')
    expect(md).toContain('| `ghcr.io/org/app:t2` | `sha256:abc` | reused (already in the registry) | – |')
    expect(md).toContain('FLYTE_IMG_FAST_FAIL=true pyflyte register --image imagespec.yaml <your workflows>')
  })
})

describe('installer warnings', () => {
  test("installer pip with python_version warns that the base image's Python is used", () => {
    const spec: ImageSpec = { name: 'a', platform: 'linux/amd64', python_version: '3.11' }
    expect(installerWarnings(spec, 'pip')).toEqual([
      expect.stringMatching(/installer 'pip' uses the base image's own Python/),
    ])
    expect(installerWarnings(spec, 'uv')).toEqual([])
    expect(installerWarnings({ name: 'a', platform: 'linux/amd64' }, 'pip')).toEqual([])
  })
})
