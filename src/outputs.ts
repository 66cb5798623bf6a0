import * as core from '@actions/core'

/**
 * Step outputs and the job summary. Nothing here is masked on purpose: image URIs must cross jobs, and a masked
 * output is silently dropped by the runner. Secrets never reach this module.
 */
export interface ImageResult {
  registry: string
  image: string
  tag: string
  specId: string
  digest: string
  built: boolean
  dockerfile: string
  buildSeconds?: number
  pushed: boolean
  /** Every reference pushed (the flytekit image, then preview and extra tags), when tags were added. */
  tags?: string[]
  /** The first preview tag as a full reference, on pull requests. */
  previewImage?: string
}

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

export function setOutputs(main: ImageResult, all: ImageResult[], specFile: string): void {
  core.setOutput('spec-file', specFile)
  core.setOutput('image', main.image)
  core.setOutput('tag', main.tag)
  core.setOutput('spec-id', main.specId)
  core.setOutput('digest', main.digest)
  core.setOutput('image-digest', imageWithDigest(main.image, main.digest))
  core.setOutput('built', String(main.built))
  core.setOutput('dockerfile', main.dockerfile)
  core.setOutput('metadata', JSON.stringify(metadataOf(main)))
  const images: Record<string, { image: string; digest: string; built: boolean }> = {}
  for (const r of all) images[r.registry] = { image: r.image, digest: r.digest, built: r.built }
  core.setOutput('images', JSON.stringify(images))
  core.setOutput('preview-image', main.previewImage ?? '')
  core.setOutput(
    'tags',
    JSON.stringify(all.flatMap((r) => r.tags ?? (r.pushed || r.digest ? [r.image] : []))),
  )
}

/** Markdown for the job summary: one row per image, then the register command that finds it by tag. */
export function summaryMarkdown(results: ImageResult[], specFile: string, dryRun: boolean): string {
  const rows = results.map((r) => {
    const state = dryRun
      ? 'dry run'
      : r.built
        ? r.pushed
          ? 'built and pushed'
          : 'built (not pushed)'
        : 'reused (already in the registry)'
    const time = r.buildSeconds !== undefined ? `${r.buildSeconds.toFixed(1)} s` : '–'
    return `| \`${r.image}\` | ${r.digest ? `\`${r.digest}\`` : '–'} | ${state} | ${time} |`
  })
  const first = results[0]
  const register = specFile
    ? `pyflyte register --image ${specFile} <your workflows>`
    : `pyflyte register --image ${first?.image ?? '<image>'} <your workflows>`
  return [
    '### ImageSpec image',
    '',
    '| Image | Digest | Result | Build time |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    'Register with the same spec; flytekit computes the same tag and finds this image instead of building it:',
    '',
    '```sh',
    `FLYTE_IMG_FAST_FAIL=true ${register}`,
    '```',
    '',
  ].join('\n')
}

export async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary.addRaw(markdown).write()
}
