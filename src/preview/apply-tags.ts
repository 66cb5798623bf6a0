import type { RegistryConnection } from '../connections/connection.js'
import { ActionError } from '../errors.js'
import type { Logger } from '../log.js'
import type { ImageTags } from './tags.js'
import { tagStore } from './tag-store.js'

/** The references an image ended up with: the flytekit one first, then preview and extra tags. */
export interface ImageReferences {
  /** Every reference pushed, the flytekit image first. */
  tags: string[]
  /** Full references of the preview tags, in pattern order. */
  preview: string[]
}

/**
 * Adds preview and extra tags to an image that is in the registry (just pushed or found there), by copying its
 * manifest under each tag: the digest stays the same, nothing is built or uploaded.
 */
export async function addImageTags(
  image: { registry: string; name: string; flytekitImage: string; digest: string },
  tags: ImageTags,
  connection: RegistryConnection,
  logger: Logger,
): Promise<ImageReferences> {
  const refs: ImageReferences = { tags: [image.flytekitImage], preview: [] }
  const wanted = [...tags.preview, ...tags.extra]
  if (wanted.length === 0) return refs
  if (!connection.api)
    throw new ActionError(
      `Cannot add tags in ${connection.registry}: no registry API for ${connection.describe}.`,
    )
  if (!image.digest)
    throw new ActionError(`Cannot add tags to ${image.flytekitImage}: its digest is unknown.`)
  const store = tagStore(image.registry, connection.api, logger)
  const repo = image.flytekitImage.slice(0, image.flytekitImage.lastIndexOf(':'))
  for (const tag of wanted) {
    const ref = `${repo}:${tag}`
    const outcome = await store.addTag(image.name, image.digest, tag)
    if (outcome === 'immutable-elsewhere') {
      logger.warning(
        `${ref} already names another image and the repository's tags are IMMUTABLE: it was left as it is.`,
      )
      continue
    }
    logger.info(`${outcome === 'tagged' ? 'Tagged' : 'Already tagged'} ${ref} -> ${image.digest}`)
    refs.tags.push(ref)
    if (tags.preview.includes(tag)) refs.preview.push(ref)
  }
  return refs
}
