import type { SpecIssue } from '../errors.js'
import type { ImageSpec } from '../spec/model.js'
import type { TagResult } from '../tag/tag.js'

/**
 * The image graph: every image of every spec source and registry, keyed by its full reference (what flytekit's
 * `image_name()` gives), so an image two specs share (a nested base they both name) is one node, checked, built
 * and pushed once. A node's only edge is to the nested base ImageSpec it is built FROM; the list is in an order
 * where every base comes before the images that use it.
 */

/** One image to check and maybe build: its spec, its flytekit tag, and the image its FROM names. */
export interface ImageJob {
  spec: ImageSpec
  tagged: TagResult
  /** The image a nested base ImageSpec became, used as this image's FROM (and the node it waits for). */
  baseImage?: string
}

export interface ImageNode extends ImageJob {
  /** Where the spec of this image was written: `specs/app.yaml:1`, `specs/app.yaml:7` (a nested base), `inline`. */
  origin: string
  /** True when no spec source names this image itself: it is only some spec's nested base_image. */
  nestedBase: boolean
  /** The index of the (first) spec source that gave this image. */
  source: number
  /** `file:line` of a field path of this image's spec (`packages[2]`), for problems found later. */
  locate(path: string): string | undefined
  /** Why this step does not build it (another builder makes it at register time). */
  notBuilt?: string
}

/** One spec source in one registry: its nested bases (deepest first) and then the image it names. */
export interface TaggedChain {
  source: number
  images: Omit<ImageNode, 'nestedBase' | 'source' | 'baseImage'>[]
}

export interface ImageGraph {
  /** Bases before the images built on them; otherwise in the order the sources gave them. */
  nodes: ImageNode[]
  issues: SpecIssue[]
}

export function planGraph(chains: readonly TaggedChain[]): ImageGraph {
  const byRef = new Map<string, ImageNode>()
  const issues: SpecIssue[] = []
  for (const chain of chains) {
    let base: string | undefined
    chain.images.forEach((image, i) => {
      const top = i === chain.images.length - 1
      const ref = image.tagged.image
      const known = byRef.get(ref)
      if (!known) {
        byRef.set(ref, {
          ...image,
          ...(base ? { baseImage: base } : {}),
          nestedBase: !top,
          source: chain.source,
        })
      } else {
        // Specs that differ only where flytekit does not hash (the path of an equal requirements file, builder,
        // registry_config) are one image to flytekit too; a fixed tag_format over different specs is not.
        if (known.tagged.hashInput !== image.tagged.hashInput) issues.push(sameReference(known, image))
        if (top) known.nestedBase = false
      }
      base = ref
    })
  }
  return { nodes: [...byRef.values()], issues }
}

/**
 * Two different specs that give the same reference (a fixed `tag_format`, or fields flytekit does not hash such
 * as `builder`): one tag cannot hold both images, and `pyflyte register` would find whichever came first.
 */
function sameReference(known: ImageNode, image: TaggedChain['images'][number]): SpecIssue {
  return {
    path: 'name',
    location: image.origin,
    message:
      `gives the image ${image.tagged.image}, as the different spec at ${known.origin} does (spec ids ` +
      `${known.tagged.id} and ${image.tagged.id}): one tag cannot hold two images. Make the two specs equal, ` +
      'or tell them apart by name, or by a tag_format that keeps {spec_hash}',
  }
}
