/**
 * The one place the action starts processes. Every docker, buildx and credential-helper call goes through `exec`,
 * so argv logging, environment handling and "command not found" are decided once, and tests can hand callers a
 * recording fake of the `Exec` type instead of mocking @actions/exec.
 */
import * as actionsExec from '@actions/exec'

import { ActionError } from './errors.js'
import { NullLogger, type Logger } from './log.js'

export interface ExecOptions {
  /** Bytes written to the process's stdin, then closed. Used for passwords, so it is never logged. */
  stdin?: Buffer
  /** Variables added to (and overriding) the action's own environment. */
  env?: Record<string, string>
  cwd?: string
  /** When false, output is streamed to the job log as it arrives (used for the build itself). Default true. */
  silent?: boolean
  logger?: Logger
}

export interface ExecResult {
  exitCode: number
  stdout: string
  stderr: string
}

export type Exec = (command: string, args: readonly string[], options?: ExecOptions) => Promise<ExecResult>

/** The command is not installed or not on PATH; callers turn this into advice about the runner. */
export class CommandNotFoundError extends ActionError {
  override name = 'CommandNotFoundError'
  constructor(readonly command: string) {
    super(`'${command}' was not found on PATH`)
  }
}

/**
 * Runs `command args...` and returns its exit code and output. A non-zero exit is returned, not thrown: only the
 * caller knows which failures are expected (`docker buildx version` failing means "install buildx") and how to
 * word the error for the user.
 */
export const exec: Exec = async (command, args, options = {}) => {
  const logger = options.logger ?? new NullLogger()
  logger.debug(`exec: ${formatArgv(command, args)}`)
  try {
    return await actionsExec.getExecOutput(command, [...args], {
      ignoreReturnCode: true,
      silent: options.silent ?? true,
      input: options.stdin,
      cwd: options.cwd,
      // @actions/exec replaces the environment wholesale when `env` is given; merge so PATH, HOME,
      // DOCKER_HOST and proxy settings still reach the child.
      env: options.env ? { ...processEnv(), ...options.env } : undefined,
    })
  } catch (err) {
    if (isNotFound(err)) throw new CommandNotFoundError(command)
    throw err
  }
}

/** argv as one readable line: arguments with spaces or quotes are JSON-quoted so the split is visible. */
export function formatArgv(command: string, args: readonly string[]): string {
  return [command, ...args].map((a) => (a === '' || /[\s"'\\]/.test(a) ? JSON.stringify(a) : a)).join(' ')
}

function processEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v
  return env
}

function isNotFound(err: unknown): boolean {
  // @actions/exec resolves the executable itself and throws this message before spawning.
  return (
    typeof err === 'object' &&
    err !== null &&
    /Unable to locate executable file/.test(String((err as { message?: unknown }).message))
  )
}
