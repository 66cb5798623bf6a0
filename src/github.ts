import path from 'node:path'
import os from 'node:os'

/**
 * What the action needs to know about the workflow run, read from the runner's environment once. Plain data, so
 * the pure core (labels, summaries) never reads process.env itself.
 */
export interface RunContext {
  workspace: string
  runnerTemp: string
  serverUrl: string
  repository: string
  sha: string
  ref: string
  eventName: string
  eventPath: string
  actor: string
  runId: string
  /**
   * SOURCE_DATE_EPOCH as the step's environment sets it ('' when unset): the user's own choice of the time images
   * are stamped with, which wins over the commit time.
   */
  sourceDateEpoch: string
}

export function readRunContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  return {
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
    runnerTemp: env.RUNNER_TEMP || path.join(os.tmpdir(), 'imagespec-action'),
    serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
    repository: env.GITHUB_REPOSITORY || '',
    sha: env.GITHUB_SHA || '',
    ref: env.GITHUB_REF || '',
    eventName: env.GITHUB_EVENT_NAME || '',
    eventPath: env.GITHUB_EVENT_PATH || '',
    actor: env.GITHUB_ACTOR || '',
    runId: env.GITHUB_RUN_ID || '',
    sourceDateEpoch: (env.SOURCE_DATE_EPOCH ?? '').trim(),
  }
}

/** The OCI label holding the image's creation time; with SOURCE_DATE_EPOCH it is the commit's time. */
export const CREATED_LABEL = 'org.opencontainers.image.created'

/**
 * OCI labels that tie the image to the commit it was built from. Not `created`: each build sets it from
 * SOURCE_DATE_EPOCH (createdLabel), never from the clock, so that the same inputs make the same image.
 */
export function ociLabels(ctx: RunContext): Record<string, string> {
  const labels: Record<string, string> = {}
  if (ctx.repository) {
    labels['org.opencontainers.image.source'] = `${ctx.serverUrl.replace(/\/+$/, '')}/${ctx.repository}`
  }
  if (ctx.sha) labels['org.opencontainers.image.revision'] = ctx.sha
  return labels
}

/** `created` for SOURCE_DATE_EPOCH seconds, written as BuildKit writes the image config's `created`. */
export function createdLabel(epochSeconds: number): Record<string, string> {
  return { [CREATED_LABEL]: epochTime(epochSeconds) }
}

/** Seconds since 1970 as RFC 3339 in UTC, without fractional seconds (`2026-01-02T03:04:05Z`). */
export function epochTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z')
}
