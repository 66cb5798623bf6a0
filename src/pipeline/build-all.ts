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
  session.usedRegistry(registry)
  logger.info(`Registry: ${connection.describe}`)
  return connection
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
    const connection = registry ? await connect(registry, inputs, ctx, session, logger) : undefined
    for (const job of chain) {
      // Docker always runs with the job's own config (it starts as a copy of the runner's logins): logins, and a
      // buildx this action may have to install, go there and never into the user's ~/.docker.
      const configDir = await session.jobConfigDir()
      const jobEnv = { cwd, workDir, docker: { configDir, logger }, connection, logger }
      results.push(await buildImage(job, settings, jobEnv))
    }
    const top = results[results.length - 1]
    if (connection && inputs.push && top) {
      await tagChainImage(top, chain[chain.length - 1] as ImageJob, preview, connection, logger)
    }
  }
  return results
}
