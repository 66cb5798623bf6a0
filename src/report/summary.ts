import * as core from '@actions/core'
import type { ImageOutcome } from '../build/outcome.js'

/** The job summary: one table of every image of the graph, then the register commands that find them by tag. */

function stateText(o: ImageOutcome): string {
  switch (o.state) {
    case 'dry-run':
      return o.reason ? `dry run; not built here: ${o.reason}` : 'dry run'
    case 'built':
      return o.pushed ? 'built and pushed' : 'built (not pushed)'
    case 'reused':
      return o.reason ? `in the registry; ${o.reason}` : 'reused (already in the registry)'
    case 'failed':
      return `**failed**: ${o.error ?? ''}`
    case 'skipped':
      return o.error ?? 'skipped'
    case 'not-built':
      return `not built here: ${o.reason ?? ''}`
  }
}

/** Table cells may not hold `|` or a line break. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replace(/\s*\n\s*/g, ' ')
}

export interface SummaryOptions {
  /** The register commands that find the images (`pyflyte register --image spec.yaml <your workflows>`). */
  registers: readonly string[]
  /** False with several specs: then the single-image outputs are empty and `images` is the output to read. */
  singleImageOutputs: boolean
}

export function summaryMarkdown(outcomes: readonly ImageOutcome[], opts: SummaryOptions): string {
  const rows = outcomes.map((o) => {
    const time = o.buildSeconds !== undefined ? `${o.buildSeconds.toFixed(1)} s` : '–'
    const origin = `${o.origin}${o.nestedBase ? ' (nested base)' : ''}`
    return `| ${cell(origin)} | \`${o.image}\` | ${cell(stateText(o))} | ${o.digest ? `\`${o.digest}\`` : '–'} | ${time} |`
  })
  const registers =
    opts.registers.length > 0
      ? opts.registers
      : [`pyflyte register --image ${outcomes[0]?.image ?? '<image>'} <your workflows>`]
  return [
    outcomes.length === 1 ? '### ImageSpec image' : `### ImageSpec images (${outcomes.length})`,
    '',
    '| Spec | Image | Result | Digest | Build time |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    ...(opts.singleImageOutputs
      ? []
      : [
          'Several specs: the outputs `image`, `tag`, `spec-id` and `digest` are empty; read `images`, a JSON array ' +
            'with one object per image (`fromJSON(steps.<id>.outputs.images)`).',
          '',
        ]),
    'Register with the same specs (and the same environment variables); flytekit computes the same tags and finds ' +
      'the images instead of building them:',
    '',
    '```sh',
    ...registers.map((command) => `FLYTE_IMG_FAST_FAIL=true ${command}`),
    '```',
    '',
  ].join('\n')
}

export async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary.addRaw(markdown).write()
}
