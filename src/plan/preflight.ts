import { generateDockerfile, type Installer } from '../dockerfile/generate.js'
import { SpecError, type SpecIssue } from '../errors.js'
import type { ImageSpec } from '../spec/model.js'
import type { ImageNode } from './graph.js'

/**
 * Checks made on the whole graph before any registry is contacted: every Dockerfile is generated once, so that
 * a value a Dockerfile cannot carry safely (an env name with a space, a copy path with `$`) fails the step up
 * front, with every such problem of every image listed and located, instead of after other images were pushed.
 * Pure: the files are written later, only for images that get built.
 */
export function dockerfileIssues(
  nodes: readonly ImageNode[],
  settings: { installer: Installer; flytekitRequirement: string | null },
): SpecIssue[] {
  const issues: SpecIssue[] = []
  const seen = new Set<string>()
  for (const node of nodes) {
    try {
      generateDockerfile(node.spec, {
        installer: settings.installer,
        flytekitRequirement: settings.flytekitRequirement,
        specId: node.tagged.id,
        ...(node.baseImage ? { baseImage: node.baseImage } : {}),
        // Only its shape matters here; the real one is looked up when an image is built.
        defaultPythonVersion: '3.12',
      })
    } catch (err) {
      if (!(err instanceof SpecError)) throw err
      // One spec pushed to several registries repeats the same problems: report each once.
      for (const issue of err.issues) {
        const location = issue.location ?? node.locate(issue.path) ?? node.origin
        const key = `${location}\0${issue.path}\0${issue.message}`
        if (!seen.has(key)) issues.push({ ...issue, location })
        seen.add(key)
      }
    }
  }
  return issues
}

/** Settings that change what gets installed without failing: said once per spec, as warnings. */
export function installerWarnings(
  nodes: readonly { spec: ImageSpec; origin: string }[],
  installer: Installer,
): string[] {
  if (installer !== 'pip') return []
  const origins = new Set(nodes.filter((n) => n.spec.python_version !== undefined).map((n) => n.origin))
  return [...origins].map(
    (origin) =>
      `${origin}: python_version is hashed into the tag as flytekit does, but installer 'pip' uses the base ` +
      "image's own Python; pick a base_image with that Python, or use installer 'uv' (micromamba installs it)",
  )
}
