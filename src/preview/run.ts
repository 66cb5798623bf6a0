import * as core from '@actions/core'
import { isForkPullRequest } from '../cloud/github-oidc.js'
import type { DockerSession } from '../docker/session.js'
import { ActionError, errorMessage } from '../errors.js'
import type { RunContext } from '../github.js'
import type { ActionInputs } from '../inputs.js'
import type { Logger } from '../log.js'
import type { ImageResult } from '../build/outcome.js'
import { Connections, type Connect } from '../connections/per-step.js'
import { specsForRegistries } from '../plan/targets.js'
import { writeSummary } from '../report/summary.js'
import type { ImageSpec } from '../spec/model.js'
import { cleanupRepository, cleanupSummaryMarkdown } from './cleanup.js'
import { commentBody, upsertComment } from './comment.js'
import type { PreviewContext } from './context.js'
import { forkBlockers, forkMessage } from './fork.js'
import { previewTagMatcher } from './tags.js'

/** The pull-request parts of a run: the fork stop, cleanup on close, and the preview comment. */

/** True when this is a fork pull request whose registry needs an OIDC token or a secret (then nothing is pushed). */
export async function stopForFork(
  inputs: ActionInputs,
  registries: readonly string[],
  preview: PreviewContext,
): Promise<boolean> {
  if (!isForkPullRequest()) return false
  const auth = {
    username: inputs.username,
    password: inputs.password,
    awsRoleToAssume: inputs.aws.roleToAssume,
    gcpAuth: inputs.gcp.auth,
  }
  const reasons = forkBlockers([...new Set(registries)], auth)
  if (reasons.length === 0) return false
  const message = forkMessage(reasons, preview.pr)
  if (inputs.failOnFork) throw new ActionError(message)
  core.notice(message)
  await writeSummary(`### ImageSpec image\n\nSkipped: ${message}\n`)
  return true
}

/**
 * `cleanup: pr` on a closed pull request: delete its preview tags from every image a spec names, in every
 * registry; build nothing.
 */
export async function cleanup(
  specs: readonly ImageSpec[],
  inputs: ActionInputs,
  preview: PreviewContext,
  connect: Connect,
  session: DockerSession,
  logger: Logger,
): Promise<void> {
  const matcher = previewTagMatcher(preview.tags.previewTags, preview.pr?.number ?? 0)
  for (const { pattern, reason } of matcher.ignored) {
    logger.warning(
      `cleanup: pr does not delete tags made by the preview-tags pattern '${pattern}': ${reason}.`,
    )
  }
  if (matcher.usable === 0) {
    logger.info('cleanup: pr has no preview-tags pattern to match (with `none`, no preview tags are made)')
  }
  const reports = []
  const connections = new Connections(connect, (r) => session.usedRegistry(r))
  const done = new Set<string>()
  for (const target of specs.flatMap((spec) => specsForRegistries(spec, inputs.registries))) {
    if (!target.registry) {
      throw new ActionError('cleanup: pr needs a registry: set registry in the spec or as an input.')
    }
    const registry = target.registry
    // Two specs may name one repository (their tags differ): clean it up once.
    if (done.has(`${registry}/${target.name}`)) continue
    done.add(`${registry}/${target.name}`)
    const connection = await connections.get(registry)
    const repo = { registry, name: target.name }
    reports.push(
      await logger.group(`Clean up ${registry}/${target.name}`, () =>
        cleanupRepository(repo, matcher, connection, inputs.dryRun, logger),
      ),
    )
  }
  await writeSummary(cleanupSummaryMarkdown(reports))
}

/** Creates or updates the pull request's one preview comment; a failure only warns (the image is pushed). */
export async function commentOnPullRequest(
  inputs: ActionInputs,
  ctx: RunContext,
  preview: PreviewContext,
  results: ImageResult[],
  logger: Logger,
): Promise<void> {
  if (!inputs.comment || !preview.pr || !results.some((r) => r.previewImage)) return
  const target = {
    apiUrl: process.env.GITHUB_API_URL || 'https://api.github.com',
    token: inputs.githubToken,
    repository: ctx.repository,
    prNumber: preview.pr.number,
  }
  await upsertComment(target, commentBody(results, preview.pr.headSha), logger).catch((err: unknown) =>
    logger.warning(errorMessage(err)),
  )
}
