import * as core from '@actions/core'
import type { ImageOutcome, ImageResult } from '../build/outcome.js'

/**
 * Step outputs. `images` holds every image of the graph; the single-image outputs (`image`, `tag`, `digest`, …)
 * keep their meaning when the step was given exactly one spec, and are empty with several (there is no one
 * image to name). Nothing here is masked on purpose: image URIs must cross jobs, and a masked output is
 * silently dropped by the runner. Secrets never reach this module.
 */

/** `repo@sha256:…` from `repo:tag` and a digest. */
export function imageWithDigest(image: string, digest: string): string {
  if (!digest) return ''
  const slash = image.lastIndexOf('/')
  const colon = image.lastIndexOf(':')
  const repo = colon > slash ? image.slice(0, colon) : image
  return `${repo}@${digest}`
}

export function metadataOf(result: ImageResult): Record<string, string | boolean | number> {
  return {
    image: result.image,
    tag: result.tag,
    'spec-id': result.specId,
    digest: result.digest,
    'image-digest': imageWithDigest(result.image, result.digest),
    built: result.built,
    pushed: result.pushed,
    dockerfile: result.dockerfile,
    ...(result.buildSeconds !== undefined ? { 'build-seconds': result.buildSeconds } : {}),
  }
}

/** One entry of the `images` output. */
export function imageEntry(o: ImageOutcome): Record<string, string | boolean> {
  return {
    origin: o.origin,
    name: o.name,
    registry: o.registry,
    image: o.image,
    tag: o.tag,
    'spec-id': o.specId,
    digest: o.digest,
    built: o.built,
    pushed: o.pushed,
    'nested-base': o.nestedBase,
    result: o.state,
    ...(o.error ? { error: o.error } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
  }
}

/**
 * The image the single-image outputs describe: with exactly one spec, the image it names (in the first
 * registry when `registries` gives several, as before); with several specs, none.
 */
export function mainImage(outcomes: readonly ImageOutcome[], sourceCount: number): ImageOutcome | undefined {
  if (sourceCount !== 1) return undefined
  return outcomes.find((o) => o.source === 0 && !o.nestedBase)
}

export function setOutputs(
  outcomes: readonly ImageOutcome[],
  main: ImageOutcome | undefined,
  specFile: string,
): void {
  core.setOutput('spec-file', main ? specFile : '')
  core.setOutput('image', main?.image ?? '')
  core.setOutput('tag', main?.tag ?? '')
  core.setOutput('spec-id', main?.specId ?? '')
  core.setOutput('digest', main?.digest ?? '')
  core.setOutput('image-digest', main ? imageWithDigest(main.image, main.digest) : '')
  core.setOutput('built', main ? String(main.built) : String(outcomes.some((o) => o.built)))
  core.setOutput('dockerfile', main?.dockerfile ?? '')
  core.setOutput('metadata', main ? JSON.stringify(metadataOf(main)) : '')
  core.setOutput('images', JSON.stringify(outcomes.map(imageEntry)))
  core.setOutput('preview-image', main?.previewImage ?? '')
  core.setOutput(
    'tags',
    JSON.stringify(outcomes.flatMap((r) => r.tags ?? (r.pushed || r.digest ? [r.image] : []))),
  )
}
