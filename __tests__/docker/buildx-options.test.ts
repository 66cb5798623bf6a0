import { describe, expect, test } from '@jest/globals'
import { keyValues, parseSecret } from '../../src/docker/buildx-options.js'

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
