import { readFile } from 'node:fs/promises'
import pLimit from 'p-limit'
import type { RegistryConnection } from '../connections/index.js'
import type { DockerContext } from '../docker/buildx.js'
import { errorMessage } from '../errors.js'
import { BufferedLogger, type Logger } from '../log.js'
import type { ImageNode } from '../plan/graph.js'
import type { Connections } from '../connections/per-step.js'
import { BUILDX, buildImage, writeContext, type BuildSettings, type Builder } from './image.js'
import type { ImageOutcome } from './outcome.js'

/**
 * Runs the image graph: every image waits for its nested base only, up to `parallel` images are checked and
 * built at once, and each is checked, logged in to and pushed through the connection of its own registry. One
 * image failing never stops the others: it is reported as failed, the images built on it as skipped, and the
 * caller fails the step after every image has ended. A tag is only ever written by its own image's push.
 */
export interface GraphEnv {
  settings: BuildSettings
  cwd: string
  workDir: string
  logger: Logger
  connections: Connections
  /** Where docker runs; asked for only when an image is built, so a reused image makes no config folder. */
  docker: () => Promise<DockerContext>
  /** How many images are checked and built at once. */
  parallel: number
  /** The docker steps; the real buildx ones unless a test passes its own. */
  builder?: Builder
  /** Runs after an image spec source names (not a nested base) is in its registry: preview and extra tags. */
  afterPush?: (
    node: ImageNode,
    outcome: ImageOutcome,
    connection: RegistryConnection,
    logger: Logger,
  ) => Promise<void>
}

export async function runGraph(nodes: readonly ImageNode[], env: GraphEnv): Promise<ImageOutcome[]> {
  const limit = pLimit(Math.max(1, env.parallel))
  // Several builds at once: each image's log is kept and printed as one group when it ends, not interleaved.
  const quiet = env.parallel > 1 && nodes.length > 1
  const builder = sharedBuilder(env.builder ?? BUILDX)
  // Connect to every registry first, one after the other: each connection logs a group of its own, which images
  // running at once would otherwise interrupt. A registry that cannot be reached fails its images, not the rest.
  if (env.settings.push) {
    const registries = new Set(nodes.flatMap((n) => (n.spec.registry ? [n.spec.registry] : [])))
    for (const registry of registries) await env.connections.get(registry).catch(() => undefined)
  }
  const running = new Map<string, Promise<ImageOutcome>>()
  for (const node of nodes) {
    const base = node.baseImage ? running.get(node.baseImage) : undefined
    running.set(
      node.tagged.image,
      (async () => {
        const baseOutcome = await base
        if (baseOutcome && (baseOutcome.state === 'failed' || baseOutcome.state === 'skipped')) {
          return skipped(node, baseOutcome)
        }
        if (node.notBuilt) return limit(() => checkOnly(node, node.notBuilt as string, env))
        if (baseOutcome?.state === 'not-built') {
          const why = `its base image ${baseOutcome.image} is not in the registry yet, and ${baseOutcome.reason ?? ''}`
          return limit(() => checkOnly(node, why, env))
        }
        return limit(() => runNode(node, { ...env, builder }, quiet))
      })(),
    )
  }
  return Promise.all(running.values())
}

async function runNode(node: ImageNode, env: GraphEnv, quiet: boolean): Promise<ImageOutcome> {
  const logger = quiet ? new BufferedLogger() : env.logger
  if (quiet) env.logger.info(`${node.tagged.image}: checking and building (its log follows when it ends)`)
  let outcome: ImageOutcome
  try {
    const connection =
      env.settings.push && node.spec.registry ? await env.connections.get(node.spec.registry) : undefined
    const docker = async () => ({ ...(await env.docker()), logger, quiet })
    const result = await buildImage(node, env.settings, {
      cwd: env.cwd,
      workDir: env.workDir,
      docker,
      connection,
      logger,
      ...(env.builder ? { builder: env.builder } : {}),
    })
    outcome = { ...describe(node), ...result, state: result.built ? 'built' : 'reused' }
    if (connection && env.settings.push && !node.nestedBase && env.afterPush) {
      await env.afterPush(node, outcome, connection, logger)
    }
  } catch (err) {
    logger.info(`${node.tagged.image} failed: ${errorMessage(err)}`)
    outcome = { ...describe(node), ...empty(node), state: 'failed', error: errorMessage(err) }
  }
  if (logger instanceof BufferedLogger) await logger.flushInto(env.logger, node.tagged.image)
  return outcome
}

/**
 * An image another builder makes at register time: only asked of the registry, so the outputs can name its
 * digest when it is there. A check that cannot answer only warns: this step would not build it either way.
 */
async function checkOnly(node: ImageNode, reason: string, env: GraphEnv): Promise<ImageOutcome> {
  const notBuilt: ImageOutcome = { ...describe(node), ...empty(node), state: 'not-built', reason }
  if (!env.settings.push || !node.spec.registry) return notBuilt
  try {
    const connection = await env.connections.get(node.spec.registry)
    const found = await connection.check(node.spec.name, node.tagged.tag)
    if (found.exists) {
      env.logger.info(`${node.tagged.image} exists (${found.digest}); ${reason}`)
      return { ...notBuilt, state: 'reused', digest: found.digest }
    }
  } catch (err) {
    env.logger.warning(`Could not check whether ${node.tagged.image} exists: ${errorMessage(err)}`)
  }
  env.logger.notice(`${node.tagged.image} (${node.origin}) is not built by this step: ${reason}`)
  return notBuilt
}

function describe(node: ImageNode): Pick<ImageOutcome, 'origin' | 'name' | 'nestedBase' | 'source'> {
  return { origin: node.origin, name: node.spec.name, nestedBase: node.nestedBase, source: node.source }
}

function empty(node: ImageNode): Omit<ImageOutcome, 'origin' | 'name' | 'nestedBase' | 'source' | 'state'> {
  return {
    registry: node.spec.registry ?? '',
    image: node.tagged.image,
    tag: node.tagged.tag,
    specId: node.tagged.id,
    digest: '',
    built: false,
    pushed: false,
    dockerfile: '',
  }
}

function skipped(node: ImageNode, base: ImageOutcome): ImageOutcome {
  return {
    ...describe(node),
    ...empty(node),
    state: 'skipped',
    error: `not built: its base image ${base.image} ${base.state === 'failed' ? 'failed' : 'was not built'}`,
  }
}

/**
 * The builder check (docker and buildx versions, a buildx install when missing, the builder's capabilities)
 * once per kind of build plan, not once per image: images built at once would otherwise race to install buildx.
 */
function sharedBuilder(builder: Builder): Builder {
  const prepared = new Map<string, ReturnType<Builder['prepare']>>()
  return {
    run: builder.run,
    prepare: (ctx, options) => {
      const p = options.plan
      const key = JSON.stringify([
        ctx.configDir,
        p.builder,
        p.platforms,
        p.cacheTo,
        p.provenance,
        p.sbom,
        p.output,
      ])
      const known = prepared.get(key) ?? builder.prepare(ctx, options)
      prepared.set(key, known)
      return known
    },
  }
}

/** Dry run: the graph in build order, each image's tag and Dockerfile, without docker or a registry. */
export async function dryRunGraph(
  nodes: readonly ImageNode[],
  env: Pick<GraphEnv, 'settings' | 'cwd' | 'workDir' | 'logger'>,
): Promise<ImageOutcome[]> {
  const outcomes: ImageOutcome[] = []
  for (const [i, node] of nodes.entries()) {
    if (node.notBuilt) {
      env.logger.info(
        `${i + 1}/${nodes.length} ${node.tagged.image} (${node.origin}): not built here; ${node.notBuilt}`,
      )
      outcomes.push({ ...describe(node), ...empty(node), state: 'dry-run', reason: node.notBuilt })
      continue
    }
    const context = await writeContext(node, env.settings, env)
    const from = node.baseImage ? `, FROM ${node.baseImage}` : ''
    const title = `${i + 1}/${nodes.length} ${node.tagged.image} (${node.origin}${node.nestedBase ? ', nested base' : ''}${from})`
    await env.logger.group(title, async () => env.logger.info(await readFile(context.dockerfile, 'utf8')))
    outcomes.push({ ...describe(node), ...empty(node), dockerfile: context.dockerfile, state: 'dry-run' })
  }
  return outcomes
}
