import { mkdir, mkdtemp } from 'node:fs/promises'
import path from 'node:path'
import type { RegistryConnection } from '../connections/index.js'
import type { BuildPlan, BuildSecret } from '../docker/buildx-args.js'
import { prepareBuilder, runBuild, type DockerContext } from '../docker/buildx.js'
import { writeBuildContext, type BuildContext } from '../dockerfile/context.js'
import type { Installer } from '../dockerfile/install.js'
import { ActionError, errorMessage } from '../errors.js'
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
  const plan: BuildPlan = {
    ...settings.plan,
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
  }
  const docker = await env.docker()
  await builder.prepare(docker, { plan, installVersion: settings.buildxVersion })
  const connection = settings.push ? env.connection : undefined
  const started = Date.now()
  if (connection) await connection.prepareRepository(job.spec.name)
  if (connection?.shortLivedCredentials) {
    // A token minted before a long build can expire before its push: build first, then log in with a token
    // refreshed at that moment, and push from the cache (the second run rebuilds nothing).
    await logger.group(`Build ${job.tagged.image}`, () => builder.run(docker, { ...plan, output: 'cache' }))
  }
  if (connection) await connection.loginForPush(docker.configDir)
  const title = connection?.shortLivedCredentials ? `Push ${job.tagged.image}` : `Build ${job.tagged.image}`
  const result = await logger.group(title, () => builder.run(docker, plan))
  return {
    digest: result.digest ?? '',
    seconds: (Date.now() - started) / 1000,
    dockerfile: context.dockerfile,
  }
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
