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
  }
}

/** OCI labels that tie the image to the commit it was built from. */
export function ociLabels(ctx: RunContext, created: Date): Record<string, string> {
  const labels: Record<string, string> = { 'org.opencontainers.image.created': created.toISOString() }
  if (ctx.repository) {
    labels['org.opencontainers.image.source'] = `${ctx.serverUrl.replace(/\/+$/, '')}/${ctx.repository}`
  }
  if (ctx.sha) labels['org.opencontainers.image.revision'] = ctx.sha
  return labels
}
