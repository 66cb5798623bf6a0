import { describe, expect, test } from '@jest/globals'
import { createdLabel, epochTime, ociLabels, readRunContext } from '../src/github.js'

describe('the run context', () => {
  test('is read from the runner environment, with defaults outside a runner', () => {
    const ctx = readRunContext({
      GITHUB_WORKSPACE: '/w',
      RUNNER_TEMP: '/t',
      GITHUB_REPOSITORY: 'octo/app',
      GITHUB_SHA: 'deadbeef',
      GITHUB_ACTOR: 'octocat',
    })
    expect(ctx).toMatchObject({
      workspace: '/w',
      runnerTemp: '/t',
      serverUrl: 'https://github.com',
      repository: 'octo/app',
      sha: 'deadbeef',
      actor: 'octocat',
      sourceDateEpoch: '',
    })
  })

  test("keeps the user's SOURCE_DATE_EPOCH, trimmed", () => {
    expect(readRunContext({ SOURCE_DATE_EPOCH: ' 1700000000\n' }).sourceDateEpoch).toBe('1700000000')
  })

  test.each([
    [
      'a GitHub run',
      { serverUrl: 'https://github.example.com/', repository: 'octo/app', sha: 'deadbeef' },
      {
        'org.opencontainers.image.source': 'https://github.example.com/octo/app',
        'org.opencontainers.image.revision': 'deadbeef',
      },
    ],
    [
      'outside GitHub: nothing to tie the image to',
      { serverUrl: 'https://github.com', repository: '', sha: '' },
      {},
    ],
  ])('OCI labels: %s (never the time of the run)', (_name, fields, expected) => {
    const ctx = { ...readRunContext({}), ...fields }
    expect(ociLabels(ctx)).toEqual(expected)
  })

  // Expected values by `date -u -d @N +%Y-%m-%dT%H:%M:%SZ`.
  test.each([
    [0, '1970-01-01T00:00:00Z'],
    [1700000000, '2023-11-14T22:13:20Z'],
    [1767323045, '2026-01-02T03:04:05Z'],
  ])('the created label of SOURCE_DATE_EPOCH=%d is %s', (seconds, expected) => {
    expect(createdLabel(seconds)).toEqual({ 'org.opencontainers.image.created': expected })
    expect(epochTime(seconds)).toBe(expected)
  })
})
