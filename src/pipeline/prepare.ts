import { writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { BuildSettings, ImageJob } from '../build-image.js'
import { exec } from '../docker/exec.js'
import { generateDockerfile } from '../dockerfile/generate.js'
import { SpecError, type SpecIssue } from '../errors.js'
import { ociLabels, type RunContext } from '../github.js'
import type { ActionInputs } from '../inputs.js'
import type { Logger } from '../log.js'
import { flytekitRequirement, imageChain, specsForRegistries } from '../plan.js'
import { buildPlanDefaults } from '../plan-inputs.js'
import type { ImageSpec } from '../spec/model.js'
import { emitSpecYaml, NotExpressibleInYaml } from '../spec/emit.js'
import { resolveSpec, type ResolvedSpec } from '../spec/resolve.js'
import { computeTag } from '../tag/tag.js'

/** inputs -> validated spec -> one image chain per registry, each image with its flytekit tag. */
export function readSpec(inputs: ActionInputs, cwd: string, logger: Logger): ResolvedSpec {
  const resolved = resolveSpec({
    specFile: inputs.spec,
    inline: inputs.inline,
    cwd,
    hostArch: os.arch(),
  })
  for (const w of resolved.warnings) logger.warning(w)
  const { spec } = resolved
  logger.info(`name: ${spec.name}, registry: ${spec.registry ?? '(none)'}, platform: ${spec.platform}`)
  return resolved
}

/** Settings that change what gets installed without failing: said once, as warnings. */
export function installerWarnings(spec: ImageSpec, installer: 'uv' | 'pip'): string[] {
  if (installer !== 'pip' || spec.python_version === undefined) return []
  return [
    `python_version is hashed into the tag as flytekit does, but installer 'pip' uses the base image's own Python; ` +
      `pick a base_image with that Python, or use installer 'uv' (micromamba installs it)`,
  ]
}

/** For each registry: the image chain (nested bases first), each with its flytekit tag. */
export async function tagChains(
  spec: ImageSpec,
  registries: string[],
  cwd: string,
  logger: Logger,
): Promise<ImageJob[][]> {
  const chains: ImageJob[][] = []
  for (const target of specsForRegistries(spec, registries)) {
    const jobs: ImageJob[] = []
    for (const s of imageChain(target)) {
      const tagged = await computeTag(s, cwd)
      const base = jobs[jobs.length - 1]?.tagged.image
      jobs.push({ spec: s, tagged, ...(base ? { baseImage: base } : {}) })
      logger.info(`${tagged.image}  (_F_IMG_ID ${tagged.id})`)
      logger.debug(`hashed: ${tagged.hashInput}`)
    }
    chains.push(jobs)
  }
  return chains
}

/**
 * Generates every Dockerfile once, before any registry is contacted, so that a value the Dockerfile cannot carry
 * safely (an env name with a space, a copy path with `$`) fails the step up front with all such problems listed,
 * instead of after a registry check. Pure: the files are written later, only for images that get built.
 */
export function checkDockerfiles(
  chains: ImageJob[][],
  settings: BuildSettings,
  locate: ResolvedSpec['locate'],
): void {
  const issues: SpecIssue[] = []
  const seen = new Set<string>()
  for (const job of chains.flat()) {
    try {
      generateDockerfile(job.spec, {
        installer: settings.installer,
        flytekitRequirement: settings.flytekitRequirement,
        specId: job.tagged.id,
        ...(job.baseImage ? { baseImage: job.baseImage } : {}),
        // Only its shape matters here; the real one is looked up when an image is built.
        defaultPythonVersion: '3.12',
      })
    } catch (err) {
      if (!(err instanceof SpecError)) throw err
      // One spec pushed to several registries repeats the same problems: report each once.
      for (const issue of err.issues) {
        const key = `${issue.path}\0${issue.message}`
        const location = issue.location ?? locate(issue.path)
        if (!seen.has(key)) issues.push(location ? { ...issue, location } : issue)
        seen.add(key)
      }
    }
  }
  if (issues.length > 0) throw new SpecError(issues)
}

/**
 * Writes the spec as resolved (file plus inline inputs) to `<workDir>/imagespec.yaml`, for
 * `pyflyte register --image <spec-file>`: flytekit reads the file it is given, not our inputs, so a register step
 * pointed at the original file would miss every inline override and compute another tag. Relative paths in it
 * still resolve against the working directory, as in the original. Empty when YAML cannot carry the spec.
 */
export async function writeSpecFile(spec: ImageSpec, workDir: string, logger: Logger): Promise<string> {
  try {
    const file = path.join(workDir, 'imagespec.yaml')
    await writeFile(file, emitSpecYaml(spec))
    return file
  } catch (err) {
    if (!(err instanceof NotExpressibleInYaml)) throw err
    logger.warning(`No spec-file output: ${err.message}`)
    return ''
  }
}

export function buildSettings(inputs: ActionInputs, ctx: RunContext): BuildSettings {
  let python: Promise<string> | undefined
  return {
    installer: inputs.installer,
    flytekitRequirement: flytekitRequirement(inputs.flytekitVersion),
    defaultPythonVersion: () => (python ??= runnerPythonVersion()),
    push: inputs.push,
    force: inputs.force,
    onCheckError: inputs.onCheckError,
    plan: buildPlanDefaults(inputs, ociLabels(ctx, new Date())),
    buildxVersion: inputs.buildxVersion,
  }
}

/**
 * flytekit installs the building machine's Python when python_version is unset; the runner stands in for that
 * machine (it is where `pyflyte register` would run).
 */
async function runnerPythonVersion(): Promise<string> {
  try {
    const r = await exec('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'])
    if (r.exitCode === 0 && /^\d+\.\d+$/.test(r.stdout.trim())) return r.stdout.trim()
  } catch {
    // no python3 on the runner
  }
  return '3.12'
}
