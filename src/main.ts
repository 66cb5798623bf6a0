import * as core from '@actions/core'
import { mkdir, mkdtemp } from 'node:fs/promises'
import path from 'node:path'
import { actionsLogger } from './actions-logger.js'
import { DockerSession } from './docker-session.js'
import { errorMessage } from './errors.js'
import { readRunContext } from './github.js'
import { getInputs } from './inputs.js'
import { setOutputs, summaryMarkdown, writeSummary, type ImageResult } from './outputs.js'
import { buildAll, dryRun } from './pipeline/build-all.js'
import {
  buildSettings,
  checkDockerfiles,
  installerWarnings,
  readSpec,
  tagChains,
  writeSpecFile,
} from './pipeline/prepare.js'
import { isCleanupRun } from './preview/cleanup.js'
import { previewContext } from './preview/context.js'
import { cleanup, commentOnPullRequest, stopForFork } from './preview/run.js'
import { previewSummaryMarkdown } from './preview/summary.js'

/**
 * The sequence: inputs -> spec -> tags -> (dry run: Dockerfiles) -> per registry: connect, then for each image of
 * the chain (nested base first) check, build, push and preview-tag -> outputs, summary, PR comment. Parsing,
 * decisions and string building live in the modules named here.
 */
/** What `pyflyte register --image` should read: the spec file, unless inline inputs changed it. */
function registerSpec(inputs: { spec: string; inline: Record<string, string> }): string {
  return Object.keys(inputs.inline).length > 0 ? '<the spec-file output>' : inputs.spec
}

export async function run(): Promise<void> {
  const logger = actionsLogger
  try {
    const inputs = getInputs()
    const ctx = readRunContext()
    const preview = previewContext(inputs, ctx.eventName, ctx.eventPath)
    const session = new DockerSession(ctx.runnerTemp, logger)
    const cwd = path.resolve(ctx.workspace, inputs.workingDirectory)
    const { spec, locate } = await logger.group('Read the ImageSpec', async () =>
      readSpec(inputs, cwd, logger),
    )
    if (!inputs.dryRun && (await stopForFork(inputs, spec, preview))) return
    if (isCleanupRun(inputs.cleanup, preview))
      return await cleanup(spec, inputs, ctx, preview, session, logger)
    const chains = await logger.group('Compute flytekit tags', () =>
      tagChains(spec, inputs.registries, cwd, logger),
    )
    await mkdir(ctx.runnerTemp, { recursive: true })
    const workDir = await mkdtemp(path.join(ctx.runnerTemp, 'imagespec-'))
    const settings = buildSettings(inputs, ctx)
    checkDockerfiles(chains, settings, locate)
    for (const w of installerWarnings(spec, inputs.installer)) logger.warning(w)
    const results = inputs.dryRun
      ? await dryRun(chains, settings, cwd, workDir, logger)
      : await buildAll(chains, { inputs, settings, ctx, cwd, workDir, session, preview, logger })
    // The last image of each chain is the one the spec names; nested bases come before it.
    const tops = chains.map(
      (chain) => results.find((r) => r.image === chain.at(-1)?.tagged.image) as ImageResult,
    )
    const specFile = await writeSpecFile(chains[0]?.at(-1)?.spec ?? spec, workDir, logger)
    setOutputs(tops[0] as ImageResult, tops, specFile)
    await writeSummary(
      summaryMarkdown(tops, registerSpec(inputs), inputs.dryRun) + previewSummaryMarkdown(tops),
    )
    await commentOnPullRequest(inputs, ctx, preview, tops, logger)
  } catch (err) {
    core.setFailed(`imagespec-action failed: ${errorMessage(err)}`)
  }
}
