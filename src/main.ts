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

/**
 * The sequence: inputs -> spec -> tags -> (dry run: Dockerfile) -> per registry: connect, then for each image of
 * the chain (nested base first) check, build and push -> outputs and summary. No parsing or string building here.
 */
export async function run(): Promise<void> {
  const logger = actionsLogger
  try {
    const inputs = getInputs()
    const ctx = readRunContext()
    const cwd = path.resolve(ctx.workspace, inputs.workingDirectory)
    const spec = await logger.group('Read the ImageSpec', async () => readSpec(inputs, cwd, logger))
    const chains = await logger.group('Compute flytekit tags', () =>
      tagChains(spec, inputs.registries, cwd, logger),
    )
    const workDir = await mkdtemp(path.join(await ensureDir(ctx.runnerTemp), 'imagespec-'))
    const settings = buildSettings(inputs, ctx)
    const results = inputs.dryRun
      ? await dryRun(chains, settings, cwd, workDir, logger)
      : await buildAll(chains, inputs, settings, ctx, cwd, workDir, logger)
    const main = results[results.length - 1] as ImageResult
    const tops = chains.map(
      (chain) => results.find((r) => r.image === chain[chain.length - 1]?.tagged.image) as ImageResult,
    )
    setOutputs(main, tops)
    await writeSummary(summaryMarkdown(tops, inputs.spec, inputs.dryRun))
  } catch (err) {
    core.setFailed(`imagespec-action failed: ${errorMessage(err)}`)
  }
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
  }
  return results
}
