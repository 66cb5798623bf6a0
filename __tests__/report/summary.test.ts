import { describe, expect, test } from '@jest/globals'
import type { ImageOutcome } from '../../src/build/outcome.js'
import { imageEntry, imageWithDigest, mainImage } from '../../src/report/outputs.js'
import { summaryMarkdown } from '../../src/report/summary.js'

const built: ImageOutcome = {
  origin: 'specs/app.yaml:1',
  name: 'app',
  nestedBase: false,
  source: 0,
  state: 'built',
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
const base: ImageOutcome = {
  ...built,
  origin: 'specs/app.yaml:4',
  name: 'base',
  nestedBase: true,
  image: 'ghcr.io/org/base:t0',
  state: 'reused',
  built: false,
  pushed: false,
  buildSeconds: undefined,
}

describe('outputs', () => {
  test.each([
    ['ghcr.io/org/app:tag1', 'sha256:abc', 'ghcr.io/org/app@sha256:abc'],
    ['localhost:5000/app:tag1', 'sha256:abc', 'localhost:5000/app@sha256:abc'],
    ['localhost:5000/app', 'sha256:abc', 'localhost:5000/app@sha256:abc'],
    ['ghcr.io/org/app:tag1', '', ''],
  ])('image-digest of %s', (image, digest, expected) => {
    expect(imageWithDigest(image, digest)).toBe(expected)
  })

  test('an images entry carries origin, flags and the result in the documented keys', () => {
    expect(imageEntry(base)).toEqual({
      origin: 'specs/app.yaml:4',
      name: 'base',
      registry: 'ghcr.io/org',
      image: 'ghcr.io/org/base:t0',
      tag: 't1',
      'spec-id': 'id1',
      digest: 'sha256:abc',
      built: false,
      pushed: false,
      'nested-base': true,
      result: 'reused',
    })
    expect(imageEntry({ ...built, state: 'failed', error: 'boom' })).toMatchObject({
      result: 'failed',
      error: 'boom',
    })
  })

  test('the single-image outputs describe the image of the only spec, never a nested base', () => {
    expect(mainImage([base, built], 1)).toBe(built)
    expect(mainImage([base, built], 2)).toBeUndefined()
  })
})

describe('summary', () => {
  test('one row per image with its spec, result and time, then the register commands', () => {
    const md = summaryMarkdown([base, built], {
      registers: ['pyflyte register --image specs/app.yaml <your workflows>'],
      singleImageOutputs: true,
    })
    expect(md).toContain('### ImageSpec images (2)')
    expect(md).toContain(
      '| specs/app.yaml:4 (nested base) | `ghcr.io/org/base:t0` | reused (already in the registry) | `sha256:abc` | – |',
    )
    expect(md).toContain(
      '| specs/app.yaml:1 | `ghcr.io/org/app:t1` | built and pushed | `sha256:abc` | 12.3 s |',
    )
    expect(md).toContain('FLYTE_IMG_FAST_FAIL=true pyflyte register --image specs/app.yaml <your workflows>')
    expect(md).not.toContain('read `images`')
  })

  test('several specs: a register command each, and a pointer to the images output', () => {
    const md = summaryMarkdown(
      [built, { ...built, origin: 'b.yaml:1', state: 'failed', error: 'exit | 3\nmore' }],
      {
        registers: [
          'pyflyte register --image a.yaml <your workflows>',
          'pyflyte register --image b.yaml <your workflows>',
        ],
        singleImageOutputs: false,
      },
    )
    expect(md).toContain('read `images`')
    expect(md).toContain('**failed**: exit \\| 3 more')
    expect(md.match(/pyflyte register --image/g)).toHaveLength(2)
  })
})
