/**
 * What `cleanup: pr` does with a repository's tags, decided without touching the registry. Preview tags (those
 * `isPreviewTag` accepts: see `previewTagMatcher`) are grouped by the image they name. Where deleting means
 * deleting the image by digest (the distribution API), an image that a non-preview tag (the flytekit tag,
 * `latest`, another pull request's tag) also names is kept.
 */
export interface CleanupGroup {
  digest: string
  /** The pull request's preview tags on this image. */
  tags: string[]
}

export interface KeptGroup extends CleanupGroup {
  /** The other tags that name the same image. */
  sharedWith: string[]
}

export interface CleanupPlan {
  delete: CleanupGroup[]
  keep: KeptGroup[]
}

export function planCleanup(
  tags: ReadonlyMap<string, string>,
  isPreviewTag: (tag: string) => boolean,
  deletesByDigest: boolean,
): CleanupPlan {
  const byDigest = new Map<string, { preview: string[]; other: string[] }>()
  for (const [tag, digest] of [...tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const entry = byDigest.get(digest) ?? { preview: [], other: [] }
    ;(isPreviewTag(tag) ? entry.preview : entry.other).push(tag)
    byDigest.set(digest, entry)
  }
  const plan: CleanupPlan = { delete: [], keep: [] }
  for (const [digest, { preview, other }] of byDigest) {
    if (preview.length === 0) continue
    if (deletesByDigest && other.length > 0) plan.keep.push({ digest, tags: preview, sharedWith: other })
    else plan.delete.push({ digest, tags: preview })
  }
  return plan
}
