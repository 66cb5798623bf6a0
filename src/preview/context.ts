import type { RegistryConnection } from '../connections/connection.js'
import type { Logger } from '../log.js'
import type { ImageResult } from '../build/outcome.js'
import type { ImageJob } from '../plan/graph.js'
import { addImageTags } from './apply-tags.js'
import { readPullRequest, type PullRequest } from './pull-request.js'
import { previewPatterns, tagsForImage, validateTagPatterns, type TagInputs } from './tags.js'

/** What the preview features need to know about the run, read and validated once before anything is built. */
export interface PreviewContext {
  pr: PullRequest | undefined
  tags: TagInputs
}

export function previewContext(inputs: TagInputs, eventName: string, eventPath: string): PreviewContext {
  validateTagPatterns(previewPatterns(inputs.previewTags))
  validateTagPatterns(inputs.extraTags, 'extra-tags')
  return { pr: readPullRequest(eventName, eventPath), tags: inputs }
}

/** Adds the preview and extra tags to the image a chain ends in, and records the references on its result. */
export async function tagChainImage(
  result: ImageResult,
  job: ImageJob,
  preview: PreviewContext,
  connection: RegistryConnection,
  logger: Logger,
): Promise<void> {
  const tags = tagsForImage(preview.tags, preview.pr, result.tag)
  if (tags.preview.length + tags.extra.length === 0 || !job.spec.registry) return
  const refs = await logger.group(`Tag ${result.image}`, () =>
    addImageTags(
      {
        registry: job.spec.registry ?? '',
        name: job.spec.name,
        flytekitImage: result.image,
        digest: result.digest,
      },
      tags,
      connection,
      logger,
    ),
  )
  result.tags = refs.tags
  if (refs.preview[0]) result.previewImage = refs.preview[0]
}
