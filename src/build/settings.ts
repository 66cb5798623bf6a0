import { ociLabels, type RunContext } from '../github.js'
import { buildPlanDefaults } from '../docker/buildx-options.js'
import { exec } from '../exec.js'
import type { ActionInputs } from '../inputs.js'
import { flytekitRequirement } from '../plan/targets.js'
import type { BuildSettings } from './image.js'

/** The inputs every image of the step is built with. */
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
