import * as core from '@actions/core'
import { mkdir, mkdtemp, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { actionsLogger } from './actions-logger.js'
import { Connections, connector, type Connect } from './connections/per-step.js'
import type { Builder } from './build/image.js'
import type { ImageOutcome } from './build/outcome.js'
import { dryRunGraph, runGraph } from './build/run-graph.js'
import { buildSettings } from './build/settings.js'
import { DockerSession } from './docker/session.js'
import { errorMessage, InputError } from './errors.js'
import { readRunContext, type RunContext } from './github.js'
import { getInputs, type ActionInputs } from './inputs.js'
import type { Logger } from './log.js'
import type { Exec } from './exec.js'
import { runReader } from './python/run-reader.js'
import { selfCheck } from './python/self-check.js'
import { expandSpecLines } from './sources/expand.js'
import { planImages, type ImagePlan } from './plan/plan-images.js'
import { isCleanupRun } from './preview/cleanup.js'
import { previewContext, tagChainImage } from './preview/context.js'
import { cleanup, commentOnPullRequest, stopForFork } from './preview/run.js'
import { previewSummaryMarkdown } from './preview/summary.js'
import { mainImage, setOutputs } from './report/outputs.js'
import { writeSpecFile } from './report/spec-file.js'
import { summaryMarkdown, writeSummary } from './report/summary.js'

/**
 * The sequence: inputs -> every spec read, tagged, put in one image graph and its Dockerfiles checked (all
 * problems reported together) -> the graph run (each image at its own registry, bases first, independent images
 * at once) -> outputs, summary, PR comment; the step fails afterwards, naming every image that failed.
 */

/** The edges a test of `run` may replace with fakes: how registries are reached and how docker builds. */
export interface Edges {
  connect?: (inputs: ActionInputs, ctx: RunContext, session: DockerSession, logger: Logger) => Connect
  builder?: Builder
  logger?: Logger
  /** How processes start (the Python reader and flytekit's self-check); the real one by default. */
  exec?: Exec
}

export async function run(edges: Edges = {}): Promise<void> {
  const logger = edges.logger ?? actionsLogger
  try {
    const inputs = getInputs()
    const ctx = readRunContext()
    const preview = previewContext(inputs, ctx.eventName, ctx.eventPath)
    const session = new DockerSession(ctx.runnerTemp, logger)
    const cwd = await workingDirectory(ctx.workspace, inputs.workingDirectory)
    const settings = buildSettings(inputs, ctx, logger)
    await mkdir(ctx.runnerTemp, { recursive: true })
    const workDir = await mkdtemp(path.join(ctx.runnerTemp, 'imagespec-'))
    const plan = await logger.group('Read the ImageSpecs and compute flytekit tags', () =>
      readPlan(inputs, settings.flytekitRequirement, { cwd, workDir }, logger, edges.exec),
    )
    if (inputs.selfCheck !== 'false') {
      await logger.group('Compare the tags with flytekit', () =>
        selfCheck(plan, {
          mode: inputs.selfCheck === 'true' ? 'true' : 'auto',
          python: inputs.python,
          cwd,
          workDir,
          logger,
          ...(edges.exec ? { exec: edges.exec } : {}),
        }),
      )
    }
    const registries = plan.nodes.flatMap((n) => (n.spec.registry ? [n.spec.registry] : []))
    if (!inputs.dryRun && (await stopForFork(inputs, registries, preview))) return
    const connect = (edges.connect ?? connector)(inputs, ctx, session, logger)
    if (isCleanupRun(inputs.cleanup, preview)) {
      const specs = plan.sources.map((s) => s.spec)
      return await cleanup(specs, inputs, preview, connect, session, logger)
    }
    const outcomes = inputs.dryRun
      ? await dryRunGraph(plan.nodes, { settings, cwd, workDir, logger })
      : await runGraph(plan.nodes, {
          settings,
          cwd,
          workDir,
          logger,
          connections: new Connections(connect, (r) => session.usedRegistry(r)),
          // Docker always runs with the job's own config (it starts as a copy of the runner's logins): logins,
          // and a buildx this action may have to install, go there and never into the user's ~/.docker.
          docker: async () => ({ configDir: await session.jobConfigDir(), logger }),
          parallel: inputs.parallelBuilds,
          ...(edges.builder ? { builder: edges.builder } : {}),
          afterPush: (node, outcome, connection, log) =>
            tagChainImage(outcome, node, preview, connection, log),
        })
    await report(plan, outcomes, inputs.specs, workDir, logger)
    await commentOnPullRequest(inputs, ctx, preview, outcomes, logger)
    const failed = outcomes.filter((o) => o.state === 'failed' || o.state === 'skipped')
    if (failed.length > 0) core.setFailed(failureMessage(failed, outcomes.length))
  } catch (err) {
    core.setFailed(`imagespec-action failed: ${errorMessage(err)}`)
  }
}

/** The working directory, which must be a folder of the workspace: said as the input's problem, not as ENOENT. */
async function workingDirectory(workspace: string, input: string): Promise<string> {
  const cwd = path.resolve(workspace, input)
  const found = await stat(cwd).catch(() => undefined)
  if (!found) {
    throw new InputError(
      'working-directory',
      `'${input}' not found in the workspace (${workspace}); name a folder of the repository, or check out the repository first (actions/checkout)`,
    )
  }
  if (!found.isDirectory()) {
    throw new InputError(
      'working-directory',
      `'${input}' is a file; name a folder: the one you run pyflyte register from (e.g. '.')`,
    )
  }
  return cwd
}

async function readPlan(
  inputs: ActionInputs,
  flytekitRequirement: string | null,
  dirs: { cwd: string; workDir: string },
  logger: Logger,
  exec: Exec | undefined,
): Promise<ImagePlan> {
  const { cwd, workDir } = dirs
  const expanded = await expandSpecLines(inputs.specs, cwd)
  const pythonFiles = expanded.files.filter((f) => f.kind === 'python').map((f) => f.path)
  if (pythonFiles.length > 0)
    logger.info(`Python files read statically with ${inputs.python}: ${pythonFiles.join(', ')}`)
  const python =
    pythonFiles.length > 0
      ? await runReader({
          python: inputs.python,
          cwd,
          workDir,
          entries: pythonFiles,
          logger,
          ...(exec ? { exec } : {}),
        })
      : undefined
  const plan = await planImages({
    files: expanded.files,
    specLines: inputs.specs.length,
    issues: expanded.errors.map((e) => ({ path: 'spec', location: `input 'spec'`, message: e.message })),
    ...(python ? { python } : {}),
    buildUnion: inputs.buildUnionSpecs,
    inline: inputs.inline,
    registries: inputs.registries,
    cwd,
    hostArch: os.arch(),
    installer: inputs.installer,
    flytekitRequirement,
  })
  for (const w of plan.warnings) logger.warning(w)
  for (const s of plan.sources) {
    logger.info(
      `${s.origin}: name ${s.spec.name}, registry ${s.spec.registry ?? '(none)'}, platform ${s.spec.platform}`,
    )
  }
  for (const n of plan.nodes) {
    logger.info(`${n.tagged.image}  (_F_IMG_ID ${n.tagged.id})${n.nestedBase ? '  nested base' : ''}`)
    logger.debug(`hashed: ${n.tagged.hashInput}`)
  }
  return plan
}

/** Outputs and the job summary, written whether or not every image made it (the step fails afterwards). */
/**
 * The register commands that find these images: YAML specs by `--image <file>` (or the written spec file when
 * inline inputs changed it); Python sources by registering the same files, which compute the same tags.
 */
function registerCommands(plan: ImagePlan, specLines: string[], specFile: string): string[] {
  const commands = new Set<string>()
  for (const s of plan.sources) {
    if (s.kind === 'python') continue
    const spec = s.changedByInputs || !s.file ? specFile || '<the spec-file output>' : s.file
    commands.add(`pyflyte register --image ${spec} <your workflows>`)
  }
  if (plan.sources.some((s) => s.kind === 'python')) {
    const py = specLines.filter((l) => !/\.ya?ml$/i.test(l))
    commands.add(`pyflyte register ${py.join(' ')}   # or: union register ${py.join(' ')}`)
  }
  return [...commands]
}

async function report(
  plan: ImagePlan,
  outcomes: ImageOutcome[],
  specLines: string[],
  workDir: string,
  logger: Logger,
): Promise<void> {
  const main = mainImage(outcomes, plan.sources.length)
  const mainNode = main && plan.nodes.find((n) => n.tagged.image === main.image)
  // Python sources have no spec file: pyflyte register reads the code itself.
  const fromYaml = plan.sources[0]?.kind !== 'python'
  const specFile = mainNode && fromYaml ? await writeSpecFile(mainNode.spec, workDir, logger) : ''
  setOutputs(outcomes, main, specFile)
  const registers = registerCommands(plan, specLines, specFile)
  await writeSummary(
    summaryMarkdown(outcomes, { registers, singleImageOutputs: plan.sources.length === 1 }) +
      previewSummaryMarkdown(outcomes),
  )
}

function failureMessage(failed: ImageOutcome[], total: number): string {
  const lines = failed.map((o) => `  - ${o.image} (${o.origin}): ${o.error ?? o.state}`)
  return `imagespec-action failed: ${failed.length} of ${total} images did not make it:\n${lines.join('\n')}`
}
