import { generateDockerfile, type Installer } from '../dockerfile/generate.js'
import { SpecError, type SpecIssue } from '../errors.js'
import type { ImageSpec } from '../spec/model.js'
import type { ImageNode } from './graph.js'
import { CREDENTIALS_IN_REGISTRY, hasCredentials, referenceProblems } from './reference.js'

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

/**
 * Every image's full reference (`registry/name:tag` as flytekit's `image_name()` gives it) checked as docker
 * and the registry will read it, before any network call: name path components, the repository length with
 * the host, the tag after `tag_format`, the registry's host and port. Each problem is put on the spec field that
 * causes it, with that field's file:line, so a 300-character name, port 99999 or a `tag_format` that makes ':'
 * are not later blamed on the registry or the network. `broken` holds those images, so that the images built on
 * one are not blamed again for the FROM line it would give them.
 */
export function referenceIssues(nodes: readonly Pick<ImageNode, 'spec' | 'tagged' | 'origin' | 'locate'>[]): {
  issues: SpecIssue[]
  broken: Set<string>
} {
  const issues: SpecIssue[] = []
  const broken = new Set<string>()
  const seen = new Set<string>()
  for (const node of nodes) {
    const problems = referenceProblems({
      name: node.spec.name,
      tag: node.tagged.tag,
      ...(node.spec.registry !== undefined ? { registry: node.spec.registry } : {}),
      ...(node.spec.tag_format !== undefined ? { tagFormat: node.spec.tag_format } : {}),
    })
    if (problems.length > 0) broken.add(node.tagged.image)
    for (const problem of problems) {
      const field = problem.field === 'tag' ? 'name' : problem.field
      const location = node.locate(field) ?? node.origin
      const message = problem.field === 'tag' ? `${node.tagged.image}: ${problem.message}` : problem.message
      // A spec pushed to several registries, or a base two specs share, repeats the same problem: report it once.
      const key = `${location}\0${field}\0${message}`
      if (!seen.has(key)) issues.push({ path: field, location, message })
      seen.add(key)
    }
  }
  return { issues, broken }
}

/**
 * The spec readers quote a refused `registry` value in their messages. One holding `user:password@` must not be
 * printed (nothing masks it), so such an issue says why it is refused without the value; the location (file:line)
 * still says where it is.
 */
export function withoutCredentials(issues: readonly SpecIssue[]): SpecIssue[] {
  const out: SpecIssue[] = []
  const seen = new Set<string>()
  for (const issue of issues) {
    const leaks = /(?:^|\.)registry$/.test(issue.path) && hasCredentials(issue.message)
    const safe = leaks ? { ...issue, message: CREDENTIALS_IN_REGISTRY } : issue
    const key = `${safe.location ?? ''}\0${safe.path}\0${safe.message}`
    if (!seen.has(key)) out.push(safe)
    seen.add(key)
  }
  return out
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
