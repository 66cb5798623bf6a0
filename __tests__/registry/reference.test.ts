import { describe, expect, test } from '@jest/globals'

import {
  apiHost,
  formatDigestReference,
  formatReference,
  InvalidReferenceError,
  isLoopbackRegistry,
  normaliseRegistry,
  parseReference,
  type ImageReference,
} from '../../src/registry/reference.js'

const DIGEST = `sha256:${'a'.repeat(64)}`

describe('parseReference', () => {
  test.each<[string, ImageReference]>([
    ['python', { registry: 'docker.io', repository: 'library/python' }],
    ['python:3.11', { registry: 'docker.io', repository: 'library/python', tag: '3.11' }],
    ['flyteorg/flytekit:py3.11', { registry: 'docker.io', repository: 'flyteorg/flytekit', tag: 'py3.11' }],
    ['docker.io/python:3.11', { registry: 'docker.io', repository: 'library/python', tag: '3.11' }],
    ['index.docker.io/library/python', { registry: 'docker.io', repository: 'library/python' }],
    ['registry-1.docker.io/org/app:v1', { registry: 'docker.io', repository: 'org/app', tag: 'v1' }],
    ['localhost/app', { registry: 'localhost', repository: 'app' }],
    ['localhost:5000/app:t', { registry: 'localhost:5000', repository: 'app', tag: 't' }],
    [
      '127.0.0.1:5000/team/app:abc_123',
      { registry: '127.0.0.1:5000', repository: 'team/app', tag: 'abc_123' },
    ],
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:v1',
      { registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com', repository: 'team/app', tag: 'v1' },
    ],
    [
      'us-east1-docker.pkg.dev/my-project/my-repo/app:t1',
      { registry: 'us-east1-docker.pkg.dev', repository: 'my-project/my-repo/app', tag: 't1' },
    ],
    ['ghcr.io/owner/app@' + DIGEST, { registry: 'ghcr.io', repository: 'owner/app', digest: DIGEST }],
    [
      'ghcr.io/owner/app:v1@' + DIGEST,
      { registry: 'ghcr.io', repository: 'owner/app', tag: 'v1', digest: DIGEST },
    ],
    ['GHCR.IO/owner/app', { registry: 'ghcr.io', repository: 'owner/app' }],
    ['[::1]:5000/app:v1', { registry: '[::1]:5000', repository: 'app', tag: 'v1' }],
    ['a.b/c__d/e-f--g.h:T-1.x', { registry: 'a.b', repository: 'c__d/e-f--g.h', tag: 'T-1.x' }],
  ])('%s', (input, expected) => {
    expect(parseReference(input)).toEqual(expected)
  })

  test.each([
    ['', /it is empty/],
    ['ghcr.io/Owner/app:v1', /repository names must be lowercase \('Owner'/],
    ['ghcr.io/', /the repository name is missing/],
    ['ghcr.io//app', /empty component/],
    ['app:-bad', /'-bad' is not a valid tag/],
    ['app:' + 'x'.repeat(129), /is not a valid tag/],
    ['app@sha256:short', /is not a digest/],
    ['bad_host.:5000/app', /is not a valid registry host/],
    ['app/with space', /is not a valid repository path component/],
  ])('rejects %j', (input, message) => {
    expect(() => parseReference(input)).toThrow(InvalidReferenceError)
    expect(() => parseReference(input)).toThrow(message)
  })
})

describe('formatting', () => {
  test.each([
    ['python:3.11', 'docker.io/library/python:3.11'],
    ['127.0.0.1:5000/app', '127.0.0.1:5000/app'],
    ['ghcr.io/o/app:v1@' + DIGEST, `ghcr.io/o/app:v1@${DIGEST}`],
  ])('formatReference(%s) = %s', (input, expected) => {
    expect(formatReference(parseReference(input))).toBe(expected)
  })

  test('formatReference round-trips through parseReference', () => {
    for (const input of ['python', 'localhost:5000/a/b:c', 'ghcr.io/o/app@' + DIGEST]) {
      const once = parseReference(input)
      expect(parseReference(formatReference(once))).toEqual(once)
    }
  })

  test('formatDigestReference drops the tag', () => {
    expect(formatDigestReference(parseReference('ghcr.io/o/app:v1'), DIGEST)).toBe(`ghcr.io/o/app@${DIGEST}`)
  })
})

describe('hosts', () => {
  test.each([
    ['docker.io', 'registry-1.docker.io'],
    ['ghcr.io', 'ghcr.io'],
    ['127.0.0.1:5000', '127.0.0.1:5000'],
  ])('apiHost(%s) = %s', (registry, expected) => {
    expect(apiHost(registry)).toBe(expected)
  })

  test.each([
    ['https://index.docker.io/v1/', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['https://GHCR.io/', 'ghcr.io'],
    ['http://127.0.0.1:5000', '127.0.0.1:5000'],
    [' 123.dkr.ecr.eu-west-1.amazonaws.com ', '123.dkr.ecr.eu-west-1.amazonaws.com'],
  ])('normaliseRegistry(%j) = %s', (input, expected) => {
    expect(normaliseRegistry(input)).toBe(expected)
  })

  test.each([
    ['localhost', true],
    ['localhost:5000', true],
    ['127.0.0.1:5000', true],
    ['127.3.4.5', true],
    ['[::1]:5000', true],
    ['0.0.0.0:5000', false],
    ['128.0.0.1', false],
    ['localhost.example.com', false],
    ['ghcr.io', false],
  ])('isLoopbackRegistry(%s) = %s', (host, expected) => {
    expect(isLoopbackRegistry(host)).toBe(expected)
  })
})
