import { readFileSync } from 'node:fs'
import { ActionError } from '../errors.js'

/**
 * The pull request a run belongs to, read from the event payload GitHub writes to GITHUB_EVENT_PATH. Only
 * `pull_request` and `pull_request_target` runs have one; every other event gives undefined.
 */
export interface PullRequest {
  number: number
  /** The head commit of the pull request (not GITHUB_SHA, which is the merge commit on `pull_request`); '' when the payload lacks it. */
  headSha: string
  /** `opened`, `synchronize`, `reopened`, `closed`, ... */
  action: string
  /** `owner/name` of the head and base repositories; head is '' when the fork was deleted. */
  headRepo: string
  baseRepo: string
}

export const PULL_REQUEST_EVENTS: readonly string[] = ['pull_request', 'pull_request_target']

/** The pull request of an event, or undefined for events that are not about a pull request. */
export function parsePullRequestEvent(eventName: string, payload: unknown): PullRequest | undefined {
  if (!PULL_REQUEST_EVENTS.includes(eventName)) return undefined
  const p = record(payload)
  const pr = record(p?.pull_request)
  if (!p || !pr)
    throw new ActionError(
      `The ${eventName} event payload has no pull_request object; cannot name preview tags.`,
    )
  const number = typeof p.number === 'number' ? p.number : pr.number
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number <= 0) {
    throw new ActionError(
      `The ${eventName} event payload has no pull request number; cannot name preview tags.`,
    )
  }
  const head = record(pr.head)
  // A payload without the head commit still names the pull request; only `{sha}` patterns need the commit.
  const sha = typeof head?.sha === 'string' ? head.sha.toLowerCase() : ''
  const headSha = /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha) ? sha : ''
  return {
    number,
    headSha,
    action: typeof p.action === 'string' ? p.action : '',
    headRepo: repoName(head) ?? '',
    baseRepo: repoName(record(pr.base)) ?? '',
  }
}

/** The pull request of this run, from GITHUB_EVENT_NAME and the payload file. */
export function readPullRequest(eventName: string, eventPath: string): PullRequest | undefined {
  if (!PULL_REQUEST_EVENTS.includes(eventName)) return undefined
  let payload: unknown
  try {
    payload = JSON.parse(readFileSync(eventPath, 'utf8'))
  } catch (err) {
    throw new ActionError(
      `Cannot read the ${eventName} event payload at '${eventPath}' (GITHUB_EVENT_PATH): ${(err as Error).message}`,
    )
  }
  return parsePullRequestEvent(eventName, payload)
}

/** How many characters of the head commit `{short_sha}` keeps. */
export const SHORT_SHA_LENGTH = 7

export function shortSha(sha: string): string {
  return sha.slice(0, SHORT_SHA_LENGTH)
}

function repoName(side: Record<string, unknown> | undefined): string | undefined {
  const repo = record(side?.repo)
  return typeof repo?.full_name === 'string' ? repo.full_name : undefined
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}
