/**
 * Runs docker buildx: checks Docker and buildx are there (installing buildx when it is missing), checks the
 * builder can do what the plan asks before spending minutes on a build, runs the build with its output streamed
 * to the job log, and reads the pushed digest from the metadata file buildx writes.
 */
import { mkdir, readFile, rm } from 'node:fs/promises'
import { dirname } from 'node:path'

import { ActionError, errorMessage } from '../errors.js'
import { NullLogger, type Logger } from '../log.js'
import { isMissingFile } from '../registry/docker-config.js'
import { buildxArgs, exportsCache, wantsAttestation, type BuildPlan } from './buildx-args.js'
import {
  CommandNotFoundError,
  exec as defaultExec,
  type Exec,
  type ExecOptions,
  type ExecResult,
} from '../exec.js'
import { installBuildx, type InstallBuildxOptions } from './install-buildx.js'
import { dockerEnv } from './login.js'

/** Where and how docker commands run for this job. */
export interface DockerContext {
  /** The job's DOCKER_CONFIG (credentials, and where a missing buildx is installed). */
  configDir: string
  exec?: Exec
  logger?: Logger
  /**
   * Hand the build's output to the logger when it ends instead of streaming it: with several builds at once,
   * streamed lines of different images would interleave in the job log.
   */
  quiet?: boolean
}

/** `--provenance`/`--sbom`, which the generated command line always uses, arrived in buildx 0.10. */
export const MIN_BUILDX_VERSION = '0.10.0'

export interface DockerVersions {
  client: string
  server: string
}

export async function detectDocker(ctx: DockerContext): Promise<DockerVersions> {
  let result: ExecResult
  try {
    // `{{json .}}` rather than `--format json`, which Docker 20.10 reads as a literal template.
    result = await docker(ctx, ['version', '--format', '{{json .}}'])
  } catch (err) {
    if (err instanceof CommandNotFoundError) {
      throw new ActionError(
        "Docker is not available on this runner: the 'docker' command was not found on PATH. Use a runner with " +
          'Docker installed (GitHub-hosted Ubuntu runners have it) or install Docker on the self-hosted runner.',
      )
    }
    throw err
  }
  const versions = parseDockerVersion(result.stdout)
  if (result.exitCode !== 0 || !versions) {
    throw new ActionError(
      `Docker is not available on this runner: ${sentence(firstMeaningfulLine(result.stderr) ?? `docker version exited with code ${result.exitCode}`)} ` +
        'Start the Docker daemon, or point DOCKER_HOST at a running one, and check that the runner user may use it.',
    )
  }
  return versions
}

function parseDockerVersion(stdout: string): DockerVersions | undefined {
  try {
    const parsed = JSON.parse(stdout) as {
      Client?: { Version?: string }
      Server?: { Version?: string } | null
    }
    if (!parsed.Server?.Version) return undefined
    return { client: parsed.Client?.Version ?? 'unknown', server: parsed.Server.Version }
  } catch {
    return undefined
  }
}

export type BuildxStatus = { ok: true; version: string } | { ok: false; reason: string }

export async function detectBuildx(ctx: DockerContext): Promise<BuildxStatus> {
  const result = await docker(ctx, ['buildx', 'version'])
  const version = /\bv?(\d+\.\d+\.\d+)/.exec(result.stdout)?.[1]
  if (result.exitCode === 0 && version) return { ok: true, version }
  return {
    ok: false,
    reason: firstMeaningfulLine(result.stderr || result.stdout) ?? `exit code ${result.exitCode}`,
  }
}

export interface EnsureBuildxOptions {
  /** Release installed when buildx is missing or older than MIN_BUILDX_VERSION (the 'buildx-version' input). */
  installVersion?: string
  /** Release download base, for mirrors and tests. */
  downloadBaseUrl?: string
  install?: (options: InstallBuildxOptions) => Promise<string>
}

/** Returns the usable buildx version, installing the pinned release into the job's config first if needed. */
export async function ensureBuildx(ctx: DockerContext, options: EnsureBuildxOptions = {}): Promise<string> {
  const logger = ctx.logger ?? new NullLogger()
  const found = await detectBuildx(ctx)
  if (found.ok && versionAtLeast(found.version, MIN_BUILDX_VERSION)) return found.version
  const problem = found.ok
    ? `Docker Buildx v${found.version} is too old (v${MIN_BUILDX_VERSION} or newer is needed)`
    : `Docker Buildx is not available on this runner (${found.reason})`
  if (!options.installVersion) {
    throw new ActionError(
      `${problem}: set the 'buildx-version' input to install a release for this job, or install docker-buildx on the runner.`,
    )
  }
  logger.info(`${problem}; installing ${options.installVersion} for this job`)
  await (options.install ?? installBuildx)({
    version: options.installVersion,
    configDir: ctx.configDir,
    logger,
    ...(options.downloadBaseUrl && { baseUrl: options.downloadBaseUrl }),
  })
  const after = await detectBuildx(ctx)
  if (!after.ok) {
    throw new ActionError(
      `Docker Buildx ${options.installVersion} was installed but does not run: ${after.reason}. Check that the release matches the runner's OS and CPU.`,
    )
  }
  return after.version
}

export interface BuilderInfo {
  name: string
  driver: string
  /** Whether the Docker engine stores images in containerd; only known (and only matters) for the docker driver. */
  containerdImageStore?: boolean
  /** The builder's BuildKit release, when `docker buildx inspect` names one (Debian's engine says v0.0.0+unknown). */
  buildkitVersion?: string
  /** Whether pushes may use `rewrite-timestamp=true` (decided by prepareBuilder; absent means no). */
  rewriteTimestamp?: boolean
  /** Whether the builder can export a build cache (decided by prepareBuilder; absent means not checked). */
  cacheExport?: boolean
}

export async function inspectBuilder(ctx: DockerContext, name?: string): Promise<BuilderInfo> {
  const result = await docker(ctx, ['buildx', 'inspect', ...(name ? [name] : [])])
  if (result.exitCode !== 0) {
    const said = firstMeaningfulLine(result.stderr) ?? `exit code ${result.exitCode}`
    throw new ActionError(
      name
        ? `Docker Buildx builder '${name}' is not usable (${said}): check the 'builder' input, and create the builder in an earlier step (e.g. docker/setup-buildx-action).`
        : `Could not inspect the default Docker Buildx builder: ${said}`,
    )
  }
  const info = parseInspect(result.stdout)
  if (info.driver !== 'docker') return info
  return { ...info, ...(await containerdImageStore(ctx)) }
}

/**
 * The first `Name:` and `Driver:` of `docker buildx inspect` (the builder's; node sections come later), and the
 * first node's BuildKit release (`BuildKit version: v0.13.2`; buildx before 0.12 printed `Buildkit: v0.11.6`).
 */
export function parseInspect(stdout: string): BuilderInfo {
  const field = (key: string) => new RegExp(`^${key}:\\s*(.+)$`, 'm').exec(stdout)?.[1]?.trim()
  const buildkit = /^Build[kK]it(?: version)?:\s*v?(\d+\.\d+\.\d+)/m.exec(stdout)?.[1]
  return {
    name: field('Name') ?? 'default',
    driver: field('Driver') ?? 'unknown',
    ...(buildkit && buildkit !== '0.0.0' ? { buildkitVersion: buildkit } : {}),
  }
}

async function containerdImageStore(ctx: DockerContext): Promise<{ containerdImageStore?: boolean }> {
  const result = await docker(ctx, ['info', '--format', '{{json .DriverStatus}}'])
  if (result.exitCode !== 0) return {} // unknown: let buildx decide rather than refuse a build that might work
  try {
    const status = JSON.parse(result.stdout) as [string, string][] | null
    const type = (status ?? []).find(([key]) => key === 'driver-type')?.[1] ?? ''
    return { containerdImageStore: type.includes('containerd.snapshotter') }
  } catch {
    return {}
  }
}

const DOCKER_DRIVER_FIX =
  "use a builder with the docker-container or remote driver through the 'builder' input (for example one created " +
  'by docker/setup-buildx-action), or enable the containerd image store in Docker ' +
  '(`{"features": {"containerd-snapshotter": true}}` in /etc/docker/daemon.json)'

/**
 * What the plan asks for that the builder cannot do, one message per input. The plain `docker` driver on the
 * classic image store cannot export cache, attach attestations or build several platforms; buildx would only
 * say so after the context upload, so it is checked first.
 */
export function unsupportedByBuilder(plan: BuildPlan, builder: BuilderInfo): string[] {
  if (builder.driver !== 'docker' || builder.containerdImageStore !== false) return []
  const problems: string[] = []
  if (exportsCache(plan.cacheTo))
    problems.push("'cache-to': cache export is not supported by the docker driver")
  if (wantsAttestation(plan.provenance)) {
    problems.push("'provenance': attestations are not supported by the docker driver")
  }
  if (wantsAttestation(plan.sbom))
    problems.push("'sbom': attestations are not supported by the docker driver")
  if ((plan.platforms?.length ?? 0) > 1) {
    problems.push("'platform': multi-platform builds are not supported by the docker driver")
  }
  return problems
}

export function assertBuilderSupports(plan: BuildPlan, builder: BuilderInfo): void {
  const problems = unsupportedByBuilder(plan, builder)
  if (problems.length === 0) return
  throw new ActionError(
    `The Docker Buildx builder '${builder.name}' (driver: docker, without the containerd image store) cannot do what was asked:\n` +
      problems.map((p) => `  - ${p}`).join('\n') +
      `\nTo fix it, ${DOCKER_DRIVER_FIX}.`,
  )
}

/**
 * Whether the builder can export a build cache: every driver but `docker` on the classic image store ("Cache
 * export is not supported for the docker driver"). Where the store could not be told, no: a default cache must
 * never be what fails a build.
 */
export function canExportCache(builder: BuilderInfo): boolean {
  return builder.driver !== 'docker' || builder.containerdImageStore === true
}

/** `rewrite-timestamp` arrived in BuildKit 0.13 (Docker Engine 26 embeds it) and buildx 0.13. */
const REWRITE_TIMESTAMP_BUILDKIT = '0.13.0'
const REWRITE_TIMESTAMP_ENGINE = '26.0.0'

/**
 * Whether the builder can clamp the file times in pushed layers to SOURCE_DATE_EPOCH, or why not. BuildKit before
 * 0.13 ignores the option without a word, so old releases are recognised here rather than trusted. The docker
 * driver needs the containerd image store: the classic store's exporter has no such option.
 */
export function timestampRewrite(
  builder: BuilderInfo,
  versions: { engine: string; buildx: string },
): { ok: true } | { ok: false; reason: string } {
  if (!versionAtLeast(versions.buildx, REWRITE_TIMESTAMP_BUILDKIT)) {
    return { ok: false, reason: `Buildx v${versions.buildx} is older than 0.13` }
  }
  if (builder.driver === 'docker') {
    if (builder.containerdImageStore === undefined) {
      return {
        ok: false,
        reason:
          'it could not be told whether the engine uses the containerd image store, which the docker driver needs for it',
      }
    }
    if (!builder.containerdImageStore) {
      return { ok: false, reason: 'the docker driver supports it only with the containerd image store' }
    }
    if (!versionAtLeast(versions.engine, REWRITE_TIMESTAMP_ENGINE)) {
      return {
        ok: false,
        reason: `Docker ${versions.engine} embeds a BuildKit older than 0.13 (Docker 26 has 0.13)`,
      }
    }
    return { ok: true }
  }
  if (builder.buildkitVersion && !versionAtLeast(builder.buildkitVersion, REWRITE_TIMESTAMP_BUILDKIT)) {
    return { ok: false, reason: `its BuildKit is v${builder.buildkitVersion}, older than 0.13` }
  }
  return { ok: true }
}

export interface PrepareOptions extends EnsureBuildxOptions {
  plan: BuildPlan
}

/**
 * Docker, then buildx (installed if needed), then the builder's capabilities against the plan. A builder that
 * cannot rewrite layer timestamps is used all the same, with one warning: the image is still correct, only a
 * second build of it can push another digest.
 */
export async function prepareBuilder(ctx: DockerContext, options: PrepareOptions): Promise<BuilderInfo> {
  const logger = ctx.logger ?? new NullLogger()
  const versions = await detectDocker(ctx)
  const buildx = await ensureBuildx(ctx, options)
  const builder = await inspectBuilder(ctx, options.plan.builder)
  const buildkit = builder.buildkitVersion ? `, BuildKit v${builder.buildkitVersion}` : ''
  logger.info(
    `Docker ${versions.server} (client ${versions.client}), Buildx v${buildx}, builder '${builder.name}' (driver: ${builder.driver}${buildkit})`,
  )
  assertBuilderSupports(options.plan, builder)
  const rewrite = timestampRewrite(builder, { engine: versions.server, buildx })
  const { plan } = options
  if (!rewrite.ok && plan.output === 'push' && plan.sourceDateEpoch !== undefined) {
    logger.warning(
      `The Docker Buildx builder '${builder.name}' (driver: ${builder.driver}) cannot rewrite the file times in image layers (BuildKit's rewrite-timestamp): ${rewrite.reason}. ` +
        'Images are pushed without it, so two builds of the same spec can push different digests (the digest output is still the one the tag points at). ' +
        "For reproducible images use Docker 26 or newer with the containerd image store, or a builder with BuildKit 0.13 or newer through the 'builder' input.",
    )
  }
  return { ...builder, rewriteTimestamp: rewrite.ok, cacheExport: canExportCache(builder) }
}

export interface BuildResult {
  /** The pushed image's (or loaded image's) manifest digest, from `containerimage.digest`. */
  digest?: string
  /** Everything buildx recorded, for the action's `metadata` output. */
  metadata: Record<string, unknown>
}

export interface RunBuildOptions {
  cwd?: string
  /** The builder prepareBuilder described: a rewritten push on the engine's own image store is pulled back. */
  builder?: BuilderInfo
}

export async function runBuild(
  ctx: DockerContext,
  plan: BuildPlan,
  options: RunBuildOptions = {},
): Promise<BuildResult> {
  // A metadata file left from an earlier build must never be mistaken for this build's result.
  await rm(plan.metadataFile, { force: true })
  await mkdir(dirname(plan.metadataFile), { recursive: true })
  const result = await docker(ctx, buildxArgs(plan), {
    silent: ctx.quiet ?? false,
    ...(options.cwd && { cwd: options.cwd }),
    // buildx (>= 0.10) also reads it from its environment, e.g. for attestations' timestamps.
    ...(plan.sourceDateEpoch !== undefined && { env: { SOURCE_DATE_EPOCH: String(plan.sourceDateEpoch) } }),
  })
  if (ctx.quiet) {
    for (const text of [result.stdout, result.stderr]) if (text.trim()) ctx.logger?.info(text.trimEnd())
  }
  if (result.exitCode !== 0) throw new BuildFailedError(result.stderr)
  const metadata = await readBuildMetadata(plan.metadataFile)
  const digest =
    typeof metadata['containerimage.digest'] === 'string' ? metadata['containerimage.digest'] : undefined
  if (plan.output === 'push' && !digest) {
    throw new ActionError(
      `docker buildx build succeeded but recorded no image digest in ${plan.metadataFile} ('containerimage.digest'), so the pushed image cannot be identified`,
    )
  }
  if (plan.output === 'push' && plan.rewriteTimestamp && keepsPushedImages(options.builder)) {
    await pullPushed(ctx, plan.tags)
  }
  return { ...(digest && { digest }), metadata }
}

/** With the docker driver on the containerd image store, the builder's store is the engine's: a push kept a copy there. */
function keepsPushedImages(builder: BuilderInfo | undefined): boolean {
  return builder?.driver === 'docker' && builder.containerdImageStore === true
}

/**
 * A rewritten push is not stored in the engine (see REPRODUCIBLE_PUSH), so later steps of the job would no longer
 * find the image with `docker run`: pull it back, which copies nothing the engine's content store already holds.
 */
async function pullPushed(ctx: DockerContext, tags: readonly string[]): Promise<void> {
  for (const tag of tags) {
    const result = await docker(ctx, ['pull', '--quiet', tag])
    if (result.exitCode !== 0) {
      const said = firstMeaningfulLine(result.stderr) ?? `exit code ${result.exitCode}`
      ctx.logger?.warning(
        `${tag} is pushed, but could not be pulled back into the local Docker engine (${said}): later steps of this job that run it pull it themselves.`,
      )
    }
  }
}

export async function readBuildMetadata(path: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (isMissingFile(err)) {
      throw new ActionError(
        `docker buildx build wrote no metadata file at ${path}; Docker Buildx may be too old`,
      )
    }
    throw new ActionError(`Could not read the build metadata ${path}: ${errorMessage(err)}`)
  }
  try {
    const parsed: unknown = JSON.parse(text)
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not a JSON object')
    return parsed as Record<string, unknown>
  } catch (err) {
    throw new ActionError(`The build metadata ${path} is not valid: ${errorMessage(err)}`)
  }
}

/**
 * What a failed build's error lines say about trying again: `transient` (the network or the registry failed for a
 * moment: a reset or dropped connection, EOF, a timeout, 5xx, 429; or two builds of one image racing in the
 * engine's image store), `rewrite-unsupported` (the builder refused `rewrite-timestamp`), or `fatal` (a RUN step
 * failed, credentials were refused, anything else).
 */
export type BuildFailureKind = 'transient' | 'rewrite-unsupported' | 'fatal'

/** A failed `docker buildx build`: the message summarises buildx's output; `kind` says whether to try again. */
export class BuildFailedError extends ActionError {
  override name = 'BuildFailedError'
  readonly kind: BuildFailureKind
  /** The error line the kind was read from, for the log. */
  readonly reason: string

  constructor(readonly stderr: string) {
    super(`docker buildx build failed: ${summariseBuildFailure(stderr)}`)
    const classified = classifyBuildFailure(stderr)
    this.kind = classified.kind
    this.reason = classified.reason
  }
}

/** A RUN step's own failure; its command line or log may mention timeouts, which are then not the registry's. */
const RUN_STEP_FAILED = /did not complete successfully/
const REWRITE_REFUSED = /rewrite-timestamp/
/** Refused credentials or permissions: trying again cannot help. */
const AUTH_FAILED =
  /\b40[13] (?:Unauthorized|Forbidden)\b|status(?: code)?:? 40[13]\b|unauthorized|\bdenied\b|insufficient_scope|authentication required/i
const TRANSIENT = [
  /connection reset|broken pipe|use of closed network connection|connection closed|server sent GOAWAY/i,
  /\bEOF\b/,
  /timeout|timed out|deadline exceeded/i,
  // An HTTP status as Go's registry clients print it: `...: 503 Service Unavailable`, `status code 502`.
  /: (?:5\d\d|429) [A-Z]|status(?: code)?:? (?:5\d\d|429)\b|too many requests/i,
  // Two builds of one image at once on the engine's containerd image store: the second to register it loses.
  /image "[^"]+": already exists/,
  // The registry answered the check seconds earlier: a refusal in the middle of a push means it is restarting.
  /failed to push .*connection refused/i,
]

/**
 * Classifies from buildx's top-level `ERROR:` lines only: the failing step's log (pip's own retries and
 * timeouts) is the build's, not the registry's.
 */
export function classifyBuildFailure(stderr: string): { kind: BuildFailureKind; reason: string } {
  const errors = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^(ERROR|error):/.test(l))
  const reason = errors.at(-1) ?? ''
  if (errors.some((l) => RUN_STEP_FAILED.test(l))) return { kind: 'fatal', reason }
  const rewrite = errors.find((l) => REWRITE_REFUSED.test(l))
  if (rewrite) return { kind: 'rewrite-unsupported', reason: rewrite }
  if (errors.some((l) => AUTH_FAILED.test(l))) return { kind: 'fatal', reason }
  const transient = errors.find((l) => TRANSIENT.some((re) => re.test(l)))
  return transient ? { kind: 'transient', reason: transient } : { kind: 'fatal', reason }
}

const MAX_STEP_LOG_LINES = 12

/**
 * The part of buildx's plain progress output that says why the build failed: its top-level `ERROR:` lines and
 * the log tail of the failing step (the block buildx frames with `------`). Without an `ERROR:` line (e.g. the
 * docker CLI rejected a flag), the last few lines that are not progress lines.
 */
export function summariseBuildFailure(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.replace(/\s+$/, ''))
  const errors = lines.filter((l) => /^(ERROR|error):/.test(l))
  const stepLog = lastFramedBlock(lines)
  const core =
    errors.length > 0
      ? [...new Set(errors)].join('\n')
      : lines
          .filter((l) => l.trim() !== '' && !/^#\d+ /.test(l))
          .slice(-5)
          .join('\n') || 'no error output'
  const hint = /not supported for the docker driver/i.test(stderr)
    ? `\nTo fix it, ${DOCKER_DRIVER_FIX}.`
    : /failed to push/i.test(core)
      ? `\n${NOTHING_TAGGED}`
      : ''
  return withoutQueries(`${core}${stepLog.length > 0 ? `\n${stepLog.join('\n')}` : ''}${hint}`)
}

/** Said after a failed push: a half-pushed image never gets its tag. */
export const NOTHING_TAGGED =
  'Nothing was tagged: a registry moves a tag only once the whole image is in, so a re-run finishes the push.'

/**
 * URLs without their query strings: upload URLs carry `_state=` tokens and blob redirects presigned signatures
 * (short-lived credentials), which have no place in a log.
 */
function withoutQueries(text: string): string {
  return text.replace(/(https?:\/\/[^\s"'?]+)\?[^\s"']*/g, '$1?…')
}

/** Lines between the last pair of `------` markers: buildx's excerpt of the failing step's output. */
function lastFramedBlock(lines: string[]): string[] {
  const markers = lines.flatMap((l, i) => (l === '------' ? [i] : []))
  const end = markers.at(-1)
  const start = markers.at(-2)
  if (start === undefined || end === undefined) return []
  return lines.slice(start + 1, end).slice(-MAX_STEP_LOG_LINES)
}

export function versionAtLeast(version: string, minimum: string): boolean {
  const parse = (v: string) => v.split(/[.+-]/).slice(0, 3).map(Number)
  const [a, b] = [parse(version), parse(minimum)]
  for (let i = 0; i < 3; i++) {
    const x = a[i] ?? 0
    const y = b[i] ?? 0
    if (x !== y) return x > y
  }
  return true
}

function docker(
  ctx: DockerContext,
  args: string[],
  extra: Omit<ExecOptions, 'logger'> = {},
): Promise<ExecResult> {
  const { env, ...rest } = extra
  return (ctx.exec ?? defaultExec)('docker', args, {
    env: { ...env, ...dockerEnv(ctx.configDir) },
    ...(ctx.logger && { logger: ctx.logger }),
    ...rest,
  })
}

/** The first line worth quoting; skips blank lines and docker's "WARNING" chatter. */
function firstMeaningfulLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !/^WARNING/.test(l))
}

/** Docker's own line as a sentence: its final `?` or `.` kept, a full stop added only when it has none. */
function sentence(text: string): string {
  return /[.?!]$/.test(text) ? text : `${text}.`
}
