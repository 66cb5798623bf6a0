import { mkdir, mkdtemp } from 'node:fs/promises'
import path from 'node:path'
import type { RegistryConnection } from '../connections/index.js'
import {
  registryCacheRef,
  type BuildPlan,
  type BuildSecret,
  type RegistryCacheSetting,
} from '../docker/buildx-args.js'
import {
  BuildFailedError,
  prepareBuilder,
  runBuild,
  type BuilderInfo,
  type BuildResult,
  type DockerContext,
} from '../docker/buildx.js'
import { writeBuildContext, type BuildContext } from '../dockerfile/context.js'
import type { Installer } from '../dockerfile/install.js'
import { ActionError, errorMessage } from '../errors.js'
import { createdLabel } from '../github.js'
import type { Logger } from '../log.js'
import type { ImageResult } from './outcome.js'
import type { ImageJob } from '../plan/graph.js'
import { lsFilesAll } from '../tag/source-root-digest.js'

/**
 * One image of the chain (a nested base first, then the image): check the registry, and when the image is not
 * there, write the build context, make the repository, log in, build and push. The registry check fails closed:
 * an answer other than "found" or "not found" stops the step unless the user chose `on-check-error: build`.
 */
export interface BuildSettings {
  installer: Installer
  flytekitRequirement: string | null
  defaultPythonVersion: () => Promise<string>
  push: boolean
  force: boolean
  onCheckError: 'fail' | 'build'
  /** Everything of the buildx plan that does not depend on the image. */
  plan: Omit<BuildPlan, 'context' | 'dockerfile' | 'tags' | 'platforms' | 'output' | 'metadataFile'>
  buildxVersion: string
  /**
   * SOURCE_DATE_EPOCH for every image of the step (the user's, else the commit's time): the `created` label, the
   * image config's times and, where the builder can, the layers' file times, so that the same inputs make the
   * same image. Without it, images carry the time they were built.
   */
  sourceDateEpoch?: () => Promise<number>
  /** The `registry-cache` input in effect (off when absent): a layer cache in the registry that outlives the runner. */
  registryCache?: RegistryCacheSetting
}

export interface JobEnv {
  cwd: string
  workDir: string
  /** Where docker runs; asked for only when an image is built, so a reused image makes no config folder. */
  docker: () => Promise<DockerContext>
  connection: RegistryConnection | undefined
  logger: Logger
  /** The docker steps; the real buildx ones unless a test passes its own. */
  builder?: Builder
  /** Waits before a build is tried again; a test passes one that records instead of waiting. */
  sleep?: (ms: number) => Promise<void>
}

/** The two docker steps of a build: check the builder against the plan, then run the build. */
export interface Builder {
  prepare: typeof prepareBuilder
  run: typeof runBuild
}

export const BUILDX: Builder = { prepare: prepareBuilder, run: runBuild }

/** Writes the Dockerfile and context of one image into a fresh folder under workDir. */
export async function writeContext(
  job: ImageJob,
  settings: BuildSettings,
  env: Pick<JobEnv, 'cwd' | 'workDir'>,
): Promise<BuildContext> {
  await mkdir(env.workDir, { recursive: true })
  const dir = await mkdtemp(path.join(env.workDir, `${job.spec.name.replaceAll('/', '-')}-`))
  return writeBuildContext(
    job.spec,
    {
      installer: settings.installer,
      flytekitRequirement: settings.flytekitRequirement,
      specId: job.tagged.id,
      ...(job.baseImage ? { baseImage: job.baseImage } : {}),
      defaultPythonVersion: await settings.defaultPythonVersion(),
      listSourceFiles: async (root) => (await lsFilesAll(root, env.cwd)).files,
    },
    env.cwd,
    path.join(dir, 'context'),
  )
}

type Existing = { exists: true; digest: string } | { exists: false }

async function checkRegistry(job: ImageJob, settings: BuildSettings, env: JobEnv): Promise<Existing> {
  const { connection, logger } = env
  if (!connection || !job.spec.registry) return { exists: false }
  try {
    const found = await connection.check(job.spec.name, job.tagged.tag)
    logger.info(
      found.exists
        ? `${job.tagged.image} exists (${found.digest})`
        : `${job.tagged.image} is not in the registry yet`,
    )
    return found
  } catch (err) {
    if (settings.onCheckError === 'build') {
      logger.warning(
        `Could not check whether ${job.tagged.image} exists; building it because on-check-error is 'build'. ${errorMessage(err)}`,
      )
      return { exists: false }
    }
    throw new ActionError(
      `${errorMessage(err)}\nThe image was not built, because an unanswered check is never taken as "exists". Fix the access, or set on-check-error: build to build anyway.`,
    )
  }
}

function secretsFor(context: BuildContext, settings: BuildSettings): BuildSecret[] {
  return [...(settings.plan.secrets ?? []), ...context.secrets]
}

function cacheFor(job: ImageJob, settings: BuildSettings): { registryCache?: string } {
  if (!settings.push || !settings.registryCache || !job.spec.registry) return {}
  const name = job.spec.name
  // The image's own repository as tagged (flytekit lower-cases the registry): everything before `/<name>:<tag>`.
  const repository = job.tagged.image.replace(/:[^:/]+$/, '')
  const registry = repository.endsWith(`/${name}`) ? repository.slice(0, -name.length - 1) : job.spec.registry
  const ref = registryCacheRef(settings.registryCache, { registry, name })
  return ref ? { registryCache: ref } : {}
}

/** The steps whose builder was already said to be unable to export cache: one notice per step, not per image. */
const toldNoCache = new WeakSet<BuildSettings>()

function cacheUnsupported(settings: BuildSettings, info: BuilderInfo, logger: Logger): void {
  if (toldNoCache.has(settings)) return
  toldNoCache.add(settings)
  logger.notice(
    `The Docker Buildx builder '${info.name}' (driver: ${info.driver}, ${info.containerdImageStore === false ? 'without the containerd image store' : 'on an image store that could not be told'}) cannot export a build cache, so images are built without the registry cache and a fresh runner rebuilds every layer. ` +
      'To keep layers between runs, enable the containerd image store (the default from Docker Engine 29; `{"features": {"containerd-snapshotter": true}}` in /etc/docker/daemon.json) or use a docker-container builder through the \'builder\' input (e.g. from docker/setup-buildx-action); set registry-cache: false to build without it and without this notice.',
  )
}

/** How long a build that failed on a transient error waits before its one retry. */
export const RETRY_DELAY_MS = 5000

async function buildAndPush(
  job: ImageJob,
  settings: BuildSettings,
  env: JobEnv,
): Promise<{ digest: string; seconds: number; dockerfile: string }> {
  const { logger } = env
  const builder = env.builder ?? BUILDX
  const context = await writeContext(job, settings, env)
  if (settings.push && !job.spec.registry) {
    throw new ActionError(
      `Cannot push ${job.tagged.image}: the spec has no registry. Set 'registry' (in the spec or as an input), or push: false to build it locally.`,
    )
  }
  const epoch = settings.sourceDateEpoch ? await settings.sourceDateEpoch() : undefined
  const plan: BuildPlan = {
    ...settings.plan,
    // A `created` label of the user's own (the labels input) wins over the commit time.
    ...(epoch !== undefined && {
      labels: { ...createdLabel(epoch), ...settings.plan.labels },
      sourceDateEpoch: epoch,
    }),
    context: context.contextDir,
    dockerfile: context.dockerfile,
    tags: [job.tagged.image],
    platforms: job.spec.platform
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
    output: settings.push ? 'push' : 'load',
    metadataFile: path.join(path.dirname(context.contextDir), 'metadata.json'),
    secrets: secretsFor(context, settings),
    ...cacheFor(job, settings),
  }
  const docker = await env.docker()
  const info = await builder.prepare(docker, { plan, installVersion: settings.buildxVersion })
  const withoutCache = plan.registryCache !== undefined && info.cacheExport === false
  if (withoutCache) cacheUnsupported(settings, info, logger)
  else if (plan.registryCache) logger.info(`Build cache: ${plan.registryCache} (the 'registry-cache' input)`)
  const { registryCache, ...rest } = plan
  const built: BuildPlan = {
    ...rest,
    ...(registryCache !== undefined && !withoutCache && { registryCache }),
    ...(epoch !== undefined && info.rewriteTimestamp === true && { rewriteTimestamp: true }),
  }
  const connection = settings.push ? env.connection : undefined
  const started = Date.now()
  if (connection) await connection.prepareRepository(job.spec.name)
  if (connection?.shortLivedCredentials) {
    // A token minted before a long build can expire before its push: build first, then log in with a token
    // refreshed at that moment, and push from the cache (the second run rebuilds nothing).
    await logger.group(`Build ${job.tagged.image}`, () =>
      runWithRetry(builder, docker, { ...built, output: 'cache' }, info, env),
    )
  }
  if (connection) await connection.loginForPush(docker.configDir)
  const title = connection?.shortLivedCredentials ? `Push ${job.tagged.image}` : `Build ${job.tagged.image}`
  const result = await logger.group(title, () => runWithRetry(builder, docker, built, info, env))
  const digest = connection
    ? await digestAfterPush(job, result.digest ?? '', connection, logger)
    : (result.digest ?? '')
  return {
    digest,
    seconds: (Date.now() - started) / 1000,
    dockerfile: context.dockerfile,
  }
}

/**
 * Runs the build, and once more when buildx failed on a transient error (a reset connection, EOF, a timeout, 5xx or
 * 429 from the registry): the layers come from the build cache, so the second attempt is the push alone. A failed
 * RUN step or refused credentials are not tried again. A builder that refuses `rewrite-timestamp` gets the build
 * again without it, with a warning, rather than failing the image.
 */
async function runWithRetry(
  builder: Builder,
  docker: DockerContext,
  plan: BuildPlan,
  info: BuilderInfo,
  env: JobEnv,
): Promise<BuildResult> {
  const image = plan.tags[0] ?? ''
  let current = plan
  let retried: BuildFailedError | undefined
  for (;;) {
    try {
      return await builder.run(docker, current, { builder: info })
    } catch (err) {
      if (!(err instanceof BuildFailedError)) throw err
      if (current.registryCache && CACHE_EXPORT_FAILED.test(err.stderr)) {
        // BuildKit's ignore-error does not cover every export failure (the docker driver's "not found" for a
        // blob its image store no longer holds): the default cache must not be what fails an image.
        env.logger.warning(
          `Writing the build cache ${current.registryCache} failed for ${image} (${err.reason}); building it again without the registry cache.`,
        )
        current = { ...current, registryCache: undefined }
        continue
      }
      if (err.kind === 'rewrite-unsupported' && current.rewriteTimestamp) {
        env.logger.warning(
          `The builder refused to rewrite layer timestamps for ${image} (${err.reason}); building it again without rewrite-timestamp, so two builds of this spec can push different digests.`,
        )
        current = { ...current, rewriteTimestamp: false }
        continue
      }
      if (err.kind !== 'transient') throw err
      if (retried) {
        throw new ActionError(
          `${err.message}\nThis was the second attempt: the first failed on a transient error too (${retried.reason}). Re-run the job once the registry answers again.`,
        )
      }
      retried = err
      env.logger.warning(
        `The build of ${image} failed on a transient error; trying once more in ${RETRY_DELAY_MS / 1000} s, from the build cache: ${err.reason}`,
      )
      await (env.sleep ?? sleep)(RETRY_DELAY_MS)
    }
  }
}

/** buildx frames the failing step: ` > exporting cache to registry:` when the cache export failed. */
const CACHE_EXPORT_FAILED = /^\s*> exporting cache to registry:/m

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * The digest the tag points at once the push is done, read back from the registry: the `digest` output must name
 * what the tag holds, and another run pushing the same tag at the same moment may have won. buildx's own digest
 * stands when the registry cannot say.
 */
async function digestAfterPush(
  job: ImageJob,
  pushed: string,
  connection: RegistryConnection,
  logger: Logger,
): Promise<string> {
  const image = job.tagged.image
  let found: Awaited<ReturnType<RegistryConnection['check']>>
  try {
    found = await connection.check(job.spec.name, job.tagged.tag)
  } catch (err) {
    logger.warning(
      `Could not read back the digest of ${image} after its push (${errorMessage(err)}); the digest output is the one buildx recorded, ${pushed}.`,
    )
    return pushed
  }
  if (!found.exists) {
    logger.warning(
      `${image} was pushed, but the registry does not list the tag right after the push; the digest output is the one buildx recorded, ${pushed}.`,
    )
    return pushed
  }
  if (found.digest !== pushed) {
    logger.warning(
      `${image} points at ${found.digest} in the registry, not at ${pushed} that this build pushed: another run pushed the same tag at about the same time (builds of one spec differ when their commits' times or their builders differ). The digest output is the registry's, ${found.digest}.`,
    )
  }
  return found.digest
}

export async function buildImage(job: ImageJob, settings: BuildSettings, env: JobEnv): Promise<ImageResult> {
  const base = {
    registry: job.spec.registry ?? '',
    image: job.tagged.image,
    tag: job.tagged.tag,
    specId: job.tagged.id,
  }
  const existing = settings.push ? await checkRegistry(job, settings, env) : { exists: false as const }
  if (existing.exists && !settings.force) {
    env.logger.info(`Reusing ${job.tagged.image}: nothing to build`)
    return { ...base, digest: existing.digest, built: false, pushed: false, dockerfile: '' }
  }
  if (existing.exists && settings.force && env.connection) {
    const { immutable } = await env.connection.prepareRepository(job.spec.name)
    if (immutable) {
      env.logger.warning(
        `force is set, but the repository's tags are IMMUTABLE: ${job.tagged.image} is kept, not overwritten`,
      )
      return { ...base, digest: existing.digest, built: false, pushed: false, dockerfile: '' }
    }
  }
  const built = await buildAndPush(job, settings, env)
  return {
    ...base,
    digest: built.digest,
    built: true,
    pushed: settings.push,
    dockerfile: built.dockerfile,
    buildSeconds: built.seconds,
  }
}
