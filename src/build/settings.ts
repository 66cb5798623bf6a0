import path from 'node:path'
import { epochTime, ociLabels, type RunContext } from '../github.js'
import type { RegistryCacheSetting } from '../docker/buildx-args.js'
import { buildPlanDefaults, parseRegistryCache } from '../docker/buildx-options.js'
import { ActionError, errorMessage, InputError } from '../errors.js'
import { CommandNotFoundError, exec as defaultExec, type Exec } from '../exec.js'
import type { ActionInputs } from '../inputs.js'
import type { Logger } from '../log.js'
import { flytekitRequirement } from '../plan/targets.js'
import type { BuildSettings } from './image.js'

/**
 * The inputs every image of the step is built with. Throws when a SOURCE_DATE_EPOCH the user set is not a time, so
 * that the step stops before anything is built.
 */
export function buildSettings(
  inputs: ActionInputs,
  ctx: RunContext,
  logger: Logger,
  exec: Exec = defaultExec,
): BuildSettings {
  let python: Promise<string> | undefined
  const defaultPython = async (): Promise<string> => {
    const version = inputs.defaultPythonVersion || (await interpreterVersion(inputs.python, exec))
    const from = inputs.defaultPythonVersion
      ? "the 'default-python-version' input"
      : `${inputs.python} on this runner`
    logger.info(
      `Specs without python_version get Python ${version} (${from}), as flytekit's builder installs the Python of ` +
        "the machine that builds; set 'default-python-version' to choose another (the tag does not change)",
    )
    return version
  }
  const plan = buildPlanDefaults(inputs, ociLabels(ctx))
  const chosen = chosenSourceDateEpoch(plan.buildArgs ?? {}, ctx.sourceDateEpoch)
  const cwd = path.resolve(ctx.workspace, inputs.workingDirectory)
  let epoch: Promise<number> | undefined
  return {
    installer: inputs.installer,
    flytekitRequirement: flytekitRequirement(inputs.flytekitVersion),
    defaultPythonVersion: () => (python ??= defaultPython()),
    push: inputs.push,
    force: inputs.force,
    onCheckError: inputs.onCheckError,
    plan,
    buildxVersion: inputs.buildxVersion,
    sourceDateEpoch: () => (epoch ??= sourceDateEpoch(chosen, cwd, logger, exec)),
    registryCache: registryCacheSetting(inputs),
  }
}

/**
 * The registry cache in effect: off when the step does not push (the cache is written with the push's login) and
 * when the user's `cache-from` / `cache-to` say where the cache is.
 */
export function registryCacheSetting(
  inputs: Pick<ActionInputs, 'push' | 'cacheFrom' | 'cacheTo' | 'registryCache'>,
): RegistryCacheSetting {
  if (!inputs.push || inputs.cacheFrom.length > 0 || inputs.cacheTo.length > 0) return { kind: 'off' }
  const read = parseRegistryCache(inputs.registryCache ?? '')
  if ('problem' in read) throw new InputError('registry-cache', read.problem)
  return read.setting
}

/** Seconds since 1970 as SOURCE_DATE_EPOCH is written; up to 9999-12-31, the last time RFC 3339 can write. */
const EPOCH = /^\d{1,12}$/
const MAX_EPOCH = 253402300799

interface ChosenEpoch {
  seconds: number
  from: string
}

/**
 * A SOURCE_DATE_EPOCH the user chose: a `build-args` line, else the step's environment. Either wins over the
 * commit time. Not a whole number of seconds: an error naming where it was set.
 */
export function chosenSourceDateEpoch(
  buildArgs: Readonly<Record<string, string>>,
  environment: string,
): ChosenEpoch | undefined {
  const fromInput = buildArgs.SOURCE_DATE_EPOCH
  if (fromInput !== undefined) {
    const seconds = parseEpoch(fromInput)
    if (seconds === undefined) {
      throw new InputError('build-args', `SOURCE_DATE_EPOCH=${fromInput} is not a time: ${EPOCH_FIX}`)
    }
    return { seconds, from: "the 'build-args' input" }
  }
  if (environment === '') return undefined
  const seconds = parseEpoch(environment)
  if (seconds === undefined) {
    throw new ActionError(
      `SOURCE_DATE_EPOCH in the step's environment is '${environment}', which is not a time: ${EPOCH_FIX}, or unset it to stamp images with the commit time`,
    )
  }
  return { seconds, from: "SOURCE_DATE_EPOCH in the step's environment" }
}

const EPOCH_FIX = 'write whole seconds since 1970-01-01 UTC, e.g. the output of `git log -1 --format=%ct`'

function parseEpoch(text: string): number | undefined {
  const trimmed = text.trim()
  if (!EPOCH.test(trimmed)) return undefined
  const seconds = Number(trimmed)
  return seconds <= MAX_EPOCH ? seconds : undefined
}

/**
 * The time images are stamped with, logged once: the user's SOURCE_DATE_EPOCH, else the committer time of the
 * checked-out commit, else 0.
 *
 * The commit comes from git in the working directory rather than the event payload: `head_commit.timestamp` is
 * only in push events (not pull_request, workflow_dispatch or schedule) and names the pushed commit even when
 * another one is checked out, and GITHUB_SHA alone has no time without git or an API call. HEAD is what the
 * images are built from, and a shallow clone (actions/checkout's default) has its time.
 *
 * Outside a git checkout the time is 0 (1970-01-01) rather than the clock: a fixed time keeps images of the same
 * inputs identical, which is the point; the clock would make every run push a new digest.
 */
export async function sourceDateEpoch(
  chosen: ChosenEpoch | undefined,
  cwd: string,
  logger: Logger,
  exec: Exec = defaultExec,
): Promise<number> {
  if (chosen) {
    logger.info(
      `Images are stamped with SOURCE_DATE_EPOCH=${chosen.seconds} (${epochTime(chosen.seconds)}) from ${chosen.from}: the created label, the image's times and its layers' file times`,
    )
    return chosen.seconds
  }
  const commit = await commitTime(cwd, exec)
  if ('seconds' in commit) {
    logger.info(
      `Images are stamped with the commit time of HEAD, ${epochTime(commit.seconds)} (SOURCE_DATE_EPOCH=${commit.seconds}), not the time of the run: the same spec at the same commit makes the same image. Set SOURCE_DATE_EPOCH in the step's env to choose another time.`,
    )
    return commit.seconds
  }
  logger.info(
    `${cwd} is not in a git checkout (${commit.why}), so images are stamped with SOURCE_DATE_EPOCH=0 (${epochTime(0)}) and the same spec still makes the same image. Check the repository out first, or set SOURCE_DATE_EPOCH in the step's env, to stamp them with another time.`,
  )
  return 0
}

/**
 * `git log -1 --format=%ct`: HEAD's committer time. `safe.directory=*` because in a container job the checkout
 * belongs to another user, and git then refuses to read it at all; reading one date is harmless.
 */
export async function commitTime(cwd: string, exec: Exec): Promise<{ seconds: number } | { why: string }> {
  try {
    const r = await exec('git', ['-c', 'safe.directory=*', 'log', '-1', '--format=%ct'], { cwd })
    const out = r.stdout.trim()
    if (r.exitCode === 0 && /^\d+$/.test(out)) return { seconds: Number(out) }
    const said = r.stderr
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '')
    return { why: said ?? `git log exited with code ${r.exitCode}` }
  } catch (err) {
    return { why: err instanceof CommandNotFoundError ? 'git is not installed' : errorMessage(err) }
  }
}

/**
 * flytekit installs the building machine's Python when python_version is unset; the runner stands in for that
 * machine (it is where `pyflyte register` would run).
 */
async function interpreterVersion(python: string, exec: Exec): Promise<string> {
  try {
    const r = await exec(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'])
    if (r.exitCode === 0 && /^\d+\.\d+$/.test(r.stdout.trim())) return r.stdout.trim()
  } catch {
    // no such interpreter on the runner
  }
  return '3.12'
}
