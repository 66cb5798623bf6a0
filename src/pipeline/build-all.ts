import { readFile } from 'node:fs/promises'
import { connectRegistry, type AuthInputs, type RegistryConnection } from '../auth/index.js'
import { buildImage, writeContext, type BuildSettings, type ImageJob } from '../build-image.js'
import type { DockerSession } from '../docker-session.js'
import type { RunContext } from '../github.js'
import type { ActionInputs } from '../inputs.js'
import type { Logger } from '../log.js'
import type { ImageResult } from '../outputs.js'
import { tagChainImage, type PreviewContext } from '../preview/context.js'

/** The image chains -> Dockerfiles only (dry run), or checked, built, pushed and preview-tagged images. */
export function authInputs(inputs: ActionInputs, ctx: RunContext): AuthInputs {
  return {
    username: inputs.username,
    password: inputs.password,
    githubToken: inputs.githubToken,
    actor: ctx.actor,
    aws: inputs.aws,
    ecr: inputs.ecr,
    gcp: inputs.gcp,
  }
}

export async function connect(
  registry: string,
  inputs: ActionInputs,
  ctx: RunContext,
  session: DockerSession,
  logger: Logger,
): Promise<RegistryConnection> {
  const connection = await logger.group(`Connect to ${registry}`, () =>
    connectRegistry(
      registry,
      authInputs(inputs, ctx),
      session.ambientConfigDir,
      session.jobConfigDir,
      logger,
    ),
  )
  logger.info(`Registry: ${connection.describe}`)
  return connection
}

/**
 * The connection as this run uses it: a repository is prepared once per image name (a forced rebuild asks first
 * whether its tags are immutable, then again before the push; ECR would repeat its lookup and lifecycle policy),
 * and registries docker logs in to are recorded, so the post step logs out of those only.
 */
function forThisRun(connection: RegistryConnection, session: DockerSession): RegistryConnection {
  const prepared = new Map<string, Promise<{ immutable: boolean }>>()
  return {
    ...connection,
    prepareRepository: (name) => {
      const known = prepared.get(name) ?? connection.prepareRepository(name)
      prepared.set(name, known)
      return known
    },
    loginForPush: async (configDir) => {
      await connection.loginForPush(configDir)
      session.usedRegistry(connection.registry)
    },
  }
}

export async function dryRun(
  chains: ImageJob[][],
  settings: BuildSettings,
  cwd: string,
  workDir: string,
  logger: Logger,
): Promise<ImageResult[]> {
  const results: ImageResult[] = []
  for (const job of chains.flat()) {
    const context = await writeContext(job, settings, { cwd, workDir })
    await logger.group(`Dockerfile for ${job.tagged.image}`, async () =>
      logger.info(await readFile(context.dockerfile, 'utf8')),
    )
    results.push({
      registry: job.spec.registry ?? '',
      image: job.tagged.image,
      tag: job.tagged.tag,
      specId: job.tagged.id,
      digest: '',
      built: false,
      pushed: false,
      dockerfile: context.dockerfile,
    })
  }
  return results
}

export interface BuildAllEnv {
  inputs: ActionInputs
  settings: BuildSettings
  ctx: RunContext
  cwd: string
  workDir: string
  session: DockerSession
  preview: PreviewContext
  logger: Logger
}

export async function buildAll(chains: ImageJob[][], env: BuildAllEnv): Promise<ImageResult[]> {
  const { inputs, settings, ctx, cwd, workDir, session, preview, logger } = env
  const results: ImageResult[] = []
  for (const chain of chains) {
    const registry = chain[chain.length - 1]?.spec.registry
    const connection = registry
      ? forThisRun(await connect(registry, inputs, ctx, session, logger), session)
      : undefined
    // Docker always runs with the job's own config (it starts as a copy of the runner's logins): logins, and a
    // buildx this action may have to install, go there and never into the user's ~/.docker.
    const docker = async () => ({ configDir: await session.jobConfigDir(), logger })
    for (const job of chain) {
      results.push(await buildImage(job, settings, { cwd, workDir, docker, connection, logger }))
    }
    const top = results[results.length - 1]
    if (connection && inputs.push && top) {
      await tagChainImage(top, chain[chain.length - 1] as ImageJob, preview, connection, logger)
    }
  }
  return results
}
