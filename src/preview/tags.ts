import { ActionError, InputError } from '../errors.js'
import { SHORT_SHA_LENGTH, shortSha, type PullRequest } from './pull-request.js'

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
    short_sha: 'f'.repeat(SHORT_SHA_LENGTH),
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

/** The tags `cleanup: pr` removes with the default patterns: `pr-<number>` and `pr-<number>-*`. */
export function isPreviewTagOf(tag: string, prNumber: number): boolean {
  return tag === `pr-${prNumber}` || tag.startsWith(`pr-${prNumber}-`)
}

/** Which tags of a repository are one pull request's preview tags, as `cleanup: pr` sees them. */
export interface PreviewTagMatcher {
  prNumber: number
  /** True when `tag` is a preview tag of this pull request. */
  matches: (tag: string) => boolean
  /** How many patterns are matched against; 0 means cleanup deletes nothing. */
  usable: number
  /** Patterns cleanup never deletes by, each with the reason. */
  ignored: { pattern: string; reason: string }[]
}

/**
 * What each placeholder matches when a pattern is read back: the head commit in full (SHA-1, or SHA-256 in
 * repositories that use it) or shortened, and the flytekit tag, whose length and alphabet `tag_format` can
 * change, so anything a Docker tag may hold.
 */
const PLACEHOLDER_MATCH: Record<Exclude<Placeholder, 'pr'>, string> = {
  sha: '[0-9a-f]{40}(?:[0-9a-f]{24})?',
  short_sha: `[0-9a-f]{${SHORT_SHA_LENGTH}}`,
  tag: '[A-Za-z0-9_.-]+',
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * Reads one `preview-tags` pattern back into a regular expression for the tags it made for pull request
 * `prNumber`. A placeholder used twice must have the same value both times. Gives a reason instead when the
 * pattern cannot be tied to one pull request: without `{pr}`, or with `{pr}` not set off by a non-digit
 * character in a pattern with `{tag}` (which has no fixed length), where pull request 1's tags and pull
 * request 11's look alike.
 */
export function previewTagRegExp(
  pattern: string,
  prNumber: number,
): { regexp: RegExp; reason?: undefined } | { regexp?: undefined; reason: string } {
  const parts = pattern.split(/(\{[^{}]*\})/)
  const names = parts.map((part) => /^\{([^{}]*)\}$/.exec(part)?.[1])
  for (const name of names) {
    if (name !== undefined && !(PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new InputError(
        'preview-tags',
        `'${pattern}' uses {${name}}; the placeholders are ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
      )
    }
  }
  if (!names.includes('pr')) {
    return { reason: "it has no {pr}, so its tags cannot be told apart from other pull requests' tags" }
  }
  if (names.includes('tag')) {
    // A neighbour of {pr}: the next non-empty part on that side, or undefined at the pattern's edge.
    const neighbour = (i: number, step: 1 | -1): string | undefined => {
      for (let j = i + step; j >= 0 && j < parts.length; j += step) {
        if (names[j] !== undefined) return '{}'
        const text = parts[j] ?? ''
        if (text) return step === 1 ? text[0] : text[text.length - 1]
      }
      return undefined
    }
    const setOff = (c: string | undefined) => c === undefined || (c !== '{}' && !/[0-9]/.test(c))
    if (names.some((name, i) => name === 'pr' && !(setOff(neighbour(i, -1)) && setOff(neighbour(i, 1))))) {
      return {
        reason:
          "its {pr} is not set off by a character other than a digit, and {tag} has no fixed length, so one pull request's tags can look like another's",
      }
    }
  }
  const seen = new Set<string>()
  const source = parts
    .map((part, i) => {
      const name = names[i] as Placeholder | undefined
      if (name === undefined) return escapeRegExp(part)
      if (name === 'pr') return String(prNumber)
      if (seen.has(name)) return `\\k<${name}>`
      seen.add(name)
      return `(?<${name}>${PLACEHOLDER_MATCH[name]})`
    })
    .join('')
  return { regexp: new RegExp(`^${source}$`) }
}

/**
 * The matcher `cleanup: pr` uses for pull request `prNumber`, from the `preview-tags` input in effect: by
 * default `pr-<number>` and `pr-<number>-*` (as before custom patterns were matched); otherwise the tags each
 * pattern makes for this pull request; with `none`, nothing.
 */
export function previewTagMatcher(previewTags: readonly string[], prNumber: number): PreviewTagMatcher {
  if (previewTags.length === 0) {
    return { prNumber, matches: (tag) => isPreviewTagOf(tag, prNumber), usable: 1, ignored: [] }
  }
  const regexps: RegExp[] = []
  const ignored: PreviewTagMatcher['ignored'] = []
  for (const pattern of new Set(previewPatterns(previewTags))) {
    const read = previewTagRegExp(pattern, prNumber)
    if (read.regexp) regexps.push(read.regexp)
    else ignored.push({ pattern, reason: read.reason })
  }
  return { prNumber, matches: (tag) => regexps.some((r) => r.test(tag)), usable: regexps.length, ignored }
}
