import * as core from '@actions/core'
import { isForkPullRequest } from '../cloud/github-oidc.js'
import type { DockerSession } from '../docker-session.js'
import { ActionError, errorMessage } from '../errors.js'
import type { RunContext } from '../github.js'
import type { ActionInputs } from '../inputs.js'
import type { Logger } from '../log.js'
import { writeSummary, type ImageResult } from '../outputs.js'
import { connect } from '../pipeline/build-all.js'
import { specsForRegistries } from '../plan.js'
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
  spec: ImageSpec,
  preview: PreviewContext,
): Promise<boolean> {
  if (!isForkPullRequest()) return false
  const registries = specsForRegistries(spec, inputs.registries).flatMap((s) =>
    s.registry ? [s.registry] : [],
  )
  const auth = {
    username: inputs.username,
    password: inputs.password,
    awsRoleToAssume: inputs.aws.roleToAssume,
    gcpAuth: inputs.gcp.auth,
  }
  const reasons = forkBlockers(registries, auth)
  if (reasons.length === 0) return false
  const message = forkMessage(reasons, preview.pr)
  if (inputs.failOnFork) throw new ActionError(message)
  core.notice(message)
  await writeSummary(`### ImageSpec image\n\nSkipped: ${message}\n`)
  return true
}

/** `cleanup: pr` on a closed pull request: delete its preview tags in every registry; build nothing. */
export async function cleanup(
  spec: ImageSpec,
  inputs: ActionInputs,
  ctx: RunContext,
  preview: PreviewContext,
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
  for (const target of specsForRegistries(spec, inputs.registries)) {
    if (!target.registry) {
      throw new ActionError('cleanup: pr needs a registry: set registry in the spec or as an input.')
    }
    const registry = target.registry
    const connection = await connect(registry, inputs, ctx, session, logger)
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
