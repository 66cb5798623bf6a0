import * as core from '@actions/core'
import { mkdtemp, mkdir } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { actionsLogger } from './actions-logger.js'
import { connectRegistry, type AuthInputs } from './auth/index.js'
import { buildImage, writeContext, type BuildSettings, type ImageJob } from './build-image.js'
import { createDockerConfigDir } from './docker/login.js'
import { exec } from './docker/exec.js'
import { errorMessage } from './errors.js'
import { ociLabels, readRunContext, type RunContext } from './github.js'
import { getInputs, type ActionInputs } from './inputs.js'
import type { Logger } from './log.js'
import { setOutputs, summaryMarkdown, writeSummary, type ImageResult } from './outputs.js'
import { flytekitRequirement, imageChain, specsForRegistries } from './plan.js'
import { buildPlanDefaults } from './plan-inputs.js'
import type { ImageSpec } from './spec/model.js'
import { resolveSpec } from './spec/resolve.js'
import { computeTag } from './tag/tag.js'
import { STATE } from './state.js'
import { previewContext, tagChainImage, type PreviewContext } from './preview/context.js'
import { cleanupRepository, cleanupSummaryMarkdown, isCleanupRun } from './preview/cleanup.js'
import { forkBlockers, forkMessage } from './preview/fork.js'
import { commentBody, upsertComment } from './preview/comment.js'
import { isForkPullRequest } from './cloud/github-oidc.js'
import { ActionError } from './errors.js'
import { previewSummaryMarkdown } from './preview/summary.js'

/**
 * The sequence: inputs -> spec -> tags -> (dry run: Dockerfile) -> per registry: connect, then for each image of
 * the chain (nested base first) check, build and push -> outputs and summary. No parsing or string building here.
 */
export async function run(): Promise<void> {
  const logger = actionsLogger
  try {
    const inputs = getInputs()
    const ctx = readRunContext()
    const preview = previewContext(inputs, ctx.eventName, ctx.eventPath)
    const cwd = path.resolve(ctx.workspace, inputs.workingDirectory)
    const spec = await logger.group('Read the ImageSpec', async () => readSpec(inputs, cwd, logger))
    if (!inputs.dryRun && (await stopForFork(inputs, spec, preview))) return
    if (isCleanupRun(inputs.cleanup, preview)) return await cleanup(spec, inputs, ctx, preview, logger)
    const chains = await logger.group('Compute flytekit tags', () =>
      tagChains(spec, inputs.registries, cwd, logger),
    )
    const workDir = await mkdtemp(path.join(await ensureDir(ctx.runnerTemp), 'imagespec-'))
    const settings = buildSettings(inputs, ctx)
    const results = inputs.dryRun
      ? await dryRun(chains, settings, cwd, workDir, logger)
      : await buildAll(chains, inputs, settings, ctx, cwd, workDir, logger, preview)
    const main = results[results.length - 1] as ImageResult
    const tops = chains.map(
      (chain) => results.find((r) => r.image === chain[chain.length - 1]?.tagged.image) as ImageResult,
    )
    setOutputs(main, tops)
    await writeSummary(summaryMarkdown(tops, inputs.spec, inputs.dryRun) + previewSummaryMarkdown(tops))
    if (inputs.comment && preview.pr && tops.some((r) => r.previewImage)) {
      const target = {
        apiUrl: process.env.GITHUB_API_URL || 'https://api.github.com',
        token: inputs.githubToken,
        repository: ctx.repository,
        prNumber: preview.pr.number,
      }
      await upsertComment(target, commentBody(tops, preview.pr.headSha), logger).catch((err: unknown) =>
        logger.warning(errorMessage(err)),
      )
    }
  } catch (err) {
    core.setFailed(`imagespec-action failed: ${errorMessage(err)}`)
  }
}

/** True when this is a fork pull request whose registry needs an OIDC token or a secret (then nothing is pushed). */
async function stopForFork(inputs: ActionInputs, spec: ImageSpec, preview: PreviewContext): Promise<boolean> {
  if (!isForkPullRequest()) return false
  const registries = specsForRegistries(spec, inputs.registries).flatMap((s) =>
    s.registry ? [s.registry] : [],
  )
  const auth = {
    username: inputs.username,
    password: inputs.password,
    awsRoleToAssume: inputs.aws.roleToAssume,
    gcpAuth: inputs.gcp.auth,
  }
  const reasons = forkBlockers(registries, auth)
  if (reasons.length === 0) return false
  const message = forkMessage(reasons, preview.pr)
  if (inputs.failOnFork) throw new ActionError(message)
  core.notice(message)
  await writeSummary(`### ImageSpec image\n\nSkipped: ${message}\n`)
  return true
}

/** `cleanup: pr` on a closed pull request: delete its preview tags in every registry; build nothing. */
async function cleanup(
  spec: ImageSpec,
  inputs: ActionInputs,
  ctx: RunContext,
  preview: PreviewContext,
  logger: Logger,
): Promise<void> {
  const ambient = process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker')
  let jobConfig: Promise<string> | undefined
  const jobConfigDir = () =>
    (jobConfig ??= createDockerConfigDir(ctx.runnerTemp, { logger }).then((dir) => {
      core.saveState(STATE.dockerConfig, dir)
      return dir
    }))
  const reports = []
  for (const target of specsForRegistries(spec, inputs.registries)) {
    if (!target.registry)
      throw new ActionError('cleanup: pr needs a registry: set registry in the spec or as an input.')
    const registry = target.registry
    const connection = await logger.group(`Connect to ${registry}`, () =>
      connectRegistry(registry, authInputs(inputs, ctx), ambient, jobConfigDir, logger),
    )
    reports.push(
      await logger.group(`Clean up ${registry}/${target.name}`, () =>
        cleanupRepository(
          { registry, name: target.name },
          preview.pr?.number ?? 0,
          connection,
          inputs.dryRun,
          logger,
        ),
      ),
    )
  }
  await writeSummary(cleanupSummaryMarkdown(reports))
}

async function ensureDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  return dir
}

function readSpec(inputs: ActionInputs, cwd: string, logger: Logger): ImageSpec {
  const { spec, warnings } = resolveSpec({
    specFile: inputs.spec,
    inline: inputs.inline,
    cwd,
    hostArch: os.arch(),
  })
  for (const w of warnings) logger.warning(w)
  logger.info(`name: ${spec.name}, registry: ${spec.registry ?? '(none)'}, platform: ${spec.platform}`)
  return spec
}

/** For each registry: the image chain (nested bases first), each with its flytekit tag. */
async function tagChains(
  spec: ImageSpec,
  registries: string[],
  cwd: string,
  logger: Logger,
): Promise<ImageJob[][]> {
  const chains: ImageJob[][] = []
  for (const target of specsForRegistries(spec, registries)) {
    const jobs: ImageJob[] = []
    for (const s of imageChain(target)) {
      const tagged = await computeTag(s, cwd)
      const base = jobs[jobs.length - 1]?.tagged.image
      jobs.push({ spec: s, tagged, ...(base ? { baseImage: base } : {}) })
      logger.info(`${tagged.image}  (_F_IMG_ID ${tagged.id})`)
      logger.debug(`hashed: ${tagged.hashInput}`)
    }
    chains.push(jobs)
  }
  return chains
}

function buildSettings(inputs: ActionInputs, ctx: RunContext): BuildSettings {
  let python: Promise<string> | undefined
  return {
    installer: inputs.installer,
    flytekitRequirement: flytekitRequirement(inputs.flytekitVersion),
    defaultPythonVersion: () => (python ??= runnerPythonVersion()),
    push: inputs.push,
    force: inputs.force,
    onCheckError: inputs.onCheckError,
    plan: buildPlanDefaults(inputs, ociLabels(ctx, new Date())),
    buildxVersion: inputs.buildxVersion,
  }
}

/**
 * flytekit installs the building machine's Python when python_version is unset; the runner stands in for that
 * machine (it is where `pyflyte register` would run).
 */
async function runnerPythonVersion(): Promise<string> {
  try {
    const r = await exec('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'])
    if (r.exitCode === 0 && /^\d+\.\d+$/.test(r.stdout.trim())) return r.stdout.trim()
  } catch {
    // no python3 on the runner
  }
  return '3.12'
}

async function dryRun(
  chains: ImageJob[][],
  settings: BuildSettings,
  cwd: string,
  workDir: string,
  logger: Logger,
): Promise<ImageResult[]> {
  const results: ImageResult[] = []
  for (const job of chains.flat()) {
    const context = await writeContext(job, settings, { cwd, workDir })
    const { readFile } = await import('node:fs/promises')
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

function authInputs(inputs: ActionInputs, ctx: RunContext): AuthInputs {
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

async function buildAll(
  chains: ImageJob[][],
  inputs: ActionInputs,
  settings: BuildSettings,
  ctx: RunContext,
  cwd: string,
  workDir: string,
  logger: Logger,
  preview: PreviewContext,
): Promise<ImageResult[]> {
  const ambient = process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker')
  let jobConfig: Promise<string> | undefined
  // One DOCKER_CONFIG per job, made on first need and removed by the post step: never the user's own config.
  const jobConfigDir = () =>
    (jobConfig ??= createDockerConfigDir(ctx.runnerTemp, { logger }).then((dir) => {
      core.saveState(STATE.dockerConfig, dir)
      return dir
    }))
  const results: ImageResult[] = []
  for (const chain of chains) {
    const registry = chain[chain.length - 1]?.spec.registry
    const connection = registry
      ? await logger.group(`Connect to ${registry}`, () =>
          connectRegistry(registry, authInputs(inputs, ctx), ambient, jobConfigDir, logger),
        )
      : undefined
    if (connection) logger.info(`Registry: ${connection.describe}`)
    const registries = JSON.parse(core.getState(STATE.registries) || '[]') as string[]
    if (registry) core.saveState(STATE.registries, JSON.stringify([...registries, registry.split('/')[0]]))
    for (const job of chain) {
      const configDir = connection?.needsDockerConfig || !inputs.push ? await jobConfigDir() : ambient
      results.push(
        await buildImage(job, settings, { cwd, workDir, docker: { configDir, logger }, connection, logger }),
      )
    }
    const top = results[results.length - 1]
    if (connection && inputs.push && top) {
      await tagChainImage(top, chain[chain.length - 1] as ImageJob, preview, connection, logger)
    }
  }
  return results
}
