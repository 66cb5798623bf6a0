import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Logger } from '../log.js'
import type { ImageSpec } from '../spec/model.js'
import { emitSpecYaml, NotExpressibleInYaml } from '../spec/emit.js'

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
