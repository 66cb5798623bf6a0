import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { e2eEnv } from './e2e-env.js'

/**
 * Runs the bundled action (dist/index.js) under Node 24 the way the runner does: inputs as INPUT_<NAME>
 * variables, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_STATE files, then the post step with the saved state
 * as STATE_<name> variables. Nothing of the action is imported: this is the product as users get it.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const BUNDLE = path.join(ROOT, 'dist/index.js')

export interface StepResult {
  exitCode: number
  /** stdout and stderr together, in order: the job log. */
  log: string
  outputs: Record<string, string>
  state: Record<string, string>
  summary: string
  seconds: number
}

/** Parses the `name<<delimiter` / `name=value` file format of GITHUB_OUTPUT and GITHUB_STATE. */
export function parseCommandFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delim] = heredoc as unknown as [string, string, string]
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i] as string)
      out[name] = value.join('\n')
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
    }
  }
  return out
}

export interface RunOptions {
  /** The workspace (GITHUB_WORKSPACE): where the spec and its files are. */
  workspace: string
  env?: Record<string, string>
  /** State from the main step, for the post step. */
  state?: Record<string, string>
  /**
   * Start from an empty environment (PATH and HOME kept) instead of this process's, so that only `env` is what
   * the step's code can read: for specs that read environment variables.
   */
  cleanEnv?: boolean
}

function inputEnv(inputs: Record<string, string>): Record<string, string> {
  // The runner upper-cases the name and keeps dashes: INPUT_DRY-RUN.
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]))
}

export async function runStep(inputs: Record<string, string>, opts: RunOptions): Promise<StepResult> {
  const files = mkdtempSync(path.join(os.tmpdir(), 'step-'))
  const outputFile = path.join(files, 'output')
  const stateFile = path.join(files, 'state')
  const summaryFile = path.join(files, 'summary')
  for (const f of [outputFile, stateFile, summaryFile]) writeFileSync(f, '')
  const stateEnv = Object.fromEntries(Object.entries(opts.state ?? {}).map(([k, v]) => [`STATE_${k}`, v]))
  const baseEnv = opts.cleanEnv
    ? { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }
    : Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith('INPUT_') && !k.startsWith('STATE_')),
      )
  const env = {
    ...baseEnv,
    GITHUB_WORKSPACE: opts.workspace,
    RUNNER_TEMP: path.join(files, 'runner-temp'),
    GITHUB_OUTPUT: outputFile,
    GITHUB_STATE: stateFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_REPOSITORY: 'example-org/flyte-project',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_ACTOR: 'octocat',
    GITHUB_EVENT_NAME: 'push',
    ...inputEnv(inputs),
    ...stateEnv,
    ...opts.env,
  }
  const started = Date.now()
  const { code, log } = await new Promise<{ code: number; log: string }>((resolve, reject) => {
    const child = spawn(e2eEnv().E2E_NODE24 ?? 'node', [BUNDLE], {
      cwd: opts.workspace,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let log = ''
    child.stdout.on('data', (d: Buffer) => (log += d.toString()))
    child.stderr.on('data', (d: Buffer) => (log += d.toString()))
    child.on('error', reject)
    child.on('close', (c) => resolve({ code: c ?? -1, log }))
  })
  return {
    exitCode: code,
    log,
    outputs: parseCommandFile(readFileSync(outputFile, 'utf8')),
    state: parseCommandFile(readFileSync(stateFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
    seconds: (Date.now() - started) / 1000,
  }
}

/** The main step and then the post step, as the runner runs them. */
export async function runAction(
  inputs: Record<string, string>,
  opts: RunOptions,
): Promise<{ main: StepResult; post: StepResult }> {
  const main = await runStep(inputs, opts)
  const post = await runStep(inputs, { ...opts, state: main.state })
  return { main, post }
}
