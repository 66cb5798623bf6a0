import { ActionError, InputError } from '../errors.js'
import { shortSha, type PullRequest } from './pull-request.js'

/**
 * Extra tags for an image: preview tags named after the pull request (`preview-tags` patterns) and fixed extra
 * tags (`extra-tags`). Patterns take `{pr}`, `{sha}`, `{short_sha}` and `{tag}` (the flytekit tag); every tag
 * they produce must be a valid Docker tag.
 */
export const DEFAULT_PREVIEW_TAGS: readonly string[] = ['pr-{pr}', 'pr-{pr}-{short_sha}']

const PLACEHOLDERS = ['pr', 'sha', 'short_sha', 'tag'] as const
type Placeholder = (typeof PLACEHOLDERS)[number]
export type TagValues = Record<Placeholder, string>

/** Docker's tag grammar: a word character, then up to 127 word characters, dots and dashes. */
const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/

export function isDockerTag(tag: string): boolean {
  return DOCKER_TAG.test(tag)
}

/** Fills one pattern. Unknown placeholders and results that are not Docker tags are input errors. */
export function expandTagPattern(pattern: string, values: TagValues, input = 'preview-tags'): string {
  const out = pattern.replace(/\{([^{}]*)\}/g, (whole, name: string) => {
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new InputError(
        input,
        `'${pattern}' uses ${whole}; the placeholders are ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
      )
    }
    return values[name as Placeholder]
  })
  if (!isDockerTag(out)) {
    throw new InputError(
      input,
      `'${pattern}' gives '${out}', which is not a Docker tag (letters, digits, '_', '.', '-'; not starting with '.' or '-'; at most 128)`,
    )
  }
  return out
}

/** Checks patterns once up front, with the longest values they can get, so a bad pattern fails before a build. */
export function validateTagPatterns(patterns: readonly string[], input = 'preview-tags'): void {
  const widest: TagValues = {
    pr: '999999',
    sha: 'f'.repeat(40),
    short_sha: 'f'.repeat(7),
    tag: 'A'.repeat(22),
  }
  for (const p of patterns) expandTagPattern(p, widest, input)
}

export interface TagInputs {
  /** `preview-tags` lines; empty means the defaults, `none` means no preview tags. */
  previewTags: readonly string[]
  /** `extra-tags` lines, used on every event. */
  extraTags: readonly string[]
}

export function previewPatterns(previewTags: readonly string[]): readonly string[] {
  if (previewTags.length === 1 && previewTags[0]?.toLowerCase() === 'none') return []
  return previewTags.length > 0 ? previewTags : DEFAULT_PREVIEW_TAGS
}

export interface ImageTags {
  /** Tags named after the pull request, in pattern order; empty outside pull requests. */
  preview: string[]
  /** `extra-tags`, in order. */
  extra: string[]
}

/** The tags one image gets besides its flytekit tag, without duplicates and without the flytekit tag itself. */
export function tagsForImage(inputs: TagInputs, pr: PullRequest | undefined, flytekitTag: string): ImageTags {
  const values: TagValues = {
    pr: pr ? String(pr.number) : '',
    sha: pr?.headSha ?? '',
    short_sha: pr ? shortSha(pr.headSha) : '',
    tag: flytekitTag,
  }
  const patterns = [...(pr ? previewPatterns(inputs.previewTags) : []), ...inputs.extraTags]
  if (!values.sha && patterns.some((p) => /\{(short_)?sha\}/.test(p))) {
    throw new ActionError(
      `${pr ? `The event payload of pull request #${pr.number} has no head commit` : 'This run is not a pull request'}, so tags with {sha} or {short_sha} cannot be named.`,
    )
  }
  const seen = new Set([flytekitTag])
  const unique = (tags: string[]) => tags.filter((t) => !seen.has(t) && Boolean(seen.add(t)))
  const preview = pr
    ? unique(previewPatterns(inputs.previewTags).map((p) => expandTagPattern(p, values)))
    : []
  const extra = unique(inputs.extraTags.map((p) => expandTagPattern(p, values, 'extra-tags')))
  return { preview, extra }
}

/** The tags `cleanup: pr` removes: `pr-<number>` and `pr-<number>-*`. */
export function isPreviewTagOf(tag: string, prNumber: number): boolean {
  return tag === `pr-${prNumber}` || tag.startsWith(`pr-${prNumber}-`)
}
