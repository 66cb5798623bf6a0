/**
 * Preview tags on ECR through its own API: BatchGetImage + PutImage adds a tag to an image already in the
 * repository (the manifest is copied, nothing is uploaded), ListImages finds tags, BatchDeleteImage removes tags.
 * Loaded lazily, like the rest of the AWS SDK.
 */
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  ListImagesCommand,
  PutImageCommand,
} from '@aws-sdk/client-ecr'
import type { EcrConnection } from '../cloud/aws/ecr.js'
import { awsErrorInfo, isAccessDenied } from '../cloud/aws/errors.js'
import { ActionError } from '../errors.js'

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
]

export type EcrTagOutcome = 'tagged' | 'already-tagged' | 'immutable-elsewhere'

/**
 * Points `tag` at the image `digest`. An identical existing tag is success (ImageAlreadyExistsException). In an
 * IMMUTABLE repository a new tag is accepted, but a tag that already names another image cannot move:
 * that is reported as `immutable-elsewhere` for the caller to explain.
 */
export async function tagEcrImage(
  ecr: EcrConnection,
  repository: string,
  digest: string,
  tag: string,
): Promise<EcrTagOutcome> {
  const where = `${ecr.host}/${repository}`
  let manifest: string | undefined
  let mediaType: string | undefined
  try {
    const out = await ecr.client.send(
      new BatchGetImageCommand({
        registryId: ecr.registryId,
        repositoryName: repository,
        imageIds: [{ imageDigest: digest }],
        acceptedMediaTypes: MANIFEST_TYPES,
      }),
    )
    manifest = out.images?.[0]?.imageManifest
    mediaType = out.images?.[0]?.imageManifestMediaType
    if (!manifest) {
      const f = out.failures?.[0]
      throw new ActionError(
        `ECR has no image ${where}@${digest} to tag (${f?.failureCode ?? 'no manifest'}: ${f?.failureReason ?? ''}).`,
      )
    }
  } catch (error) {
    throw ecrTagError(error, `read ${where}@${digest}`, 'ecr:BatchGetImage')
  }
  try {
    await ecr.client.send(
      new PutImageCommand({
        registryId: ecr.registryId,
        repositoryName: repository,
        imageManifest: manifest,
        ...(mediaType ? { imageManifestMediaType: mediaType } : {}),
        imageDigest: digest,
        imageTag: tag,
      }),
    )
    return 'tagged'
  } catch (error) {
    const name = awsErrorInfo(error).name
    if (name === 'ImageAlreadyExistsException') return 'already-tagged'
    if (name === 'ImageTagAlreadyExistsException') return 'immutable-elsewhere'
    throw ecrTagError(error, `tag ${where}:${tag}`, 'ecr:PutImage')
  }
}

/** Every tag in the repository with the digest it points at; a missing repository has none. */
export async function listEcrTags(ecr: EcrConnection, repository: string): Promise<Map<string, string>> {
  const tags = new Map<string, string>()
  let nextToken: string | undefined
  try {
    do {
      const out = await ecr.client.send(
        new ListImagesCommand({
          registryId: ecr.registryId,
          repositoryName: repository,
          filter: { tagStatus: 'TAGGED' },
          maxResults: 1000,
          ...(nextToken ? { nextToken } : {}),
        }),
      )
      for (const id of out.imageIds ?? [])
        if (id.imageTag && id.imageDigest) tags.set(id.imageTag, id.imageDigest)
      nextToken = out.nextToken
    } while (nextToken)
  } catch (error) {
    if (awsErrorInfo(error).name === 'RepositoryNotFoundException') return tags
    throw ecrTagError(error, `list the images of ${ecr.host}/${repository}`, 'ecr:ListImages')
  }
  return tags
}

/**
 * Removes tags. ECR untags an image that has other tags and deletes it only with its last tag, so an image
 * still named by another tag stays. A tag that is already gone is success.
 */
export async function deleteEcrTags(
  ecr: EcrConnection,
  repository: string,
  tags: readonly string[],
): Promise<{ deleted: string[]; gone: string[] }> {
  const deleted: string[] = []
  const gone: string[] = []
  for (let i = 0; i < tags.length; i += 100) {
    const batch = tags.slice(i, i + 100)
    try {
      const out = await ecr.client.send(
        new BatchDeleteImageCommand({
          registryId: ecr.registryId,
          repositoryName: repository,
          imageIds: batch.map((imageTag) => ({ imageTag })),
        }),
      )
      for (const id of out.imageIds ?? []) if (id.imageTag) deleted.push(id.imageTag)
      for (const f of out.failures ?? []) {
        const tag = f.imageId?.imageTag ?? ''
        if (f.failureCode === 'ImageNotFound' || f.failureCode === 'ImageTagDoesNotMatchDigest')
          gone.push(tag)
        else
          throw new ActionError(
            `ECR could not delete ${ecr.host}/${repository}:${tag} (${f.failureCode ?? 'unknown'}: ${f.failureReason ?? ''}).`,
          )
      }
    } catch (error) {
      if (awsErrorInfo(error).name === 'RepositoryNotFoundException') {
        gone.push(...batch)
        continue
      }
      throw ecrTagError(error, `delete tags in ${ecr.host}/${repository}`, 'ecr:BatchDeleteImage')
    }
  }
  return { deleted, gone }
}

function ecrTagError(error: unknown, doing: string, permission: string): ActionError {
  if (error instanceof ActionError) return error
  const info = awsErrorInfo(error)
  if (isAccessDenied(info))
    return new ActionError(
      `Not allowed to ${doing} (${info.name}: ${info.message}). Grant the role ${permission}.`,
    )
  return new ActionError(`Could not ${doing} (${info.name}: ${info.message}).`)
}
