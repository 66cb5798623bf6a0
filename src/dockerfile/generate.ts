import type { PyValue } from '../pyvalues/values.js'
import type { ImageSpec } from '../spec/model.js'
import { envValue, jsonArray, runnableCommand, shQuote } from './escape.js'
import {
  installSteps,
  micromambaPython,
  PIP_CACHE,
  pythonLocation,
  UV_BINARY,
  UV_CACHE,
  type InstallPlan,
  type Installer,
} from './install.js'
import { Issues, pyText, pyTruthy } from './issues.js'
import { requirementsMode } from './requirements.js'
import {
  checkImage,
  checkSpec,
  copyEntries,
  envEntries,
  installArgs,
  secretMounts,
  sourceCopyEnabled,
  stageImage,
} from './validate.js'

export type { Installer } from './install.js'

export interface DockerfileOptions {
  installer: Installer
  /** Added to the packages unless they name flytekit or union, e.g. `flytekit==1.16.24`; null adds nothing. */
  flytekitRequirement: string | null
  /** `ImageSpec.id`, written last as `_F_IMG_ID` (flytekit checks it at run time). */
  specId: string
  /** The base image; a nested base ImageSpec must already be built and given here by name. */
  baseImage?: string
  /** Python major.minor when python_version is unset (flytekit uses the building machine's Python). */
  defaultPythonVersion: string
  /** Override of `builder_config.uv_image` (default flytekit's). */
  uvImage?: string
  /** Override of `builder_config.micromamba_image` (default flytekit's). */
  micromambaImage?: string
}

// flytekit's defaults (default_builder.py).
export const DEFAULT_BASE_IMAGE = 'debian:bookworm-slim'
export const DEFAULT_UV_IMAGE = 'ghcr.io/astral-sh/uv:0.5.1'
export const DEFAULT_MICROMAMBA_IMAGE = 'mambaorg/micromamba:2.0.3-debian12-slim'

/**
 * The Dockerfile for `spec`, layer for layer in the order of flytekit's default builder template, so that the
 * image behaves the same at run time. Every value is quoted for its position or refused: all problems are
 * reported together in one SpecError. Pure: reads no files (writeBuildContext checks that copy paths exist).
 */
export function generateDockerfile(spec: ImageSpec, opts: DockerfileOptions): string {
  // The id is base64url (flytekit's ImageSpec.id); anything else is a caller's mistake, not the spec's.
  if (!/^[A-Za-z0-9_-]+$/.test(opts.specId))
    throw new TypeError(`specId ${JSON.stringify(opts.specId)} is not an ImageSpec id`)
  const issues = new Issues()
  checkSpec(spec, opts.installer, issues)
  const plan = installPlan(spec, opts.installer, issues)
  const lines = [
    ...stages(spec, opts, issues),
    ...baseLines(spec, opts, issues),
    ...aptLines(spec, issues),
    ...(opts.installer === 'uv' ? CA_CERTIFICATES : []),
    ...USER_LINES,
    ...pythonLines(spec, opts, plan, issues),
    envLine(spec, plan, issues),
    ...installSteps(plan),
    NVIDIA_ENV,
    ...entrypointLines(spec, issues),
    ...(sourceCopyEnabled(spec, issues) ? ['COPY --chown=flytekit ./src /root'] : []),
    ...copyEntries(spec, issues).map(
      ({ contextPath, imagePath }) => `COPY --chown=flytekit ${jsonArray([contextPath, imagePath])}`,
    ),
    ...commandLines(spec, opts.installer, issues),
    ...FINAL_USER_LINES,
    `ENV _F_IMG_ID=${envValue(opts.specId)}`,
  ]
  issues.throwIfAny()
  return `${lines.join('\n')}\n`
}

/**
 * Build stages that only lend files through `--mount=from=`. flytekit starts with `#syntax=docker/dockerfile:1.5`;
 * that line makes every builder pull docker/dockerfile from Docker Hub, and BuildKit's built-in frontend supports
 * every mount used here, so it is left out. Installer pip uses neither stage.
 */
function stages(spec: ImageSpec, opts: DockerfileOptions, issues: Issues): string[] {
  if (opts.installer === 'pip') return []
  const uv = stageImage(spec, 'uv_image', opts.uvImage, DEFAULT_UV_IMAGE, issues)
  const micromamba = stageImage(
    spec,
    'micromamba_image',
    opts.micromambaImage,
    DEFAULT_MICROMAMBA_IMAGE,
    issues,
  )
  return [`FROM ${uv} AS uv`, `FROM ${micromamba} AS micromamba`]
}

function baseLines(spec: ImageSpec, opts: DockerfileOptions, issues: Issues): string[] {
  const given = opts.baseImage ?? (typeof spec.base_image === 'string' ? spec.base_image : undefined)
  if (given === undefined && spec.base_image !== undefined) {
    issues.add('base_image', 'a base ImageSpec must be built first and passed to the generator by image name')
  }
  // flytekit: `image_spec.base_image or "debian:bookworm-slim"`.
  const base = given || DEFAULT_BASE_IMAGE
  return [`FROM ${checkImage('base_image', base, issues)}`, 'WORKDIR /', 'USER root']
}

/**
 * apt packages with caches that really keep what they download. Debian's images delete downloaded .debs after
 * every apt run through /etc/apt/apt.conf.d/docker-clean, which leaves flytekit's /var/cache/apt cache mount
 * empty; that file is moved aside (and Keep-Downloaded-Packages set) for this RUN only and put back at its end,
 * so later apt runs behave as in flytekit's image. The package lists live in the same locked cache
 * (Dir::State::Lists) and are copied to /var/lib/apt/lists, where flytekit's image has them, so `commands` can
 * still `apt-get install` without an update.
 */
function aptLines(spec: ImageSpec, issues: Issues): string[] {
  const packages = spec.apt_packages ?? []
  if (packages.length === 0) return []
  const words = packages.map((p, i) =>
    issues.lineSafe(`apt_packages[${i}]`, p, 'RUN line') ? shQuote(p) : '',
  )
  const conf = '/etc/apt/apt.conf.d'
  const lists = '-o Dir::State::Lists=/var/cache/apt/lists/'
  const script = [
    `{ [ ! -e ${conf}/docker-clean ] || mv ${conf}/docker-clean /tmp/docker-clean; }`,
    `echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > ${conf}/keep-cache`,
    // apt creates partial/ only under its default folders, and the cache mount starts empty.
    'mkdir -p /var/cache/apt/lists/partial /var/cache/apt/archives/partial',
    `apt-get ${lists} update`,
    `apt-get ${lists} install -y --no-install-recommends ${words.join(' ')}`,
    'cp -a /var/cache/apt/lists/. /var/lib/apt/lists/',
    `rm ${conf}/keep-cache`,
    `{ [ ! -e /tmp/docker-clean ] || mv /tmp/docker-clean ${conf}/docker-clean; }`,
  ].join(' && ')
  return [`RUN --mount=type=cache,sharing=locked,mode=0777,target=/var/cache/apt,id=apt ${script}`]
}

/**
 * flytekit's CA step, verbatim. Its `[ -f X ] || mkdir ... && cp ...` parses as `( ... || mkdir ) && cp`, so the
 * micromamba image's bundle always replaces the base image's; kept so that TLS behaves as in flytekit's images.
 */
const CA_CERTIFICATES = [
  'RUN --mount=from=micromamba,source=/etc/ssl/certs/ca-certificates.crt,target=/tmp/ca-certificates.crt [ -f /etc/ssl/certs/ca-certificates.crt ] || mkdir -p /etc/ssl/certs/ && cp /tmp/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt',
]

const USER_LINES = [
  'RUN id -u flytekit || useradd --create-home --shell /bin/bash flytekit',
  'RUN chown -R flytekit /root && chown -R flytekit /home',
]

function installPlan(spec: ImageSpec, installer: Installer, issues: Issues): InstallPlan {
  const pythonExec = pyTruthy(spec.python_exec) ? pyText(spec.python_exec as PyValue) : undefined
  if (pythonExec !== undefined) issues.lineSafe('python_exec', pythonExec, 'RUN line')
  return {
    installer,
    mode: requirementsMode(spec),
    pythonExec,
    args: installArgs(spec, issues),
    secretMounts: secretMounts(spec, issues),
  }
}

/** Python from micromamba (installer uv without python_exec); otherwise the image's own Python is used. */
function pythonLines(spec: ImageSpec, opts: DockerfileOptions, plan: InstallPlan, issues: Issues): string[] {
  if (plan.installer === 'pip' || plan.pythonExec !== undefined) return []
  // flytekit: `if image_spec.python_version:` else the building machine's major.minor.
  const version = pyTruthy(spec.python_version)
    ? pyText(spec.python_version as PyValue)
    : opts.defaultPythonVersion
  issues.lineSafe('python_version', version, 'RUN line')
  const channels = spec.conda_channels ?? []
  const packages = spec.conda_packages ?? []
  channels.forEach((c, i) => issues.lineSafe(`conda_channels[${i}]`, c, 'RUN line'))
  packages.forEach((p, i) => issues.lineSafe(`conda_packages[${i}]`, p, 'RUN line'))
  return micromambaPython(version, channels, packages)
}

/**
 * flytekit's "user space" ENV. The user's env is merged over PYTHONPATH=/root (a dict update: PYTHONPATH keeps
 * its place even when overridden); a value that is not plain is double-quoted, so it arrives in the image as
 * written.
 */
function envLine(spec: ImageSpec, plan: InstallPlan, issues: Issues): string {
  const { binDir, python } = pythonLocation(plan)
  const user = [...envEntries(spec, issues)].map(([k, v]) => `${k}=${envValue(v)}`)
  const fixed = `ENV PATH="${binDir}:$PATH" UV_PYTHON=${python} UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy FLYTE_SDK_RICH_TRACEBACKS=0 SSL_CERT_DIR=/etc/ssl/certs`
  return [fixed, ...user].join(' ')
}

const NVIDIA_ENV =
  'ENV PATH="$PATH:/usr/local/nvidia/bin:/usr/local/cuda/bin" LD_LIBRARY_PATH="/usr/local/nvidia/lib64:$LD_LIBRARY_PATH"'

/** `ENTRYPOINT <json>` as flytekit's json.dumps; an empty list is kept (it clears the base image's entrypoint). */
function entrypointLines(spec: ImageSpec, issues: Issues): string[] {
  if (spec.entrypoint === undefined) return []
  spec.entrypoint.forEach((arg, i) => issues.programText(`entrypoint[${i}]`, arg, 'a program argument'))
  return [`ENTRYPOINT ${jsonArray(spec.entrypoint)}`]
}

/**
 * `commands` in one RUN joined with ` && ` as flytekit does, with the uv cache and binary mounted (the pip cache
 * for installer pip). flytekit emits this RUN even with no commands; an empty RUN changes nothing, so it is left
 * out.
 */
function commandLines(spec: ImageSpec, installer: Installer, issues: Issues): string[] {
  const commands = spec.commands ?? []
  if (commands.join('').trim() === '') return []
  commands.forEach((c, i) => issues.programText(`commands[${i}]`, c, 'a shell script'))
  const mounts = installer === 'uv' ? `${UV_CACHE} ${UV_BINARY}` : PIP_CACHE
  return [`RUN ${mounts} ${commands.map((c, i) => runnableCommand(c, i === 0)).join(' && ')}`]
}

const FINAL_USER_LINES = [
  'WORKDIR /root',
  'SHELL ["/bin/bash", "-c"]',
  'USER flytekit',
  'RUN mkdir -p $HOME && echo "export PATH=$PATH" >> $HOME/.profile',
]
