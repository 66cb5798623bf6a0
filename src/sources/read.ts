import { SpecError, type SpecIssue } from '../errors.js'
import type { ImageSpec } from '../spec/model.js'
import { resolveSpec } from '../spec/resolve.js'

/**
 * The `spec` lines (and the inline inputs) -> one validated ImageSpec per source. Every source is read even when
 * an earlier one is broken, so that the step reports the problems of all of them at once.
 */
export interface SpecSource {
  /** `specs/app.yaml:1` (the file and the line its mapping starts on), or `inline`. */
  origin: string
  /** The spec file as the `spec` input names it; '' for inline inputs only. */
  file: string
  spec: ImageSpec
  /** Where a field path (`env.FOO`, `base_image.packages[2]`) came from: `specs/app.yaml:7`, `input 'env'`. */
  locate(path: string): string | undefined
  /** Whether inline inputs changed the file's values (then `pyflyte register` needs the written spec file). */
  changedByInputs: boolean
}

export interface ReadResult {
  sources: SpecSource[]
  warnings: string[]
  errors: SpecIssue[]
}

export interface ReadOptions {
  /** The `spec` lines; inline inputs apply to the only one (inputs.ts refuses them with several). */
  files: string[]
  inline: Record<string, string>
  cwd: string
  hostArch: string
}

export function readSources(opts: ReadOptions): ReadResult {
  const out: ReadResult = { sources: [], warnings: [], errors: [] }
  const files = opts.files.length > 0 ? opts.files : ['']
  const seen = new Set<string>()
  for (const file of files) {
    if (seen.has(file)) continue // the same file twice is the same spec: read once
    seen.add(file)
    readOne(file, opts, out)
  }
  return out
}

function readOne(file: string, opts: ReadOptions, out: ReadResult): void {
  try {
    const resolved = resolveSpec({
      specFile: file,
      inline: opts.inline,
      cwd: opts.cwd,
      hostArch: opts.hostArch,
    })
    out.warnings.push(...resolved.warnings)
    out.sources.push({
      origin: resolved.locate('') ?? (file || 'inline'),
      file,
      spec: resolved.spec,
      locate: resolved.locate,
      changedByInputs: Object.keys(opts.inline).length > 0,
    })
  } catch (err) {
    if (!(err instanceof SpecError)) throw err
    // A problem without a line still names its file, so that several specs' problems can be told apart.
    out.errors.push(...err.issues.map((i) => (i.location || !file ? i : { ...i, location: file })))
  }
}
