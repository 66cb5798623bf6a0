import { SpecError, type SpecIssue } from '../errors.js'
import type { ImageSpec } from '../spec/model.js'
import { resolveFields, resolveSpec } from '../spec/resolve.js'
import { pythonSpecs, type ReaderOutput } from './python.js'

/**
 * The spec sources -> one validated ImageSpec each: YAML files (with the inline inputs), or the ImageSpecs the
 * static reader found in Python files. Every source is read even when an earlier one is broken, so that the step
 * reports the problems of all of them at once.
 */
export type SourceKind = 'yaml' | 'python' | 'inline'

export interface SpecSource {
  kind: SourceKind
  /** `specs/app.yaml:1` (the file and the line its mapping starts on), `flows/train.py:12`, or `inline`. */
  origin: string
  /** The spec file (YAML: as the `spec` input names it; Python: where the spec was first bound or used). */
  file: string
  spec: ImageSpec
  /** Where a field path (`env.FOO`, `base_image.packages[2]`) came from: `specs/app.yaml:7`, `input 'env'`. */
  locate(path: string): string | undefined
  /** Whether inline inputs changed the file's values (then `pyflyte register` needs the written spec file). */
  changedByInputs: boolean
  /** Python: every place the spec is bound or used (`flows/train.py:12 (train_image)`). */
  locations?: string[]
}

export interface ReadResult {
  sources: SpecSource[]
  warnings: string[]
  errors: SpecIssue[]
}

export interface SpecFileRef {
  path: string
  kind: 'yaml' | 'python'
}

export interface ReadOptions {
  /** The spec files the `spec` lines name; inline inputs apply to the only YAML one. */
  files: SpecFileRef[]
  inline: Record<string, string>
  /** What the static reader found in the Python files among `files`. */
  python?: ReaderOutput
  /** How many `spec` lines were given: when some were (and named nothing usable), their errors say so already. */
  specLines?: number
  cwd: string
  hostArch: string
}

export function readSources(opts: ReadOptions): ReadResult {
  const out: ReadResult = { sources: [], warnings: [], errors: [] }
  const yaml = [...new Set(opts.files.filter((f) => f.kind === 'yaml').map((f) => f.path))]
  const hasPython = opts.files.some((f) => f.kind === 'python')
  if (hasPython && Object.keys(opts.inline).length > 0) out.errors.push(inlineWithPython(opts.inline))
  // No spec line at all: the inline inputs are the spec ('' reads them alone, or says that nothing was given).
  const inlineOnly = yaml.length === 0 && !hasPython && !opts.specLines
  for (const file of inlineOnly ? [''] : yaml) readYaml(file, opts, out)
  if (opts.python) readPython(opts.python, opts, out)
  return out
}

function readYaml(file: string, opts: ReadOptions, out: ReadResult): void {
  try {
    const resolved = resolveSpec({
      specFile: file,
      inline: opts.inline,
      cwd: opts.cwd,
      hostArch: opts.hostArch,
    })
    out.warnings.push(...resolved.warnings)
    out.sources.push({
      kind: file ? 'yaml' : 'inline',
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

function readPython(python: ReaderOutput, opts: ReadOptions, out: ReadResult): void {
  const found = pythonSpecs(python)
  out.errors.push(...found.errors)
  for (const spec of found.specs) {
    try {
      const resolved = resolveFields(spec.fields, spec.locate, opts)
      out.warnings.push(...resolved.warnings)
      out.sources.push({
        kind: 'python',
        origin: spec.origin,
        file: spec.origin.replace(/:\d+$/, ''),
        spec: resolved.spec,
        locate: spec.locate,
        changedByInputs: false,
        locations: spec.locations,
      })
    } catch (err) {
      if (!(err instanceof SpecError)) throw err
      out.errors.push(...err.issues.map((i) => ({ ...i, location: i.location ?? spec.origin })))
    }
  }
}

/**
 * Inline inputs would change a spec that `pyflyte register` reads from the Python code as written: it would
 * compute another tag and find nothing.
 */
function inlineWithPython(inline: Record<string, string>): SpecIssue {
  const names = Object.keys(inline)
  return {
    path: '',
    location: `input '${names.join("', '")}'`,
    message:
      'inline ImageSpec inputs never apply to Python sources: pyflyte register reads the spec from the code and ' +
      'would compute another tag. Set the value in the code, or in an environment variable the code reads ' +
      '(os.environ.get) and that the register step has too',
  }
}
