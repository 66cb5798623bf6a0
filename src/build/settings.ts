import { ociLabels, type RunContext } from '../github.js'
import { buildPlanDefaults } from '../docker/buildx-options.js'
import { exec } from '../exec.js'
import type { ActionInputs } from '../inputs.js'
import type { Logger } from '../log.js'
import { flytekitRequirement } from '../plan/targets.js'
import type { BuildSettings } from './image.js'

/** The inputs every image of the step is built with. */
export function buildSettings(inputs: ActionInputs, ctx: RunContext, logger: Logger): BuildSettings {
  let python: Promise<string> | undefined
  const defaultPython = async (): Promise<string> => {
    const version = inputs.defaultPythonVersion || (await interpreterVersion(inputs.python))
    const from = inputs.defaultPythonVersion
      ? "the 'default-python-version' input"
      : `${inputs.python} on this runner`
    logger.info(
      `Specs without python_version get Python ${version} (${from}), as flytekit's builder installs the Python of ` +
        "the machine that builds; set 'default-python-version' to choose another (the tag does not change)",
    )
    return version
  }
  return {
    installer: inputs.installer,
    flytekitRequirement: flytekitRequirement(inputs.flytekitVersion),
    defaultPythonVersion: () => (python ??= defaultPython()),
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
async function interpreterVersion(python: string): Promise<string> {
  try {
    const r = await exec(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'])
    if (r.exitCode === 0 && /^\d+\.\d+$/.test(r.stdout.trim())) return r.stdout.trim()
  } catch {
    // no such interpreter on the runner
  }
  return '3.12'
}
