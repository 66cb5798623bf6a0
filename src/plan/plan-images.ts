import type { Installer } from '../dockerfile/generate.js'
import { SpecError, type SpecIssue } from '../errors.js'
import type { ReaderOutput } from '../sources/python.js'
import { readSources, type SpecFileRef, type SpecSource } from '../sources/read.js'
import type { ImageSpec } from '../spec/model.js'
import { tagSources } from './chains.js'
import { planGraph, type ImageNode } from './graph.js'
import { dockerfileIssues, installerWarnings, referenceIssues, withoutCredentials } from './preflight.js'

/**
 * sources -> specs -> tags -> the image graph, with every Dockerfile generated once: all before any registry is
 * contacted. Problems of every spec are collected (as changesets collects config problems) and thrown together,
 * each with the file and line it is about.
 */
export interface ImagePlan {
  sources: SpecSource[]
  /** Bases before the images built on them. */
  nodes: ImageNode[]
  warnings: string[]
}

export interface PlanOptions {
  files: SpecFileRef[]
  inline: Record<string, string>
  /** What the static reader found in the Python files among `files`. */
  python?: ReaderOutput
  /** How many `spec` lines were given (see ReadOptions). */
  specLines?: number
  /** Problems found before reading (a `spec` line that names nothing). */
  issues?: SpecIssue[]
  /** Build specs whose builder is union / unionai here too (the builder is not hashed: the tag is the same). */
  buildUnion: boolean
  registries: string[]
  cwd: string
  hostArch: string
  installer: Installer
  flytekitRequirement: string | null
}

export async function planImages(opts: PlanOptions): Promise<ImagePlan> {
  const read = readSources(opts)
  const tagged = await tagSources(read.sources, opts.registries, opts.cwd)
  const graph = planGraph(tagged.chains)
  for (const node of graph.nodes) {
    const reason = builtElsewhere(node.spec, opts.buildUnion)
    if (reason) node.notBuilt = reason
  }
  // Every image's reference is checked, the ones another builder makes too: they are still looked up.
  const references = referenceIssues(graph.nodes)
  const built = graph.nodes.filter(
    (n) => !n.notBuilt && !(n.baseImage !== undefined && references.broken.has(n.baseImage)),
  )
  const issues = withoutCredentials([
    ...(opts.issues ?? []),
    ...read.errors,
    ...tagged.issues,
    ...graph.issues,
    ...references.issues,
    ...dockerfileIssues(built, opts),
  ])
  const specCount = Math.max(1, new Set(opts.files.map((f) => f.path)).size)
  if (issues.length > 0) throw new SpecError(issues, specCount)
  const none =
    read.sources.length === 0
      ? [
          `No ImageSpec found in ${opts.files.map((f) => f.path).join(', ')}: nothing to build. The reader finds specs ` +
            'bound to module-level names or passed as container_image=; tasks without one use the default image',
        ]
      : []
  return {
    sources: read.sources,
    nodes: graph.nodes,
    warnings: [...read.warnings, ...installerWarnings(graph.nodes, opts.installer), ...none],
  }
}

/**
 * Specs another builder makes at register time: flytekit hands them to that builder, whatever this step does.
 * Union's cloud builder can be asked to leave them to this step (the builder is not hashed, so the tag is the
 * same); envd installs CUDA and its own toolchain, and noop builds nothing by design.
 */
export function builtElsewhere(spec: ImageSpec, buildUnion: boolean): string | undefined {
  const builder = typeof spec.builder === 'string' ? spec.builder : undefined
  if ((builder === 'union' || builder === 'unionai') && !buildUnion) {
    return `builder '${builder}': Union's cloud builder builds it at register time (set build-union-specs: true to build it here)`
  }
  if (builder === 'envd') return "builder 'envd': flytekit builds it with envd at register time"
  if (builder === 'noop') return "builder 'noop': flytekit uses its base_image as it is and builds nothing"
  return undefined
}
