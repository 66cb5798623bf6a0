import { SpecError, type SpecIssue } from '../errors.js'
import type { SpecSource } from '../sources/read.js'
import type { ImageSpec } from '../spec/model.js'
import { computeTag } from '../tag/tag.js'
import type { TaggedChain } from './graph.js'
import { imageChain, specsForRegistries } from './targets.js'

/**
 * Every source in every registry -> its image chain (nested bases first), each image with its flytekit tag and
 * the place its spec was written. A source whose files cannot be hashed (a missing requirements file) is reported
 * with its location and left out; the others are still tagged, so all problems are reported together.
 */
export async function tagSources(
  sources: readonly SpecSource[],
  registries: readonly string[],
  cwd: string,
): Promise<{ chains: TaggedChain[]; issues: SpecIssue[] }> {
  const chains: TaggedChain[] = []
  const issues: SpecIssue[] = []
  const reported = new Set<string>()
  for (const [index, source] of sources.entries()) {
    for (const target of specsForRegistries(source.spec, registries)) {
      try {
        chains.push({ source: index, images: await tagChain(source, target, cwd) })
      } catch (err) {
        if (!(err instanceof SpecError)) throw err
        // One spec pushed to several registries has the same file problems in each: report them once.
        for (const issue of located(err.issues, source)) {
          const key = `${issue.location}\0${issue.path}\0${issue.message}`
          if (!reported.has(key)) issues.push(issue)
          reported.add(key)
        }
      }
    }
  }
  return { chains, issues }
}

async function tagChain(source: SpecSource, target: ImageSpec, cwd: string): Promise<TaggedChain['images']> {
  const chain = imageChain(target)
  const images: TaggedChain['images'] = []
  for (const [depth, spec] of chain.entries()) {
    // chain[0] is the deepest base: it sits under `base_image.` as many times as there are images above it.
    const prefix = 'base_image.'.repeat(chain.length - 1 - depth)
    const locate = (p: string) => source.locate(`${prefix}${p}`)
    const tagged = await computeTag(spec, cwd).catch((err: unknown) => {
      if (!(err instanceof SpecError) || !prefix) throw err
      throw new SpecError(err.issues.map((i) => ({ ...i, path: `${prefix}${i.path}` })))
    })
    const origin = prefix ? (source.locate(prefix.slice(0, -1)) ?? source.origin) : source.origin
    images.push({ spec, tagged, origin, locate })
  }
  return images
}

/** Issues as the tag module raises them (field paths of the top spec) with the line of their value. */
function located(issues: readonly SpecIssue[], source: SpecSource): SpecIssue[] {
  return issues.map((i) => ({ ...i, location: i.location ?? source.locate(i.path) ?? source.origin }))
}
