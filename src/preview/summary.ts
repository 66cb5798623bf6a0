import type { ImageResult } from '../build/outcome.js'

/** Job-summary lines for preview images: each image's preview reference and the command that registers it. */
export function previewSummaryMarkdown(results: readonly ImageResult[]): string {
  const lines: string[] = []
  for (const r of results) {
    if (!r.previewImage) continue
    lines.push(
      `Preview image: \`${r.previewImage}\`${r.digest ? ` (\`${r.digest}\`)` : ''}. Register this pull request's workflows with it:`,
      '',
      '```sh',
      `pyflyte register --image ${r.previewImage} <your workflows>`,
      '```',
      '',
    )
  }
  return lines.length > 0 ? ['### Pull-request preview', '', ...lines].join('\n') : ''
}
