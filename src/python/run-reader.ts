import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { assetPath } from './asset.js'
import { ActionError } from '../errors.js'
import { CommandNotFoundError, exec as defaultExec, type Exec } from '../exec.js'
import type { Logger } from '../log.js'
import type { ReaderOutput } from '../sources/python.js'

/**
 * Runs the static reader (reader.py, beside this file in the bundle) with the Python that will run
 * `pyflyte register`: it parses the project's Python files with Python's own `ast` and evaluates their
 * module-level ImageSpecs without importing or running them. `-I` keeps the project's folders and PYTHONPATH off
 * sys.path (the reader imports nothing of the project anyway), `-B` writes no bytecode into the workspace.
 */
const READER = assetPath(new URL('./reader.py', import.meta.url))

export interface ReaderRun {
  /** The interpreter (`python` input): a command on PATH or a path. */
  python: string
  /** The working directory: where `pyflyte register` runs, and what relative paths resolve against. */
  cwd: string
  /** The Python files to read, relative to cwd. */
  entries: string[]
  /** A folder of this step's own (under RUNNER_TEMP) for the request file. */
  workDir: string
  logger: Logger
  exec?: Exec
}

export async function runReader(run: ReaderRun): Promise<ReaderOutput> {
  // A file, not stdin: an interpreter that exits at once (`python: /bin/false`) would make a stdin write fail.
  const requestFile = path.join(run.workDir, 'python-reader-request.json')
  await writeFile(requestFile, JSON.stringify({ entries: run.entries, cwd: run.cwd }))
  let result
  try {
    result = await (run.exec ?? defaultExec)(run.python, ['-I', '-B', READER, requestFile], {
      // The step's environment, which the register step shares (os.environ reads come from it).
      env: { PYTHONDONTWRITEBYTECODE: '1' },
      cwd: run.cwd,
      logger: run.logger,
    })
  } catch (err) {
    if (err instanceof CommandNotFoundError) {
      throw new ActionError(
        `Input 'python': '${run.python}' was not found, and it is needed to read ImageSpecs from Python files. ` +
          'Add actions/setup-python before this step, or set python to an interpreter on the runner.',
      )
    }
    throw err
  }
  if (result.exitCode !== 0) {
    throw new ActionError(
      `Input 'python': reading the Python files with '${run.python}' failed (exit ${result.exitCode}): ` +
        `${result.stderr.trim().split('\n').slice(-5).join('\n') || '(no output)'}\n` +
        'It must be Python 3.8 or newer: add actions/setup-python before this step, or set python to such an interpreter.',
    )
  }
  try {
    return JSON.parse(result.stdout) as ReaderOutput
  } catch {
    throw new ActionError(
      `The Python reader printed something that is not JSON: ${result.stdout.slice(0, 200)}`,
    )
  }
}
