import {
  CONSTRAINTS_FILE,
  isLockMode,
  PYPROJECT_FILE,
  REQUIREMENTS_FILE,
  type RequirementsMode,
} from './requirements.js'
import { shQuote, singleQuote } from './escape.js'

/**
 * The Python and package layers. With installer `uv` they are flytekit's template (micromamba Python, uv from the
 * uv image, cache mounts); with `pip` no uv or micromamba image is involved: the base image's own Python makes a
 * venv and pip installs into it.
 */
export type Installer = 'uv' | 'pip'

export interface InstallPlan {
  installer: Installer
  mode: RequirementsMode
  /** `python_exec` as text, when set. */
  pythonExec?: string
  /** Index and extra arguments, each already a quoted shell word: `--index-url`, `'https://…'`, … */
  args: string[]
  /** `--mount=type=secret,…` flags, one per pip_secret_mounts entry. */
  secretMounts: string[]
}

export const VENV = '/root/.venv'
export const MICROMAMBA_ENV_BIN = '/opt/micromamba/envs/runtime/bin'

// Cache and tool mounts as flytekit's template writes them (sharing=locked, mode=0777, one id per tool).
export const UV_CACHE = '--mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/uv,id=uv'
export const UV_BINARY = '--mount=from=uv,source=/uv,target=/usr/bin/uv'
export const PIP_CACHE = '--mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/pip,id=pip'
const MICROMAMBA_CACHE =
  '--mount=type=cache,sharing=locked,mode=0777,target=/opt/micromamba/pkgs,id=micromamba'
const MICROMAMBA_BINARY = '--mount=from=micromamba,source=/usr/bin/micromamba,target=/usr/bin/micromamba'
const POETRY_CACHE = '--mount=type=cache,sharing=locked,mode=0777,target=/tmp/poetry_cache,id=poetry'

const bind = (file: string): string => `--mount=type=bind,target=${file},src=${file}`
const run = (...parts: string[]): string => `RUN ${parts.filter((p) => p !== '').join(' ')}`

/**
 * flytekit's micromamba step: a `runtime` env with Python (and conda packages) from conda-forge plus the given
 * channels. `create || install` lets a base image that already has the env (a nested ImageSpec) add to it.
 */
export function micromambaPython(
  pythonVersion: string,
  condaChannels: string[],
  condaPackages: string[],
): string[] {
  const args = [
    '-n runtime --root-prefix /opt/micromamba -c conda-forge',
    ...condaChannels.map((c) => `-c ${shQuote(c)}`),
    shQuote(`python=${pythonVersion}`),
    ...condaPackages.map(shQuote),
  ].join(' ')
  const script = `micromamba config set use_lockfiles False && ( micromamba create ${args} || micromamba install ${args} ) && chown -R flytekit /opt/micromamba`
  return [run(MICROMAMBA_CACHE, MICROMAMBA_BINARY, script)]
}

/** PATH and UV_PYTHON for the main ENV line: the micromamba env, or the venv (python_exec, or installer pip). */
export function pythonLocation(plan: InstallPlan): { binDir: string; python: string } {
  const usesVenv = plan.installer === 'pip' || plan.pythonExec !== undefined
  const binDir = usesVenv ? `${VENV}/bin` : MICROMAMBA_ENV_BIN
  return { binDir, python: `${binDir}/python` }
}

export function installSteps(plan: InstallPlan): string[] {
  if (plan.installer === 'pip') return pipInstall(plan)
  if (plan.mode === 'uv.lock') return uvSync(plan)
  if (plan.mode === 'poetry.lock') return poetryInstall(plan)
  return uvPipInstall(plan)
}

/** `uv venv` from python_exec, with the image's own packages visible, as flytekit does for python_exec. */
function uvVenv(pythonExec: string): string {
  return `uv venv --python ${shQuote(pythonExec)} --system-site-packages ${VENV}`
}

/** `first && rest`, or just `rest`. */
function andThen(first: string | undefined, rest: string): string {
  return first === undefined ? rest : `${first} && ${rest}`
}

/** Steps that leave PATH and UV_PYTHON on the project venv (flytekit's lock-file templates end this way). */
const VENV_ENV = `ENV PATH="${VENV}/bin:$PATH" UV_PYTHON=${VENV}/bin/python`

/**
 * flytekit's `uv pip install --requirement requirements_uv.txt`. A pyproject.toml is handed to uv as it is, one more
 * `--requirement`: uv installs its `[project].dependencies` (no extras, not the project itself).
 */
function uvPipInstall(plan: InstallPlan): string[] {
  const files = plan.mode === 'pyproject.toml' ? [REQUIREMENTS_FILE, PYPROJECT_FILE] : [REQUIREMENTS_FILE]
  const args = [...plan.args, ...files.flatMap((f) => ['--requirement', f])].join(' ')
  const mounts = [UV_CACHE, UV_BINARY, ...files.map(bind), ...plan.secretMounts]
  if (plan.pythonExec === undefined) return [run(...mounts, `uv pip install ${args}`)]
  const script = `${uvVenv(plan.pythonExec)} && uv pip install --python ${VENV}/bin/python ${args} && chown -R flytekit ${VENV}`
  return ['WORKDIR /root', run(...mounts, script), 'WORKDIR /']
}

/**
 * flytekit's uv.lock template. With python_exec (a combination flytekit's template leaves to uv's own interpreter
 * discovery) the venv is made from python_exec first; uv sync then reuses it as the project environment.
 */
function uvSync(plan: InstallPlan): string[] {
  const args = [...plan.args, '--locked', '--no-dev', '--no-install-project'].join(' ')
  const mounts = [UV_CACHE, UV_BINARY, bind('uv.lock'), bind('pyproject.toml'), ...plan.secretMounts]
  const venv = plan.pythonExec === undefined ? undefined : uvVenv(plan.pythonExec)
  const script = andThen(venv, `uv sync ${args} && chown -R flytekit ${VENV}`)
  return ['WORKDIR /root', run(...mounts, script), 'WORKDIR /', VENV_ENV]
}

/** flytekit's poetry.lock template; with python_exec, poetry and the project's packages go into its venv. */
function poetryInstall(plan: InstallPlan): string[] {
  const args = [...plan.args, '--no-root'].join(' ')
  const mounts = [POETRY_CACHE, bind('poetry.lock'), bind('pyproject.toml'), ...plan.secretMounts]
  const venv =
    plan.pythonExec === undefined
      ? []
      : ['WORKDIR /root', run(UV_CACHE, UV_BINARY, uvVenv(plan.pythonExec)), 'WORKDIR /']
  return [
    ...venv,
    run(UV_CACHE, UV_BINARY, 'uv pip install poetry'),
    'ENV POETRY_CACHE_DIR=/tmp/poetry_cache POETRY_VIRTUALENVS_IN_PROJECT=true',
    // poetry install does not work in /, so flytekit moves to /root to create the venv there.
    'WORKDIR /root',
    run(...mounts, `poetry install ${args} && chown -R flytekit ${VENV}`),
    'WORKDIR /',
    VENV_ENV,
  ]
}

/**
 * Installer pip: a venv from the base image's Python (python_exec, else `python3` on its PATH) that sees the
 * system site-packages, like flytekit's python_exec venv. It is made without pip of its own (Debian's python3
 * lacks ensurepip unless python3-venv is installed); the system pip, visible through the system site-packages,
 * installs into the venv because it runs under the venv's interpreter. A lock file arrives as a requirements list
 * plus the locked versions as constraints (see lockfile.ts); a pyproject.toml as its dependencies written into the
 * requirements list (pip cannot read the file itself; see pyproject.ts).
 */
function pipInstall(plan: InstallPlan): string[] {
  const python = plan.pythonExec === undefined ? 'python3' : singleQuote(plan.pythonExec)
  const fromLock = isLockMode(plan.mode)
  const args = [
    '--disable-pip-version-check',
    ...plan.args,
    '--requirement',
    REQUIREMENTS_FILE,
    ...(fromLock ? ['--constraint', CONSTRAINTS_FILE] : []),
  ].join(' ')
  const mounts = [
    PIP_CACHE,
    bind(REQUIREMENTS_FILE),
    ...(fromLock ? [bind(CONSTRAINTS_FILE)] : []),
    ...plan.secretMounts,
  ]
  // pip compiles .pyc files whose headers hold the install time, so two builds of one spec would differ. With
  // SOURCE_DATE_EPOCH set (any value) Python writes hash-based .pyc files instead; a fixed value keeps the layer
  // cache valid across commits.
  const script =
    `${python} -m venv --system-site-packages --without-pip ${VENV}` +
    ` && SOURCE_DATE_EPOCH=0 ${VENV}/bin/python -m pip install ${args} && chown -R flytekit ${VENV}`
  return ['WORKDIR /root', run(...mounts, script), 'WORKDIR /']
}
