import type { Installer } from '../dockerfile/generate.js'
import { SpecError } from '../errors.js'
import { readSources, type SpecSource } from '../sources/read.js'
import { tagSources } from './chains.js'
import { planGraph, type ImageNode } from './graph.js'
import { dockerfileIssues, installerWarnings } from './preflight.js'

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
  files: string[]
  inline: Record<string, string>
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
  const issues = [...read.errors, ...tagged.issues, ...graph.issues, ...dockerfileIssues(graph.nodes, opts)]
  const specCount = new Set(opts.files).size || 1
  if (issues.length > 0) throw new SpecError(issues, specCount)
  return {
    sources: read.sources,
    nodes: graph.nodes,
    warnings: [...read.warnings, ...installerWarnings(graph.nodes, opts.installer)],
  }
}
