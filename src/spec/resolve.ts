import { readFileSync } from 'node:fs'
import path from 'node:path'
import { SpecError, type SpecIssue } from '../errors.js'
import { isPyDict, PyDict, type PyValue } from '../pyvalues/values.js'
import { constructImageSpec } from './construct.js'
import { inlineFields } from './inline.js'
import type { ImageSpec } from './model.js'
import { runRules } from './rules.js'
import { checkShape } from './schema.js'
import { loadYaml11 } from './yaml11.js'

/**
 * spec file + inline inputs -> a validated, normalised ImageSpec. Every problem of every field (nested base specs
 * included) is collected in one pass and reported together, each with the field path and where its value came
 * from (`imagespec.yaml:12` or `input 'packages'`).
 */
export interface ResolveOptions {
  /** Path of the ImageSpec YAML file, relative to cwd; empty when only inline inputs are used. */
  specFile?: string
  /** Raw inline inputs by input name (only the non-empty ones matter). */
  inline: Record<string, string>
  /** Working directory: relative paths in the spec are resolved here, as pyflyte resolves them. */
  cwd: string
  /** `os.arch()` of the runner: flytekit defaults localhost registries to linux/arm64 on arm64 hosts. */
  hostArch: string
}

export interface ResolvedSpec {
  spec: ImageSpec
  warnings: string[]
  /** Where a field path such as `env.FOO` or `base_image.packages[2]` came from (`imagespec.yaml:7`, `input 'env'`). */
  locate(path: string): string | undefined
}

/** `base_image.packages[2]` -> ['base_image', 'packages', 2]. */
export function parsePath(path: string): (string | number)[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) =>
    m[2] !== undefined ? Number(m[2]) : (m[1] as string),
  )
}

type Locate = (p: (string | number)[]) => string | undefined

export function formatPath(p: (string | number)[]): string {
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('')
}

function loadFile(
  specFile: string,
  cwd: string,
): { fields: Map<string, PyValue>; locate: Locate; warnings: string[] } {
  const full = path.resolve(cwd, specFile)
  let text: string
  try {
    text = readFileSync(full, 'utf8')
  } catch {
    throw new SpecError([
      {
        path: 'spec',
        message: `file '${specFile}' not found (relative to ${cwd}); check the 'spec' input and that the file is checked out`,
      },
    ])
  }
  const doc = loadYaml11(text, specFile)
  if (doc.value === null) return { fields: new Map(), locate: doc.locate, warnings: doc.warnings }
  if (!isPyDict(doc.value)) {
    throw new SpecError([
      {
        path: 'spec',
        location: specFile,
        message: 'the file must hold a YAML mapping of ImageSpec fields (name: ..., packages: [...])',
      },
    ])
  }
  return { fields: toFieldMap(doc.value), locate: doc.locate, warnings: doc.warnings }
}

/** flytekit calls ImageSpec(**d): keys must be strings. Non-string keys are kept under a printable name and rejected by the schema. */
function toFieldMap(d: PyDict): Map<string, PyValue> {
  const out = new Map<string, PyValue>()
  for (const [k, val] of d) out.set(typeof k === 'string' ? k : String(k), val)
  return out
}

interface Collected {
  errors: SpecIssue[]
  warnings: string[]
}

/** Checks one spec level and, recursively, a nested base_image spec. */
function checkLevel(
  fields: Map<string, PyValue>,
  prefix: (string | number)[],
  locate: Locate,
  cwd: string,
  out: Collected,
): void {
  const where = (p: (string | number)[]) => locate([...prefix, ...p])
  const shapeIssues = checkShape(fields)
  for (const issue of shapeIssues) {
    out.errors.push({
      path: formatPath([...prefix, ...issue.path]),
      location: where(issue.path),
      message: issue.message,
    })
  }
  const badFields = new Set(shapeIssues.map((i) => String(i.path[0])))
  // Rules only see fields whose shape is right, so one mistake is reported once.
  const clean = new Map([...fields].filter(([k]) => !badFields.has(k)))
  for (const issue of runRules({ fields: clean, cwd })) {
    const full = {
      path: formatPath([...prefix, ...issue.path]),
      location: where(issue.path),
      message: issue.message,
    }
    if (issue.severity === 'warning')
      out.warnings.push(`${full.location ? `${full.location}: ` : ''}${full.path} ${full.message}`)
    else out.errors.push(full)
  }
  const base = clean.get('base_image')
  if (isPyDict(base)) checkLevel(toFieldMap(base), [...prefix, 'base_image'], locate, cwd, out)
}

export function resolveSpec(opts: ResolveOptions): ResolvedSpec {
  const file = opts.specFile ? loadFile(opts.specFile, opts.cwd) : undefined
  const inline = inlineFields(opts.inline)
  if (!file && inline.fields.size === 0) {
    throw new SpecError([
      {
        path: 'spec',
        message:
          "no ImageSpec given: set the 'spec' input to your workflows' Python files or folder, or a YAML spec file, or " +
          "inline inputs such as 'name' and 'packages'",
      },
    ])
  }
  const fields = new Map<string, PyValue>(file?.fields ?? [])
  for (const [field, value] of inline.fields) fields.set(field, value)
  const locate: Locate = (p) => {
    const input = typeof p[0] === 'string' ? inline.inputOf.get(p[0] as never) : undefined
    if (input) return `input '${input}'`
    const at = file?.locate(p)
    return at
  }
  const out: Collected = {
    errors: inline.issues.map((i) => ({ path: i.input, location: `input '${i.input}'`, message: i.message })),
    warnings: [...(file?.warnings ?? [])],
  }
  return checked(fields, locate, opts, out)
}

/**
 * An ImageSpec from fields another source read (Python code): the same checks and construction as a YAML file's,
 * problems located by `locate`.
 */
export function resolveFields(
  fields: Map<string, PyValue>,
  locate: (path: string) => string | undefined,
  opts: Pick<ResolveOptions, 'cwd' | 'hostArch'>,
): ResolvedSpec {
  return checked(fields, (p) => locate(formatPath(p)), opts, { errors: [], warnings: [] })
}

function checked(
  fields: Map<string, PyValue>,
  locate: Locate,
  opts: Pick<ResolveOptions, 'cwd' | 'hostArch'>,
  out: Collected,
): ResolvedSpec {
  checkLevel(fields, [], locate, opts.cwd, out)
  if (out.errors.length > 0) throw new SpecError(out.errors)
  let spec: ImageSpec
  try {
    spec = constructImageSpec(fields, { hostArch: opts.hostArch })
  } catch (err) {
    if (!(err instanceof SpecError)) throw err
    throw new SpecError(err.issues.map((i) => ({ ...i, location: i.location ?? locate(parsePath(i.path)) })))
  }
  return { spec, warnings: out.warnings, locate: (path) => locate(parsePath(path)) }
}
