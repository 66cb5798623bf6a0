import { describe, expect, test } from '@jest/globals'
import { ociLabels, readRunContext } from '../src/github.js'

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
    })
  })

  test.each([
    [
      'a GitHub run',
      { serverUrl: 'https://github.example.com/', repository: 'octo/app', sha: 'deadbeef' },
      {
        'org.opencontainers.image.created': '2026-01-02T03:04:05.000Z',
        'org.opencontainers.image.source': 'https://github.example.com/octo/app',
        'org.opencontainers.image.revision': 'deadbeef',
      },
    ],
    [
      'outside GitHub: only the creation time',
      { serverUrl: 'https://github.com', repository: '', sha: '' },
      { 'org.opencontainers.image.created': '2026-01-02T03:04:05.000Z' },
    ],
  ])('OCI labels: %s', (_name, fields, expected) => {
    const ctx = { ...readRunContext({}), ...fields }
    expect(ociLabels(ctx, new Date('2026-01-02T03:04:05Z'))).toEqual(expected)
  })
})
