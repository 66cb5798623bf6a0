import * as core from '@actions/core'
import { readFileSync } from 'node:fs'
import { ActionError, errorMessage } from '../errors.js'
import { maskInLog } from './secrets.js'
import type { Mask } from './types.js'

/** Fetches a GitHub Actions OIDC token (a JWT) for one audience. */
export type OidcTokenSource = (audience: string) => Promise<string>

export interface GitHubOidcOptions {
  /** Who needs the token, for the error message: "AWS (aws-role-to-assume)". */
  purpose?: string
  env?: NodeJS.ProcessEnv
  /** Defaults to `core.getIDToken`, which reads ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN from the process env. */
  getIDToken?: OidcTokenSource
  mask?: Mask
}

const REQUEST_URL = 'ACTIONS_ID_TOKEN_REQUEST_URL'
const REQUEST_TOKEN = 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'

/**
 * The GitHub OIDC token for `audience`, masked before it is returned. When the runner did not expose the token
 * endpoint, the error says why (missing `id-token: write`, a fork pull request, Dependabot) and what to change,
 * instead of the SDKs' later "Could not load credentials from any providers".
 */
export async function getGitHubOidcToken(audience: string, options: GitHubOidcOptions = {}): Promise<string> {
  const env = options.env ?? process.env
  if (!env[REQUEST_URL] || !env[REQUEST_TOKEN]) {
    throw new ActionError(oidcUnavailableMessage(env, options.purpose))
  }
  const fetchToken = options.getIDToken ?? ((aud: string) => core.getIDToken(aud))
  let token: string
  try {
    token = await fetchToken(audience)
  } catch (error) {
    throw new ActionError(
      `Could not get a GitHub OIDC token for audience '${audience}'${forPurpose(options.purpose)}: ` +
        `${errorMessage(error)}. This is usually a transient GitHub outage; re-run the job.`,
    )
  }
  ;(options.mask ?? maskInLog)(token)
  return token
}

function forPurpose(purpose: string | undefined): string {
  return purpose ? ` (needed for ${purpose})` : ''
}

/** Why the runner gave this job no OIDC token endpoint, and what to change. */
export function oidcUnavailableMessage(env: NodeJS.ProcessEnv = process.env, purpose?: string): string {
  const head = `No GitHub OIDC token is available to this job${forPurpose(purpose)}: ${REQUEST_URL} is not set.`
  const fork = forkPullRequest(env)
  if (fork) {
    return (
      `${head} This run is a pull request from the fork '${fork.head}' into '${fork.base}', and GitHub never ` +
      'gives pull requests from forks an OIDC token (`id-token: write` is lowered to `read` for them), so no ' +
      'workflow change makes cloud login work here. Skip the push for fork pull requests, e.g. run this step ' +
      'with `if: github.event.pull_request.head.repo.full_name == github.repository`, and push from the ' +
      'workflow that runs after merge.'
    )
  }
  if (isDependabot(env)) {
    return (
      `${head} This run was started by Dependabot, and GitHub treats Dependabot runs like pull requests from ` +
      'forks: a read-only token and no OIDC token. Skip the push for Dependabot, e.g. ' +
      "`if: github.actor != 'dependabot[bot]'`, and push from the workflow that runs after merge."
    )
  }
  return (
    `${head} Give the job permission to request one:\n\n` +
    '    permissions:\n      id-token: write\n      contents: read\n\n' +
    'A `permissions:` block drops every permission it does not list, so keep `contents: read` (and any other ' +
    'the job needs). Pull requests from forks and Dependabot runs never get an OIDC token, whatever the ' +
    'workflow asks for.'
  )
}

interface ForkPullRequest {
  head: string
  base: string
}

/** True when this run is a pull request whose head branch lives in another repository (a fork). */
export function isForkPullRequest(env: NodeJS.ProcessEnv = process.env): boolean {
  return forkPullRequest(env) !== undefined
}

// `pull_request_target` is missing on purpose: it runs in the base repository's context and does get a token.
const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_review', 'pull_request_review_comment'])

function forkPullRequest(env: NodeJS.ProcessEnv): ForkPullRequest | undefined {
  if (!PULL_REQUEST_EVENTS.has(env.GITHUB_EVENT_NAME ?? '')) return undefined
  const pr = readEventPayload(env.GITHUB_EVENT_PATH)?.pull_request
  if (!isRecord(pr)) return undefined
  const base = repoName(pr.base) ?? env.GITHUB_REPOSITORY ?? 'this repository'
  const head = repoName(pr.head)
  // A pull request whose fork was deleted has `head.repo: null`; it is still a fork pull request.
  if (head === undefined)
    return isRecord(pr.head) && pr.head.repo === null ? { head: '(deleted fork)', base } : undefined
  return head.toLowerCase() === base.toLowerCase() ? undefined : { head, base }
}

function isDependabot(env: NodeJS.ProcessEnv): boolean {
  return env.GITHUB_ACTOR === 'dependabot[bot]' || env.GITHUB_TRIGGERING_ACTOR === 'dependabot[bot]'
}

function repoName(side: unknown): string | undefined {
  if (!isRecord(side) || !isRecord(side.repo)) return undefined
  return typeof side.repo.full_name === 'string' ? side.repo.full_name : undefined
}

function readEventPayload(path: string | undefined): Record<string, unknown> | undefined {
  if (!path) return undefined
  try {
    const payload: unknown = JSON.parse(readFileSync(path, 'utf8'))
    return isRecord(payload) ? payload : undefined
  } catch {
    // A missing or unreadable payload only costs us the fork hint; the generic advice still applies.
    return undefined
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The claims of a JWT, without verifying it. Used only to explain trust-policy mismatches ("the token's sub was
 * repo:o/r:ref:refs/heads/main"): the claims are not secret, the signed token is.
 */
export function decodeJwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1]
  if (!payload) return undefined
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    return isRecord(claims) ? claims : undefined
  } catch {
    return undefined
  }
}
