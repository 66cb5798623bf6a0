import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  decodeJwtClaims,
  getGitHubOidcToken,
  isForkPullRequest,
  oidcUnavailableMessage,
} from '../../src/cloud/github-oidc.js'
import { ActionError } from '../../src/errors.js'
import * as githubOidc from '../support/standins/github-oidc.js'
import { recordingMask, rejectionOf } from '../support/secrets.js'

const dir = mkdtempSync(join(tmpdir(), 'oidc-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function eventFile(payload: unknown): string {
  const path = join(dir, `event-${Math.random().toString(36).slice(2)}.json`)
  writeFileSync(path, JSON.stringify(payload))
  return path
}

function prPayload(head: string | null, base: string) {
  return {
    pull_request: {
      head: { repo: head === null ? null : { full_name: head } },
      base: { repo: { full_name: base } },
    },
  }
}

describe('isForkPullRequest', () => {
  it.each([
    ['pull_request', prPayload('someone/octo-repo', 'octo-org/octo-repo'), true],
    ['pull_request_review', prPayload('someone/octo-repo', 'octo-org/octo-repo'), true],
    ['pull_request', prPayload('octo-org/octo-repo', 'octo-org/octo-repo'), false],
    ['pull_request', prPayload('Octo-Org/octo-repo', 'octo-org/octo-repo'), false],
    ['pull_request', prPayload(null, 'octo-org/octo-repo'), true],
    // pull_request_target runs with the base repository's permissions, OIDC included.
    ['pull_request_target', prPayload('someone/octo-repo', 'octo-org/octo-repo'), false],
    ['push', {}, false],
  ])('%s %j -> %s', (event, payload, expected) => {
    const env = { GITHUB_EVENT_NAME: event, GITHUB_EVENT_PATH: eventFile(payload) }
    expect(isForkPullRequest(env)).toBe(expected)
  })

  it('is false when the payload is missing or unreadable', () => {
    expect(isForkPullRequest({ GITHUB_EVENT_NAME: 'pull_request' })).toBe(false)
    expect(
      isForkPullRequest({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: join(dir, 'nope') }),
    ).toBe(false)
  })
})

describe('getGitHubOidcToken without the token endpoint', () => {
  it('asks for id-token: write', async () => {
    const error = await rejectionOf(
      () => getGitHubOidcToken('sts.amazonaws.com', { env: {}, purpose: 'AWS' }),
      () => [],
    )
    expect(error).toBeInstanceOf(ActionError)
    expect(error.message).toContain('ACTIONS_ID_TOKEN_REQUEST_URL is not set')
    expect(error.message).toContain('id-token: write')
    expect(error.message).toContain('contents: read')
    expect(error.message).toContain('needed for AWS')
    expect(error.message).toMatch(/forks and Dependabot/)
  })

  it('says a fork pull request can never get one', async () => {
    const env = {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventFile(prPayload('someone/octo-repo', 'octo-org/octo-repo')),
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'x',
    }
    const error = await rejectionOf(
      () => getGitHubOidcToken('aud', { env }),
      () => [],
    )
    expect(error.message).toContain(
      "pull request from the fork 'someone/octo-repo' into 'octo-org/octo-repo'",
    )
    expect(error.message).toContain('never gives pull requests from forks an OIDC token')
    expect(error.message).toContain('github.event.pull_request.head.repo.full_name == github.repository')
    expect(error.message).not.toContain('    permissions:')
  })

  it('explains Dependabot runs', () => {
    const message = oidcUnavailableMessage({ GITHUB_ACTOR: 'dependabot[bot]', GITHUB_EVENT_NAME: 'push' })
    expect(message).toContain('started by Dependabot')
    expect(message).toContain("github.actor != 'dependabot[bot]'")
  })
})

describe('getGitHubOidcToken against the OIDC stand-in', () => {
  let oidc: githubOidc.GitHubOidcStandIn
  const saved = { ...process.env }
  beforeAll(async () => {
    oidc = await githubOidc.start({ repository: 'octo-org/octo-repo' })
  })
  afterAll(() => oidc.close())
  afterEach(() => {
    process.env = { ...saved }
  })

  it('fetches a token for the audience through core.getIDToken and masks it', async () => {
    Object.assign(process.env, oidc.env)
    const mask = recordingMask()
    const token = await getGitHubOidcToken('sts.amazonaws.com', { mask })
    expect(mask.values).toEqual([token])
    expect(oidc.calls.at(-1)?.audience).toBe('sts.amazonaws.com')
    expect(oidc.calls.at(-1)?.authorization).toBe(`Bearer ${oidc.requestToken}`)
    expect(decodeJwtClaims(token)).toMatchObject({
      aud: 'sts.amazonaws.com',
      sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
      repository: 'octo-org/octo-repo',
    })
  })

  it('wraps endpoint failures without leaking the request token', async () => {
    Object.assign(process.env, oidc.env, { ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong-request-token-value' })
    const error = await rejectionOf(
      () => getGitHubOidcToken('aud', { mask: recordingMask() }),
      () => ['wrong-request-token-value', oidc.requestToken],
    )
    expect(error).toBeInstanceOf(ActionError)
    expect(error.message).toContain("Could not get a GitHub OIDC token for audience 'aud'")
  })
})

describe('decodeJwtClaims', () => {
  it('returns undefined for things that are not JWTs', () => {
    expect(decodeJwtClaims('nope')).toBeUndefined()
    expect(decodeJwtClaims('a.!!!.c')).toBeUndefined()
  })
})
