import * as core from '@actions/core'
import os from 'node:os'
import type { AwsInputs, EcrRepositoryInputs } from './connections/ecr.js'
import type { GcpInputs } from './connections/gar.js'
import { InputError } from './errors.js'
import { keyValues, type BuildxInputs } from './docker/buildx-options.js'
import { INLINE_FIELDS, parseLines } from './spec/inline.js'

/**
 * The only module that reads action inputs. Everything downstream takes these typed values, so the core can be
 * tested with plain objects. Keys follow action.yml, camel-cased.
 */
export type Installer = 'uv' | 'pip'
export type OnCheckError = 'fail' | 'build'

/** The buildx inputs (network, build-args, secrets, cache…) are declared with their parser in docker/buildx-options.ts. */
export interface ActionInputs extends BuildxInputs {
  /** `spec` lines: the spec files, in the order given (empty: only inline inputs). */
  specs: string[]
  workingDirectory: string
  /** Raw text of the inline spec inputs that were set, by input name. */
  inline: Record<string, string>
  dryRun: boolean
  installer: Installer
  /** '' for an unpinned `flytekit`, 'none' to add nothing, else a version or a full requirement. */
  flytekitVersion: string
  push: boolean
  force: boolean
  onCheckError: OnCheckError
  buildxVersion: string
  username: string
  password: string
  registries: string[]
  githubToken: string
  aws: AwsInputs
  ecr: EcrRepositoryInputs
  gcp: GcpInputs
  /** `preview-tags` lines: tag patterns for pull requests; empty for the defaults, `none` for no preview tags. */
  previewTags: string[]
  extraTags: string[]
  comment: boolean
  cleanup: 'none' | 'pr'
  failOnFork: boolean
  /** How many images build at once (`parallel-builds`; default from the runner's cores). */
  parallelBuilds: number
  /** The Python that reads Python sources and will run `pyflyte register` (a command or a path). */
  python: string
  /** major.minor installed in images whose spec has no python_version; '' for the `python` interpreter's. */
  defaultPythonVersion: string
  /** Build specs whose builder is union / unionai here too. */
  buildUnionSpecs: boolean
  /** Compare every tag with flytekit's own, when flytekit can be imported (`auto`), always, or never. */
  selfCheck: 'auto' | 'true' | 'false'
}

function text(name: string): string {
  return core.getInput(name)
}

function bool(name: string, fallback: boolean): boolean {
  const raw = core.getInput(name).trim()
  if (raw === '') return fallback
  if (/^(true|yes|on|1)$/i.test(raw)) return true
  if (/^(false|no|off|0)$/i.test(raw)) return false
  throw new InputError(name, `'${raw}' is not a boolean; use true or false`)
}

function oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const raw = core.getInput(name).trim()
  if (raw === '') return fallback
  if ((allowed as readonly string[]).includes(raw)) return raw as T
  throw new InputError(name, `'${raw}' is not one of ${allowed.join(', ')}`)
}

function int(name: string, unit = 'seconds'): number | undefined {
  const raw = core.getInput(name).trim()
  if (raw === '') return undefined
  if (!/^\d+$/.test(raw)) throw new InputError(name, `'${raw}' is not a whole number of ${unit}`)
  return Number(raw)
}

/**
 * Builds at once: BuildKit already runs a build's own steps in parallel, and package downloads dominate, so one
 * build per core (at least two, at most four) keeps a runner busy without starving it.
 */
function parallelBuilds(): number {
  const given = int('parallel-builds', 'builds')
  if (given === 0) throw new InputError('parallel-builds', 'must be at least 1 (or empty for the default)')
  return given ?? Math.min(4, Math.max(2, os.availableParallelism()))
}

function pythonVersion(): string {
  const raw = core.getInput('default-python-version').trim()
  if (raw !== '' && !/^\d+\.\d+$/.test(raw)) {
    throw new InputError(
      'default-python-version',
      `'${raw}' is not a Python version; use major.minor, e.g. 3.12`,
    )
  }
  return raw
}

/**
 * Inline field inputs change one ImageSpec. With several spec files there is no saying which one they would
 * change, so that is refused rather than guessed.
 */
function checkInlineWithSpecs(specs: string[], inline: Record<string, string>): void {
  const names = Object.keys(inline)
  if (specs.length <= 1 || names.length === 0) return
  throw new InputError(
    names.join("', '"),
    `inline ImageSpec inputs change exactly one spec, but 'spec' names ${specs.length} files ` +
      `(${specs.join(', ')}): which one would they change? Put the values in the spec files, or build that ` +
      'spec in a step of its own',
  )
}

function lines(name: string): string[] {
  return parseLines(core.getInput(name))
}

function inlineInputs(): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of Object.keys(INLINE_FIELDS)) {
    const value = core.getInput(name)
    if (value.trim() !== '') out[name] = value
  }
  return out
}

export function getInputs(): ActionInputs {
  // The password is masked before anything else can print it.
  const password = core.getInput('password')
  if (password) core.setSecret(password)
  const specs = lines('spec')
  const inline = inlineInputs()
  checkInlineWithSpecs(specs, inline)
  return {
    specs,
    workingDirectory: text('working-directory').trim() || '.',
    inline,
    dryRun: bool('dry-run', false),
    installer: oneOf('installer', ['uv', 'pip'] as const, 'uv'),
    flytekitVersion: text('flytekit-version').trim(),
    push: bool('push', true),
    force: bool('force', false),
    onCheckError: oneOf('on-check-error', ['fail', 'build'] as const, 'fail'),
    network: text('network').trim(),
    buildArgs: lines('build-args'),
    secrets: lines('secrets'),
    builder: text('builder').trim(),
    cacheFrom: lines('cache-from'),
    cacheTo: lines('cache-to'),
    provenance: text('provenance').trim() || 'false',
    sbom: text('sbom').trim() || 'false',
    labels: lines('labels'),
    noCache: bool('no-cache', false),
    buildxVersion: text('buildx-version').trim() || 'v0.29.1',
    username: text('username').trim(),
    password,
    registries: lines('registries'),
    githubToken: text('github-token').trim(),
    aws: {
      region: text('aws-region').trim(),
      roleToAssume: text('aws-role-to-assume').trim(),
      roleSessionName: text('aws-role-session-name').trim(),
      ...(int('aws-role-duration-seconds') !== undefined
        ? { roleDurationSeconds: int('aws-role-duration-seconds') }
        : {}),
      audience: text('aws-audience').trim(),
    },
    ecr: {
      createRepository: bool('create-repository', true),
      scanOnPush: bool('ecr-scan-on-push', true),
      tagMutability: oneOf('ecr-tag-mutability', ['MUTABLE', 'IMMUTABLE'] as const, 'MUTABLE'),
      kmsKey: text('ecr-kms-key').trim(),
      tags: keyValues(lines('ecr-repository-tags'), 'ecr-repository-tags'),
      lifecyclePolicyFile: text('ecr-lifecycle-policy').trim(),
    },
    gcp: {
      auth: oneOf('gcp-auth', ['auto', 'gcloud'] as const, 'auto'),
      workloadIdentityProvider: text('gcp-workload-identity-provider').trim(),
      serviceAccount: text('gcp-service-account').trim(),
      universe: text('gcp-universe').trim() || 'googleapis.com',
      audience: text('gcp-audience').trim(),
      createRepository: bool('create-repository', true),
    },
    previewTags: lines('preview-tags'),
    extraTags: lines('extra-tags'),
    comment: bool('comment', false),
    cleanup: oneOf('cleanup', ['none', 'pr'] as const, 'none'),
    failOnFork: bool('fail-on-fork', false),
    parallelBuilds: parallelBuilds(),
    python: text('python').trim() || 'python3',
    defaultPythonVersion: pythonVersion(),
    buildUnionSpecs: bool('build-union-specs', false),
    selfCheck: oneOf('self-check', ['auto', 'true', 'false'] as const, 'auto'),
  }
}
