import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { assetPath } from './asset.js'
import { ActionError } from '../errors.js'
import { CommandNotFoundError, exec as defaultExec, type Exec } from '../exec.js'
import type { Logger } from '../log.js'
import type { ImagePlan } from '../plan/plan-images.js'
import { encodeSpec } from '../sources/encode.js'

/**
 * The self-check: when the Python that will run `pyflyte register` can import flytekit, every image name is
 * computed again by flytekit itself, from the same evaluated fields, and any difference fails the step before
 * anything is built. It catches what a static reimplementation could get wrong (a newer flytekit hashing a new
 * field, say) on the user's own runner, with the user's own flytekit.
 */
const SCRIPT = assetPath(new URL('./self_check.py', import.meta.url))

export interface SelfCheckOptions {
  mode: 'auto' | 'true'
  python: string
  /** Where register runs: requirements and copy paths resolve here, as for the action. */
  cwd: string
  /** A folder of this step's own (under RUNNER_TEMP) for the request file. */
  workDir: string
  logger: Logger
  exec?: Exec
}

interface SelfCheckOutput {
  available: boolean
  error?: string
  version?: string
  images?: (string | { error: string })[]
}

export async function selfCheck(plan: ImagePlan, opts: SelfCheckOptions): Promise<void> {
  if (plan.nodes.length === 0) return
  let request: string
  try {
    request = JSON.stringify({ specs: plan.nodes.map((n) => encodeSpec(n.spec)) })
  } catch (err) {
    return unavailable(opts, `a value cannot be handed to flytekit (${(err as Error).message})`)
  }
  let result
  try {
    // Not isolated: flytekit comes from the interpreter's site-packages or PYTHONPATH, as register's would.
    const requestFile = path.join(opts.workDir, 'self-check-request.json')
    await writeFile(requestFile, request)
    result = await (opts.exec ?? defaultExec)(opts.python, ['-B', SCRIPT, requestFile], {
      // The step's environment, which the register step shares (os.environ reads come from it).
      env: { PYTHONDONTWRITEBYTECODE: '1' },
      cwd: opts.cwd,
      logger: opts.logger,
    })
  } catch (err) {
    if (!(err instanceof CommandNotFoundError)) throw err
    return unavailable(opts, `'${opts.python}' was not found`)
  }
  let out: SelfCheckOutput
  try {
    out = JSON.parse(result.stdout) as SelfCheckOutput
  } catch {
    return unavailable(
      opts,
      `it failed (exit ${result.exitCode}): ${result.stderr.trim().split('\n').slice(-3).join(' ')}`,
    )
  }
  if (!out.available) return unavailable(opts, `flytekit cannot be imported (${out.error ?? ''})`)
  const differences = plan.nodes.flatMap((node, i) => {
    const theirs = out.images?.[i]
    if (theirs === node.tagged.image) return []
    const said = typeof theirs === 'string' ? theirs : `an error: ${theirs?.error ?? 'no answer'}`
    return [`  - ${node.origin}: flytekit ${out.version}: ${said}\n    this step:   ${node.tagged.image}`]
  })
  if (differences.length > 0) {
    throw new ActionError(
      `flytekit computes other image names than this step for ${differences.length} of ${plan.nodes.length} ` +
        `images, so pyflyte register would not find them:\n${differences.join('\n')}\n` +
        'Nothing was built. Please report it with the spec; set self-check: false to build anyway.',
    )
  }
  opts.logger.info(`flytekit ${out.version} computes the same ${plan.nodes.length} image names`)
}

function unavailable(opts: SelfCheckOptions, why: string): void {
  if (opts.mode === 'true') {
    throw new ActionError(
      `Input 'self-check' is true, but ${opts.python} cannot run it: ${why}. Install flytekit (pip install flytekit) ` +
        "before this step, point 'python' at the interpreter that has it, or set self-check: auto.",
    )
  }
  opts.logger.info(`Self-check skipped: ${why} with ${opts.python}`)
}
