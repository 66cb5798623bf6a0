import type { RegistryConnection } from '../connections/connection.js'
import { ActionError } from '../errors.js'
import type { Logger } from '../log.js'
import { planCleanup, type CleanupGroup, type KeptGroup } from './cleanup-plan.js'
import type { PreviewContext } from './context.js'
import { tagStore } from './tag-store.js'
import type { PreviewTagMatcher } from './tags.js'

/**
 * `cleanup: pr` on a closed pull request: find the pull request's preview tags in each image repository and
 * delete them, keeping images that other tags still name. Builds nothing.
 */
export function isCleanupRun(cleanup: 'none' | 'pr', preview: PreviewContext): boolean {
  return cleanup === 'pr' && preview.pr?.action === 'closed'
}

export interface CleanupReport {
  repository: string
  prNumber: number
  dryRun: boolean
  deleted: CleanupGroup[]
  /** Deleted before this run got to them: success. */
  gone: CleanupGroup[]
  kept: KeptGroup[]
}

export async function cleanupRepository(
  image: { registry: string; name: string },
  matcher: PreviewTagMatcher,
  connection: RegistryConnection,
  dryRun: boolean,
  logger: Logger,
): Promise<CleanupReport> {
  const { prNumber } = matcher
  const repository = `${image.registry}/${image.name}`
  if (!connection.api)
    throw new ActionError(`Cannot clean up ${repository}: no registry API for ${connection.describe}.`)
  const store = tagStore(image.registry, connection.api, logger)
  const plan = planCleanup(await store.listTags(image.name), matcher.matches, store.deletesByDigest)
  const report: CleanupReport = { repository, prNumber, dryRun, deleted: [], gone: [], kept: plan.keep }
  for (const k of plan.keep) {
    logger.info(
      `Keeping ${k.tags.map((t) => `${repository}:${t}`).join(', ')}: ${k.digest} is also tagged ${k.sharedWith.join(', ')}`,
    )
  }
  for (const group of plan.delete) {
    const refs = group.tags.map((t) => `${repository}:${t}`).join(', ')
    if (dryRun) {
      logger.info(`Would delete ${refs} (${group.digest})`)
      report.deleted.push(group)
      continue
    }
    const outcome = await store.deleteTags(image.name, group.digest, group.tags)
    logger.info(`${outcome === 'deleted' ? 'Deleted' : 'Already gone:'} ${refs} (${group.digest})`)
    ;(outcome === 'deleted' ? report.deleted : report.gone).push(group)
  }
  if (plan.delete.length + plan.keep.length === 0)
    logger.info(`No preview tags of pull request #${prNumber} in ${repository}`)
  return report
}

export function cleanupSummaryMarkdown(reports: readonly CleanupReport[]): string {
  const lines = ['### Pull-request preview cleanup', '']
  for (const r of reports) {
    const verb = r.dryRun ? 'would delete (dry run)' : 'deleted'
    lines.push(`Pull request #${r.prNumber}, \`${r.repository}\`:`, '')
    if (r.deleted.length + r.gone.length + r.kept.length === 0) lines.push('- no preview tags found')
    for (const g of r.deleted)
      lines.push(`- ${verb}: ${g.tags.map((t) => `\`${t}\``).join(', ')} (\`${g.digest}\`)`)
    for (const g of r.gone) lines.push(`- already gone: ${g.tags.map((t) => `\`${t}\``).join(', ')}`)
    for (const g of r.kept) {
      lines.push(
        `- kept: ${g.tags.map((t) => `\`${t}\``).join(', ')} (\`${g.digest}\`), because the image is also tagged ${g.sharedWith.map((t) => `\`${t}\``).join(', ')}`,
      )
    }
    lines.push('')
  }
  return lines.join('\n')
}
