import * as core from '@actions/core'
import os from 'node:os'
import { isForkPullRequest } from './cloud/github-oidc.js'
import type { AwsInputs, EcrRepositoryInputs } from './connections/ecr.js'
import type { GcpInputs } from './connections/gar.js'
import { InputError } from './errors.js'
import {
  attestationProblem,
  keyValueProblems,
  keyValues,
  parseRegistryCache,
  secretProblems,
  type BuildxInputs,
  type NumberedLine,
} from './docker/buildx-options.js'
import { registryProblem, registrySecrets } from './plan/reference.js'
import { parseRegistry } from './registry/hosts.js'
import { flytekitRequirement } from './plan/targets.js'
import { INLINE_FIELDS, parseLines } from './spec/inline.js'

/**
 * The only module that reads action inputs. Everything downstream takes these typed values, so the core can be
 * tested with plain objects. Keys follow action.yml, camel-cased.
 *
 * Every input is read and checked here, before anything is built or pushed, and all problems are reported
 * together: a bad second `registries` line, a secret file that is missing or a provenance value buildx refuses
 * would otherwise fail the step after the first images were pushed.
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

/** One problem with one input (or, for problems of a pair, `a', 'b`). */
export interface InputProblem {
  input: string
  message: string
}

/**
 * Every problem of every input, in one error. One problem reads as any InputError (`Input 'x': ...`); several
 * are listed, each naming its input.
 */
export class InputProblems extends InputError {
  override name = 'InputProblems'
  constructor(readonly problems: readonly InputProblem[]) {
    const inputs = [...new Set(problems.map((p) => p.input))].join("', '")
    super(inputs, problems[0]?.message ?? '')
    if (problems.length > 1) {
      this.message =
        `The inputs have ${problems.length} problems:\n` +
        problems.map((p) => `  - Input '${p.input}': ${p.message}`).join('\n')
    }
  }
}

/** Reads inputs; a value that does not parse is recorded as a problem and replaced by its default. */
class InputReader {
  readonly problems: InputProblem[] = []

  report(input: string, message: string): void {
    this.problems.push({ input, message })
  }

  text(name: string): string {
    return core.getInput(name).trim()
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.text(name)
    if (raw === '') return fallback
    if (/^(true|yes|on|1)$/i.test(raw)) return true
    if (/^(false|no|off|0)$/i.test(raw)) return false
    this.report(name, `'${raw}' is not a boolean; use true or false`)
    return fallback
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.text(name)
    if (raw === '') return fallback
    if ((allowed as readonly string[]).includes(raw)) return raw as T
    this.report(name, `'${raw}' is not one of ${allowed.join(', ')}`)
    return fallback
  }

  int(name: string, unit = 'seconds'): number | undefined {
    const raw = this.text(name)
    if (raw === '') return undefined
    if (/^\d+$/.test(raw)) return Number(raw)
    this.report(
      name,
      `'${raw}' is not a whole number of ${unit}; write digits only, e.g. ${unit === 'seconds' ? '3600' : '2'}`,
    )
    return undefined
  }

  lines(name: string): string[] {
    return parseLines(core.getInput(name))
  }

  /** The lines `lines` gives, each with its line number in the input (blank and `#` lines counted). */
  numbered(name: string): NumberedLine[] {
    // Untrimmed, so that leading blank lines count as they do in the workflow file.
    return core
      .getInput(name, { trimWhitespace: false })
      .split(/\r?\n/)
      .map((text, i) => ({ line: i + 1, text: text.trim() }))
      .filter((l) => l.text !== '' && !l.text.startsWith('#'))
  }

  throwIfProblems(): void {
    if (this.problems.length > 0) throw new InputProblems(this.problems)
  }
}

/**
 * Builds at once: BuildKit already runs a build's own steps in parallel, and package downloads dominate, so one
 * build per core (at least two, at most four) keeps a runner busy without starving it.
 */
function parallelBuilds(r: InputReader): number {
  const given = r.int('parallel-builds', 'builds')
  if (given === 0) r.report('parallel-builds', 'must be at least 1 (or empty for the default)')
  return given || Math.min(4, Math.max(2, os.availableParallelism()))
}

function pythonVersion(r: InputReader): string {
  const raw = r.text('default-python-version')
  if (raw === '' || /^\d+\.\d+$/.test(raw)) return raw
  r.report('default-python-version', `'${raw}' is not a Python version; use major.minor, e.g. 3.12`)
  return ''
}

function flytekitVersion(r: InputReader): string {
  const raw = r.text('flytekit-version')
  try {
    flytekitRequirement(raw)
  } catch (err) {
    if (!(err instanceof InputError)) throw err
    r.report(err.input, err.message.replace(/^Input '[^']*': /, ''))
  }
  return raw
}

/**
 * Inline field inputs change one ImageSpec. With several spec files there is no saying which one they would
 * change, so that is refused rather than guessed.
 */
function checkInlineWithSpecs(r: InputReader, specs: string[], inline: Record<string, string>): void {
  const names = Object.keys(inline)
  if (specs.length <= 1 || names.length === 0) return
  r.report(
    names.join("', '"),
    `inline ImageSpec inputs change exactly one spec, but 'spec' names ${specs.length} files ` +
      `(${specs.join(', ')}): which one would they change? Put the values in the spec files, or build that ` +
      'spec in a step of its own',
  )
}

function inlineInputs(): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of Object.keys(INLINE_FIELDS)) {
    const value = core.getInput(name)
    if (value.trim() !== '') out[name] = value
  }
  return out
}

/**
 * Passwords and tokens are masked before anything else can print them: the `password` input, and a password
 * written into `registry` or a `registries` line (refused below, but a later print of it must still be masked).
 */
function maskSecrets(): void {
  const password = core.getInput('password')
  if (password) core.setSecret(password)
  for (const registry of [core.getInput('registry'), ...parseLines(core.getInput('registries'))]) {
    for (const secret of registrySecrets(registry)) core.setSecret(secret)
  }
}

/**
 * `registry` and every `registries` line are checked as docker and flytekit will read them, before any registry
 * is contacted: each image of each registry is pushed in turn, so a bad second line would otherwise fail only
 * after the first registry got its images. `registries` replaces every spec's registry, so `registry` next to it
 * would be ignored: that is refused, saying which to keep.
 */
function registries(r: InputReader, inline: Record<string, string>): string[] {
  const registry = inline.registry?.trim()
  if (registry) {
    const problem = registryProblem(registry)
    if (problem) r.report('registry', problem)
  }
  const lines = r.numbered('registries')
  const seen = new Map<string, number>()
  for (const { line, text } of lines) {
    const problem = registryProblem(text)
    if (problem) {
      r.report('registries', `line ${line}: ${problem}`)
      continue
    }
    // flytekit lower-cases registries: two lines that differ in case are one registry, and one tag.
    const key = text.toLowerCase()
    const first = seen.get(key)
    if (first !== undefined) {
      r.report(
        'registries',
        `line ${line} repeats line ${first} ('${key}'); each registry gets its image once, remove one`,
      )
    } else seen.set(key, line)
  }
  if (registry && lines.length > 0) {
    r.report(
      "registry', 'registries",
      "both are set, and 'registries' gives every image its registry, so 'registry' would be ignored. Keep one: " +
        "add the registry as a line of 'registries', or remove 'registries' to build for 'registry' alone",
    )
  }
  return lines.map((l) => l.text)
}

/**
 * `username` and `password` are one login: a user name without a password logs in as nobody (the runner's
 * logins are used instead, silently). A pull request from a fork gets no secrets, so its empty password is
 * expected there (the fork stop explains it). A password without a user name is a login on ghcr.io as the
 * workflow's actor; to any other registry the inputs name it is refused (registries that only spec files name
 * are known later, when docker login says so).
 */
function checkLogin(
  r: InputReader,
  login: { username: string; password: string },
  registries: string[],
): void {
  if (login.username && !login.password && !isForkPullRequest()) {
    r.report(
      "username', 'password",
      "'username' is set but 'password' is empty: set both (password: ${{ secrets.REGISTRY_PASSWORD }}), or " +
        "neither to use the runner's Docker logins (a docker/login-action step before this one). A password " +
        'from a secret is empty when the secret does not exist or is not given to this workflow',
    )
  }
  if (!login.password || login.username) return
  const needsUser = registries.filter((reg) => {
    const kind = safeKind(reg)
    return kind === 'other' || kind === 'dockerhub'
  })
  if (needsUser.length > 0) {
    r.report(
      "username', 'password",
      `'password' is set but 'username' is empty, and ${needsUser.join(', ')} needs both (only ghcr.io logs ` +
        "in as the workflow's actor without one): set the user name the registry knows this password by",
    )
  }
}

function safeKind(registry: string): string | undefined {
  try {
    return parseRegistry(registry).kind
  } catch {
    return undefined
  }
}

/** The buildx inputs, each line checked as buildx will read it. */
function buildxInputs(r: InputReader): BuildxInputs {
  const secrets = r.numbered('secrets')
  for (const p of secretProblems(secrets, { cwd: process.cwd(), env: process.env })) r.report('secrets', p)
  const buildArgs = r.numbered('build-args')
  for (const p of keyValueProblems(buildArgs)) r.report('build-args', p)
  const labels = r.numbered('labels')
  for (const p of keyValueProblems(labels)) r.report('labels', p)
  const provenance = r.text('provenance') || 'false'
  const sbom = r.text('sbom') || 'false'
  for (const [name, value] of [
    ['provenance', provenance],
    ['sbom', sbom],
  ] as const) {
    const problem = attestationProblem(name, value)
    if (problem) r.report(name, problem)
  }
  return {
    network: r.text('network'),
    buildArgs: buildArgs.map((l) => l.text),
    secrets: secrets.map((l) => l.text),
    builder: r.text('builder'),
    cacheFrom: r.lines('cache-from'),
    cacheTo: r.lines('cache-to'),
    provenance,
    sbom,
    labels: labels.map((l) => l.text),
    noCache: r.bool('no-cache', false),
    registryCache: registryCache(r),
  }
}

/**
 * `registry-cache`: checked as a reference now, not at the first push. A cache place of the user's next to
 * `cache-from` / `cache-to` (which replace it) would be ignored: that is refused, saying which to keep.
 */
function registryCache(r: InputReader): string {
  const raw = r.text('registry-cache')
  const read = parseRegistryCache(raw)
  if ('problem' in read) r.report('registry-cache', read.problem)
  else if (
    read.setting.kind === 'template' &&
    (r.lines('cache-from').length > 0 || r.lines('cache-to').length > 0)
  ) {
    r.report(
      "registry-cache', 'cache-from/cache-to",
      "both name a build cache, and 'cache-from' / 'cache-to' replace 'registry-cache', which would be ignored: keep one",
    )
  }
  return raw
}

function ecrTags(r: InputReader): Record<string, string> {
  try {
    return keyValues(r.lines('ecr-repository-tags'), 'ecr-repository-tags')
  } catch (err) {
    if (!(err instanceof InputError)) throw err
    r.report(err.input, err.message.replace(/^Input '[^']*': /, ''))
    return {}
  }
}

export function getInputs(): ActionInputs {
  maskSecrets()
  const r = new InputReader()
  const specs = r.lines('spec')
  const inline = inlineInputs()
  checkInlineWithSpecs(r, specs, inline)
  const username = r.text('username')
  const password = core.getInput('password')
  const duration = r.int('aws-role-duration-seconds')
  const inputs: ActionInputs = {
    specs,
    workingDirectory: r.text('working-directory') || '.',
    inline,
    dryRun: r.bool('dry-run', false),
    installer: r.oneOf('installer', ['uv', 'pip'] as const, 'uv'),
    flytekitVersion: flytekitVersion(r),
    push: r.bool('push', true),
    force: r.bool('force', false),
    onCheckError: r.oneOf('on-check-error', ['fail', 'build'] as const, 'fail'),
    ...buildxInputs(r),
    buildxVersion: r.text('buildx-version') || 'v0.29.1',
    username,
    password,
    registries: registries(r, inline),
    githubToken: r.text('github-token'),
    aws: {
      region: r.text('aws-region'),
      roleToAssume: r.text('aws-role-to-assume'),
      roleSessionName: r.text('aws-role-session-name'),
      ...(duration !== undefined ? { roleDurationSeconds: duration } : {}),
      audience: r.text('aws-audience'),
    },
    ecr: {
      createRepository: r.bool('create-repository', true),
      scanOnPush: r.bool('ecr-scan-on-push', true),
      tagMutability: r.oneOf('ecr-tag-mutability', ['MUTABLE', 'IMMUTABLE'] as const, 'MUTABLE'),
      kmsKey: r.text('ecr-kms-key'),
      tags: ecrTags(r),
      lifecyclePolicyFile: r.text('ecr-lifecycle-policy'),
    },
    gcp: {
      auth: r.oneOf('gcp-auth', ['auto', 'gcloud'] as const, 'auto'),
      workloadIdentityProvider: r.text('gcp-workload-identity-provider'),
      serviceAccount: r.text('gcp-service-account'),
      universe: r.text('gcp-universe') || 'googleapis.com',
      audience: r.text('gcp-audience'),
      // One input for both clouds: read once, so that a bad value is reported once.
      createRepository: true,
    },
    previewTags: r.lines('preview-tags'),
    extraTags: r.lines('extra-tags'),
    comment: r.bool('comment', false),
    cleanup: r.oneOf('cleanup', ['none', 'pr'] as const, 'none'),
    failOnFork: r.bool('fail-on-fork', false),
    parallelBuilds: parallelBuilds(r),
    python: r.text('python') || 'python3',
    defaultPythonVersion: pythonVersion(r),
    buildUnionSpecs: r.bool('build-union-specs', false),
    selfCheck: r.oneOf('self-check', ['auto', 'true', 'false'] as const, 'auto'),
  }
  inputs.gcp.createRepository = inputs.ecr.createRepository
  const named = [...(inline.registry?.trim() ? [inline.registry.trim()] : []), ...inputs.registries]
  checkLogin(
    r,
    { username, password },
    named.filter((reg) => !registryProblem(reg)),
  )
  r.throwIfProblems()
  return inputs
}
