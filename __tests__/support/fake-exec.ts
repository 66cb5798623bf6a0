/** A stand-in for the exec wrapper that records every call and answers from a script, for argv/stdin assertions. */
import type { Exec, ExecOptions, ExecResult } from '../../src/exec.js'

export interface ExecCall {
  command: string
  args: string[]
  options: ExecOptions
  /** stdin decoded, for assertions that a password went there and not into argv. */
  stdin: string | undefined
}

export type ExecScript = (call: ExecCall) => ExecResult | Promise<ExecResult>

export interface FakeExec extends Exec {
  calls: ExecCall[]
}

export function fakeExec(script: ExecScript = () => ok('')): FakeExec {
  const calls: ExecCall[] = []
  const fn = async (command: string, args: readonly string[], options: ExecOptions = {}) => {
    const call = { command, args: [...args], options, stdin: options.stdin?.toString('utf8') }
    calls.push(call)
    return script(call)
  }
  return Object.assign(fn, { calls })
}

export function ok(stdout: string, stderr = ''): ExecResult {
  return { exitCode: 0, stdout, stderr }
}

export function failed(stderr: string, exitCode = 1, stdout = ''): ExecResult {
  return { exitCode, stdout, stderr }
}

/** `docker buildx inspect` style argv match: command plus leading args. */
export function isCall(call: ExecCall, command: string, ...leading: string[]): boolean {
  return call.command === command && leading.every((a, i) => call.args[i] === a)
}
