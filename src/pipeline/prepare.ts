import os from 'node:os'
import type { BuildSettings, ImageJob } from '../build-image.js'
import { exec } from '../docker/exec.js'
import { ociLabels, type RunContext } from '../github.js'
import type { ActionInputs } from '../inputs.js'
import type { Logger } from '../log.js'
import { flytekitRequirement, imageChain, specsForRegistries } from '../plan.js'
import { buildPlanDefaults } from '../plan-inputs.js'
import type { ImageSpec } from '../spec/model.js'
import { resolveSpec } from '../spec/resolve.js'
import { computeTag } from '../tag/tag.js'

/** inputs -> validated spec -> one image chain per registry, each image with its flytekit tag. */
export function readSpec(inputs: ActionInputs, cwd: string, logger: Logger): ImageSpec {
  const { spec, warnings } = resolveSpec({
    specFile: inputs.spec,
    inline: inputs.inline,
    cwd,
    hostArch: os.arch(),
  })
  for (const w of warnings) logger.warning(w)
  logger.info(`name: ${spec.name}, registry: ${spec.registry ?? '(none)'}, platform: ${spec.platform}`)
  return spec
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
