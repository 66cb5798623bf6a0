/**
 * Artifact Registry's REST API for tags: deleting a tag there removes only the tag (the version stays until a
 * cleanup policy or its last tag goes), unlike the distribution API, which can only delete by digest.
 */
import type { ArSession } from '../cloud/gcp/artifact-registry.js'
import { googleErrorInfo } from '../cloud/gcp/errors.js'
import type { GarImageTarget } from '../registry/hosts.js'
import { ActionError } from '../errors.js'

/** `projects/P/locations/L/repositories/R/packages/PKG/tags/TAG`; the package (image path) is URL-encoded. */
export function garTagName(target: GarImageTarget, tag: string): string {
  const pkg = encodeURIComponent(target.imagePath)
  return `projects/${target.project}/locations/${target.location}/repositories/${target.repository}/packages/${pkg}/tags/${encodeURIComponent(tag)}`
}

export async function deleteGarTag(
  session: ArSession,
  target: GarImageTarget,
  tag: string,
): Promise<'deleted' | 'gone'> {
  const name = garTagName(target, tag)
  try {
    await session.client.request({
      url: `${session.endpoints.artifactRegistry}/v1/${name}`,
      method: 'DELETE',
      responseType: 'json',
    })
    return 'deleted'
  } catch (error) {
    const info = googleErrorInfo(error)
    if (info.status === 404) return 'gone'
    const who = session.serviceAccount ? `serviceAccount:${session.serviceAccount}` : 'the workload identity'
    if (info.status === 403) {
      throw new ActionError(
        `Not allowed to delete the Artifact Registry tag ${name} (${info.message}). Grant ${who} artifactregistry.tags.delete (roles/artifactregistry.repoAdmin).`,
      )
    }
    throw new ActionError(
      `Could not delete the Artifact Registry tag ${name} (${info.apiStatus ?? info.status ?? ''}: ${info.message}).`,
    )
  }
}
