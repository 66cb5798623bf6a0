/**
 * One pull-request comment with the preview image, created on the first push and edited in place on later ones.
 * The comment carries a hidden HTML marker; the one bearing it is the one to update. REST API with fetch, so no
 * Octokit in the bundle.
 */
import { ActionError } from '../errors.js'
import type { Logger } from '../log.js'
import type { ImageResult } from '../build/outcome.js'

export const COMMENT_MARKER = '<!-- imagespec-action:preview -->'

export interface CommentTarget {
  /** GITHUB_API_URL, e.g. https://api.github.com (GHES: https://HOST/api/v3). */
  apiUrl: string
  token: string
  /** owner/name */
  repository: string
  prNumber: number
}

export function commentBody(results: readonly ImageResult[], headSha: string): string {
  const rows = results
    .filter((r) => r.previewImage)
    .map((r) => `| \`${r.previewImage}\` | \`${r.digest}\` | \`${r.image}\` |`)
  return [
    COMMENT_MARKER,
    `### Preview image for ${headSha.slice(0, 7)}`,
    '',
    '| Image | Digest | flytekit tag |',
    '| --- | --- | --- |',
    ...rows,
    '',
    "Register this pull request's workflows with it:",
    '',
    '```sh',
    `pyflyte register --image ${results.find((r) => r.previewImage)?.previewImage ?? '<image>'} <your workflows>`,
    '```',
  ].join('\n')
}

interface Comment {
  id: number
  body?: string
}

/** Creates the comment, or updates the one with the marker. Returns what it did and the comment id. */
export async function upsertComment(
  target: CommentTarget,
  body: string,
  logger: Logger,
): Promise<{ action: 'created' | 'updated'; id: number }> {
  const base = target.apiUrl.replace(/\/+$/, '')
  const issueComments = `${base}/repos/${target.repository}/issues/${target.prNumber}/comments`
  let existing: Comment | undefined
  for (let page = 1; page <= 50 && !existing; page++) {
    const list = (await call(target, 'GET', `${issueComments}?per_page=100&page=${page}`)) as Comment[]
    existing = list.find((c) => c.body?.includes(COMMENT_MARKER))
    if (list.length < 100) break
  }
  if (existing) {
    await call(target, 'PATCH', `${base}/repos/${target.repository}/issues/comments/${existing.id}`, { body })
    logger.info(`Updated the preview comment on pull request #${target.prNumber}`)
    return { action: 'updated', id: existing.id }
  }
  const created = (await call(target, 'POST', issueComments, { body })) as Comment
  logger.info(`Commented on pull request #${target.prNumber}`)
  return { action: 'created', id: created.id }
}

async function call(target: CommentTarget, method: string, url: string, body?: unknown): Promise<unknown> {
  let res: Response
  try {
    res = await fetch(url, {
      method,
      headers: {
        Accept: 'application/vnd.github+json',
        Authorization: `Bearer ${target.token}`,
        'X-GitHub-Api-Version': '2022-11-28',
        'User-Agent': 'imagespec-action',
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(15_000),
    })
  } catch (err) {
    throw new ActionError(
      `Could not reach the GitHub API at ${new URL(url).origin} to comment: ${(err as Error).message}`,
    )
  }
  const text = await res.text()
  if (!res.ok) {
    const hint =
      res.status === 403 || res.status === 404
        ? ' The job needs `permissions: pull-requests: write` (fork pull requests get a read-only token).'
        : ''
    let message = text.slice(0, 200)
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message
    } catch {
      // not JSON
    }
    throw new ActionError(
      `GitHub API ${method} ${new URL(url).pathname} answered ${res.status} (${message}).${hint}`,
    )
  }
  return text ? JSON.parse(text) : {}
}
