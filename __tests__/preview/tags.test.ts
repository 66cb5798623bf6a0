import { describe, expect, test } from '@jest/globals'
import { InputError } from '../../src/errors.js'
import { parsePullRequestEvent } from '../../src/preview/pull-request.js'
import {
  expandTagPattern,
  isPreviewTagOf,
  previewTagMatcher,
  previewTagRegExp,
  tagsForImage,
  validateTagPatterns,
} from '../../src/preview/tags.js'
import { planCleanup } from '../../src/preview/cleanup-plan.js'

const SHA = '3f1c0a9e8b7d6c5b4a39281706f5e4d3c2b1a098'
const pr = { number: 42, headSha: SHA, action: 'synchronize', headRepo: 'o/r', baseRepo: 'o/r' }

describe('tag patterns', () => {
  test.each([
    ['pr-{pr}', 'pr-42'],
    ['pr-{pr}-{short_sha}', 'pr-42-3f1c0a9'],
    ['{sha}', '3f1c0a9e8b7d6c5b4a39281706f5e4d3c2b1a098'],
    ['preview-{tag}', 'preview-AbC_12'],
    ['plain', 'plain'],
    ['v1.2.3-{pr}', 'v1.2.3-42'],
  ])('%s -> %s', (pattern, expected) => {
    expect(expandTagPattern(pattern, { pr: '42', sha: SHA, short_sha: '3f1c0a9', tag: 'AbC_12' })).toBe(
      expected,
    )
  })

  test.each([
    ['{branch}', /placeholders are/],
    ['-{pr}', /not a Docker tag/],
    ['.hidden', /not a Docker tag/],
    ['pr/{pr}', /not a Docker tag/],
    ['pr {pr}', /not a Docker tag/],
    ['x'.repeat(129), /not a Docker tag/],
    ['{sha}{sha}{sha}{sha}', /not a Docker tag/],
  ])('rejects %s', (pattern, message) => {
    const attempt = () => validateTagPatterns([pattern])
    expect(attempt).toThrow(InputError)
    expect(attempt).toThrow(message)
  })

  test('defaults on a pull request: pr-<n> and pr-<n>-<7 hex>, plus extra tags, never the flytekit tag again', () => {
    expect(tagsForImage({ previewTags: [], extraTags: ['latest', 'AbC_12'] }, pr, 'AbC_12')).toEqual({
      preview: ['pr-42', 'pr-42-3f1c0a9'],
      extra: ['latest'],
    })
  })

  test('outside pull requests only extra tags; `none` turns preview tags off', () => {
    expect(tagsForImage({ previewTags: [], extraTags: ['main'] }, undefined, 'T')).toEqual({
      preview: [],
      extra: ['main'],
    })
    expect(tagsForImage({ previewTags: ['none'], extraTags: [] }, pr, 'T')).toEqual({
      preview: [],
      extra: [],
    })
    expect(tagsForImage({ previewTags: ['pr{pr}', 'pr{pr}'], extraTags: [] }, pr, 'T')).toEqual({
      preview: ['pr42'],
      extra: [],
    })
  })

  test('a pull request without a head commit cannot name {short_sha} tags, but can name others', () => {
    const noSha = parsePullRequestEvent('pull_request', { number: 3, pull_request: { head: { sha: 'abc' } } })
    expect(noSha?.headSha).toBe('')
    expect(() => tagsForImage({ previewTags: [], extraTags: [] }, noSha, 'T')).toThrow(
      /#3 has no head commit/,
    )
    expect(tagsForImage({ previewTags: ['pr-{pr}'], extraTags: [] }, noSha, 'T').preview).toEqual(['pr-3'])
    expect(() => tagsForImage({ previewTags: [], extraTags: ['{short_sha}'] }, undefined, 'T')).toThrow(
      /not a pull request/,
    )
  })

  test.each([
    ['pr-42', true],
    ['pr-42-3f1c0a9', true],
    ['pr-42-anything', true],
    ['pr-420', false],
    ['pr-4', false],
    ['pr-42x', false],
    ['xpr-42', false],
    ['AbC_12', false],
  ])('cleanup matches %s: %s', (tag, expected) => {
    expect(isPreviewTagOf(tag, 42)).toBe(expected)
  })
})

describe('cleanup matchers for preview-tags patterns', () => {
  const FLYTE = 'AbC_12dEf34GhI56jKl78m'
  const SHA64 = `${SHA}${'0123456789abcdef01234567'}`

  test.each<[string, string, boolean]>([
    ['pr-{pr}', 'pr-7', true],
    ['pr-{pr}', 'pr-70', false],
    ['pr-{pr}', 'pr-17', false],
    ['pr-{pr}', 'pr-7-3f1c0a9', false],
    ['pr-{pr}', 'xpr-7', false],
    ['preview-{pr}-{short_sha}', 'preview-7-3f1c0a9', true],
    ['preview-{pr}-{short_sha}', 'preview-7-0badc0d', true],
    ['preview-{pr}-{short_sha}', 'preview-70-3f1c0a9', false],
    ['preview-{pr}-{short_sha}', 'preview-7-3f1c0a', false],
    ['preview-{pr}-{short_sha}', 'preview-7-3f1c0a98', false],
    ['preview-{pr}-{short_sha}', 'preview-7-3F1C0A9', false],
    ['preview-{pr}-{short_sha}', 'preview-7-zzzzzzz', false],
    ['preview-{pr}-{short_sha}', 'preview-7', false],
    ['preview-{pr}-{short_sha}', 'pr-7', false],
    ['{pr}-{sha}', `7-${SHA}`, true],
    ['{pr}-{sha}', `7-${SHA64}`, true],
    ['{pr}-{sha}', `7-${SHA.slice(0, 39)}`, false],
    ['{pr}-{sha}', `77-${SHA}`, false],
    ['{pr}{short_sha}', '73f1c0a9', true],
    ['{pr}{short_sha}', '703f1c0a9', false],
    ['{pr}{short_sha}', '03f1c0a9', false],
    ['preview-{pr}-{tag}', `preview-7-${FLYTE}`, true],
    ['preview-{pr}-{tag}', 'preview-7-v1.2_x-y', true],
    ['preview-{pr}-{tag}', `preview-70-${FLYTE}`, false],
    ['preview-{pr}-{tag}', 'preview-7-', false],
    ['{tag}-pr{pr}', `${FLYTE}-pr7`, true],
    ['{tag}-pr{pr}', `${FLYTE}-pr17`, false],
    ['{tag}-pr{pr}', `${FLYTE}-pr7x`, false],
    ['{tag}.{pr}.{tag}', `${FLYTE}.7.${FLYTE}`, true],
    ['{tag}.{pr}.{tag}', `${FLYTE}.7.other`, false],
    ['v1.{pr}', 'v1.7', true],
    ['v1.{pr}', 'v1x7', false],
    ['v1.{pr}', 'v1.70', false],
    ['pr-{pr}-{pr}', 'pr-7-7', true],
    ['pr-{pr}-{pr}', 'pr-7-70', false],
  ])('%s for #7: %s -> %s', (pattern, tag, expected) => {
    expect(previewTagMatcher([pattern], 7).matches(tag)).toBe(expected)
  })

  test('several patterns: a tag of any of them goes, nothing else', () => {
    const m = previewTagMatcher(['preview-{pr}-{short_sha}', 'pr{pr}'], 7)
    expect(
      ['preview-7-3f1c0a9', 'pr7', 'pr-7', 'pr70', 'preview-70-3f1c0a9', FLYTE].filter(m.matches),
    ).toEqual(['preview-7-3f1c0a9', 'pr7'])
    expect(m).toMatchObject({ prNumber: 7, usable: 2, ignored: [] })
  })

  test('no preview-tags input: the default pr-<n> and pr-<n>-*, as before', () => {
    const m = previewTagMatcher([], 42)
    expect(
      ['pr-42', 'pr-42-3f1c0a9', 'pr-42-anything', 'pr-420', 'pr-4', 'xpr-42'].filter(m.matches),
    ).toEqual(['pr-42', 'pr-42-3f1c0a9', 'pr-42-anything'])
    expect(m.ignored).toEqual([])
  })

  test('`none` matches nothing', () => {
    const m = previewTagMatcher(['none'], 7)
    expect(m.usable).toBe(0)
    expect(['pr-7', 'pr-7-3f1c0a9', 'none'].some(m.matches)).toBe(false)
  })

  test.each([
    ['{tag}', /no \{pr\}/],
    ['preview-{short_sha}', /no \{pr\}/],
    ['latest', /no \{pr\}/],
    ['{tag}{pr}', /not set off/],
    ['pr{pr}{tag}', /not set off/],
    ['{tag}-1{pr}', /not set off/],
    ['{pr}{short_sha}-{tag}', /not set off/],
  ])('%s is never deleted by', (pattern, reason) => {
    expect(previewTagRegExp(pattern, 7).reason).toMatch(reason)
    const m = previewTagMatcher([pattern, 'pr-{pr}'], 7)
    expect(m.ignored).toEqual([{ pattern, reason: expect.stringMatching(reason) }])
    expect(m.usable).toBe(1)
    expect(m.matches('pr-7')).toBe(true)
  })

  test('an unknown placeholder is an input error', () => {
    expect(() => previewTagMatcher(['pr-{branch}'], 7)).toThrow(InputError)
  })
})

describe('pull request events', () => {
  const payload = {
    action: 'opened',
    number: 7,
    pull_request: {
      number: 7,
      head: { sha: SHA.toUpperCase(), repo: { full_name: 'fork/r' } },
      base: { repo: { full_name: 'o/r' } },
    },
  }

  test.each([
    [
      'pull_request',
      payload,
      { number: 7, headSha: SHA, action: 'opened', headRepo: 'fork/r', baseRepo: 'o/r' },
    ],
    [
      'pull_request_target',
      { ...payload, action: 'closed' },
      { number: 7, headSha: SHA, action: 'closed', headRepo: 'fork/r', baseRepo: 'o/r' },
    ],
    ['push', payload, undefined],
    ['workflow_dispatch', {}, undefined],
  ])('%s', (event, body, expected) => {
    expect(parsePullRequestEvent(event, body)).toEqual(expected)
  })

  test.each([
    [{}, /no pull_request object/],
    [{ pull_request: { head: { sha: SHA } } }, /no pull request number/],
  ])('rejects a broken payload %#', (body, message) => {
    expect(() => parsePullRequestEvent('pull_request', body)).toThrow(message)
  })
})

describe('cleanup plan', () => {
  const A = `sha256:${'a'.repeat(64)}`
  const B = `sha256:${'b'.repeat(64)}`
  const C = `sha256:${'c'.repeat(64)}`
  const tags = new Map([
    ['FlyteTag', A],
    ['pr-42', A],
    ['pr-42-1111111', A],
    ['pr-42-2222222', B],
    ['pr-420', C],
    ['pr-42-3333333', C],
  ])

  test('by digest: keeps images another tag names, deletes the rest', () => {
    expect(planCleanup(tags, (t) => isPreviewTagOf(t, 42), true)).toEqual({
      delete: [{ digest: B, tags: ['pr-42-2222222'] }],
      keep: [
        { digest: A, tags: ['pr-42', 'pr-42-1111111'], sharedWith: ['FlyteTag'] },
        { digest: C, tags: ['pr-42-3333333'], sharedWith: ['pr-420'] },
      ],
    })
  })

  test('with a custom pattern: only its tags count as preview tags; the default ones are other tags', () => {
    const custom = new Map([
      ['FlyteTag', A],
      ['preview-42-1111111', A],
      ['pr-42', B],
      ['preview-42-2222222', B],
      ['preview-42-3333333', C],
      ['preview-420-3333333', C],
    ])
    expect(planCleanup(custom, previewTagMatcher(['preview-{pr}-{short_sha}'], 42).matches, true)).toEqual({
      delete: [],
      keep: [
        { digest: A, tags: ['preview-42-1111111'], sharedWith: ['FlyteTag'] },
        { digest: B, tags: ['preview-42-2222222'], sharedWith: ['pr-42'] },
        { digest: C, tags: ['preview-42-3333333'], sharedWith: ['preview-420-3333333'] },
      ],
    })
    const byTag = planCleanup(custom, previewTagMatcher(['preview-{pr}-{short_sha}'], 42).matches, false)
    expect(byTag.delete.flatMap((g) => g.tags).sort()).toEqual([
      'preview-42-1111111',
      'preview-42-2222222',
      'preview-42-3333333',
    ])
  })

  test('by tag (ECR, Artifact Registry): every preview tag goes, other tags stay', () => {
    const plan = planCleanup(tags, (t) => isPreviewTagOf(t, 42), false)
    expect(plan.keep).toEqual([])
    expect(plan.delete.flatMap((g) => g.tags).sort()).toEqual([
      'pr-42',
      'pr-42-1111111',
      'pr-42-2222222',
      'pr-42-3333333',
    ])
  })
})
