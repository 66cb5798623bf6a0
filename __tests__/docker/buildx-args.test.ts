import { describe, expect, test } from '@jest/globals'

import {
  buildxArgs,
  cacheType,
  exportsCache,
  wantsAttestation,
  type BuildPlan,
} from '../../src/docker/buildx-args.js'

const base: BuildPlan = {
  context: '/ctx',
  tags: ['127.0.0.1:5000/app:abc'],
  output: 'push',
  metadataFile: '/tmp/meta.json',
}

describe('buildxArgs', () => {
  // Laid out one flag per line on purpose: the expected argv reads like the command line.
  // prettier-ignore
  test.each<[string, Partial<BuildPlan>, string[]]>([
    [
      'minimal push: metadata file and provenance off are always there',
      {},
      [
        'buildx', 'build', '--progress=plain',
        '--tag', '127.0.0.1:5000/app:abc',
        '--push',
        '--metadata-file', '/tmp/meta.json',
        '--provenance=false',
        '/ctx',
      ],
    ],
    [
      'load with a Dockerfile and several tags',
      { output: 'load', dockerfile: '/ctx/Dockerfile.gen', tags: ['a/b:1', 'c/d:2'] },
      [
        'buildx', 'build', '--progress=plain',
        '--file', '/ctx/Dockerfile.gen',
        '--tag', 'a/b:1', '--tag', 'c/d:2',
        '--load',
        '--metadata-file', '/tmp/meta.json',
        '--provenance=false',
        '/ctx',
      ],
    ],
    [
      'into the build cache only (built first, pushed later with fresh credentials)',
      { output: 'cache' },
      [
        'buildx', 'build', '--progress=plain',
        '--tag', '127.0.0.1:5000/app:abc',
        '--output', 'type=cacheonly',
        '--metadata-file', '/tmp/meta.json',
        '--provenance=false',
        '/ctx',
      ],
    ],
    [
      'everything',
      {
        builder: 'ci-builder',
        platforms: ['linux/amd64', 'linux/arm64'],
        labels: { 'org.opencontainers.image.revision': 'abc123', note: 'has spaces = and more' },
        buildArgs: { PYTHON_VERSION: '3.11', EMPTY: '' },
        secrets: [
          { id: 'pip', src: '/run/secrets/pip.conf' },
          { id: 'token', env: 'GH_TOKEN' },
        ],
        cacheFrom: ['type=registry,ref=reg/app:buildcache'],
        cacheTo: ['type=registry,ref=reg/app:buildcache,mode=max,image-manifest=true,oci-mediatypes=true'],
        network: 'host',
        provenance: 'mode=max',
        sbom: true,
        noCache: true,
        pull: true,
      },
      [
        'buildx', 'build',
        '--builder', 'ci-builder',
        '--progress=plain',
        '--tag', '127.0.0.1:5000/app:abc',
        '--platform', 'linux/amd64,linux/arm64',
        '--push',
        '--metadata-file', '/tmp/meta.json',
        '--provenance=mode=max',
        '--sbom=true',
        '--label', 'org.opencontainers.image.revision=abc123',
        '--label', 'note=has spaces = and more',
        '--build-arg', 'PYTHON_VERSION=3.11',
        '--build-arg', 'EMPTY=',
        '--secret', 'id=pip,src=/run/secrets/pip.conf',
        '--secret', 'id=token,env=GH_TOKEN',
        '--cache-from', 'type=registry,ref=reg/app:buildcache',
        '--cache-to', 'type=registry,ref=reg/app:buildcache,mode=max,image-manifest=true,oci-mediatypes=true',
        '--network', 'host',
        '--no-cache',
        '--pull',
        '/ctx',
      ],
    ],
    [
      'provenance true, sbom false, empty optional lists',
      { provenance: true, sbom: false, platforms: [], cacheFrom: [], secrets: [], builder: '' },
      [
        'buildx', 'build', '--progress=plain',
        '--tag', '127.0.0.1:5000/app:abc',
        '--push',
        '--metadata-file', '/tmp/meta.json',
        '--provenance=true',
        '--sbom=false',
        '/ctx',
      ],
    ],
    [
      'a secret path with a comma is CSV-quoted',
      { secrets: [{ id: 'cfg', src: '/tmp/a,b "c".conf' }] },
      [
        'buildx', 'build', '--progress=plain',
        '--tag', '127.0.0.1:5000/app:abc',
        '--push',
        '--metadata-file', '/tmp/meta.json',
        '--provenance=false',
        '--secret', 'id=cfg,"src=/tmp/a,b ""c"".conf"',
        '/ctx',
      ],
    ],
    [
      'a reproducible push: the image exporter rewrites layer times, stores nothing locally; the epoch is a build arg',
      { sourceDateEpoch: 1700000000, rewriteTimestamp: true, buildArgs: { PYTHON_VERSION: '3.11' } },
      [
        'buildx', 'build', '--progress=plain',
        '--tag', '127.0.0.1:5000/app:abc',
        '--output', 'type=image,push=true,rewrite-timestamp=true,store=false',
        '--metadata-file', '/tmp/meta.json',
        '--provenance=false',
        '--build-arg', 'PYTHON_VERSION=3.11',
        '--build-arg', 'SOURCE_DATE_EPOCH=1700000000',
        '/ctx',
      ],
    ],
    [
      'a builder that cannot rewrite: a plain push, the epoch still a build arg (0 included)',
      { sourceDateEpoch: 0 },
      [
        'buildx', 'build', '--progress=plain',
        '--tag', '127.0.0.1:5000/app:abc',
        '--push',
        '--metadata-file', '/tmp/meta.json',
        '--provenance=false',
        '--build-arg', 'SOURCE_DATE_EPOCH=0',
        '/ctx',
      ],
    ],
    [
      "the user's SOURCE_DATE_EPOCH build arg is given once, as the plan's epoch",
      { sourceDateEpoch: 42, buildArgs: { SOURCE_DATE_EPOCH: '42', A: 'b' } },
      [
        'buildx', 'build', '--progress=plain',
        '--tag', '127.0.0.1:5000/app:abc',
        '--push',
        '--metadata-file', '/tmp/meta.json',
        '--provenance=false',
        '--build-arg', 'A=b',
        '--build-arg', 'SOURCE_DATE_EPOCH=42',
        '/ctx',
      ],
    ],
    [
      'without an epoch, a SOURCE_DATE_EPOCH build arg passes as it is',
      { buildArgs: { SOURCE_DATE_EPOCH: '42' } },
      [
        'buildx', 'build', '--progress=plain',
        '--tag', '127.0.0.1:5000/app:abc',
        '--push',
        '--metadata-file', '/tmp/meta.json',
        '--provenance=false',
        '--build-arg', 'SOURCE_DATE_EPOCH=42',
        '/ctx',
      ],
    ],
    [
      'rewrite applies to pushes only: a load keeps --load',
      { output: 'load', sourceDateEpoch: 5, rewriteTimestamp: true },
      [
        'buildx', 'build', '--progress=plain',
        '--tag', '127.0.0.1:5000/app:abc',
        '--load',
        '--metadata-file', '/tmp/meta.json',
        '--provenance=false',
        '--build-arg', 'SOURCE_DATE_EPOCH=5',
        '/ctx',
      ],
    ],
    [
      'rewrite applies to pushes only: the cache-only build exports no image',
      { output: 'cache', sourceDateEpoch: 5, rewriteTimestamp: true },
      [
        'buildx', 'build', '--progress=plain',
        '--tag', '127.0.0.1:5000/app:abc',
        '--output', 'type=cacheonly',
        '--metadata-file', '/tmp/meta.json',
        '--provenance=false',
        '--build-arg', 'SOURCE_DATE_EPOCH=5',
        '/ctx',
      ],
    ],
  ])('%s', (_name, overrides, expected) => {
    expect(buildxArgs({ ...base, ...overrides })).toEqual(expected)
  })
})

describe('helpers', () => {
  test.each([
    [undefined, false],
    [false, false],
    [true, true],
    ['false', false],
    ['disabled', false],
    ['mode=min', true],
    ['', false],
  ])('wantsAttestation(%j) = %s', (value, expected) => {
    expect(wantsAttestation(value)).toBe(expected)
  })

  test.each([
    ['type=registry,ref=r/a:c', 'registry'],
    ['type=inline', 'inline'],
    [' type = gha ,scope=x', 'gha'],
    ['r/a:cache', 'registry'],
  ])('cacheType(%j) = %s', (spec, expected) => {
    expect(cacheType(spec)).toBe(expected)
  })

  test('only non-inline cache exports count as exporting', () => {
    expect(exportsCache(undefined)).toBe(false)
    expect(exportsCache(['type=inline'])).toBe(false)
    expect(exportsCache(['type=inline', 'type=local,dest=/tmp/c'])).toBe(true)
  })
})
