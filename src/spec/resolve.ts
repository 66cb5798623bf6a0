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
  const text = readSpecText(specFile, cwd)
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

/**
 * The spec file as text, or an error that says what is really wrong with it: missing, a folder, unreadable,
 * or not UTF-8 (flytekit opens it as text in the runner's UTF-8 locale, so a UTF-16 file saved by a Windows
 * editor is a UnicodeDecodeError there).
 */
function readSpecText(specFile: string, cwd: string): string {
  const full = path.resolve(cwd, specFile)
  const problem = (message: string): never => {
    throw new SpecError([{ path: 'spec', location: specFile, message }])
  }
  let bytes: Buffer
  try {
    bytes = readFileSync(full)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EISDIR') {
      return problem(
        `'${specFile}' is a folder, not a spec file; name a YAML file in it (e.g. ${path.posix.join(specFile, 'imagespec.yaml')})`,
      )
    }
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return problem(
        `file '${specFile}' not found (relative to ${cwd}); check the 'spec' input and that the file is checked out`,
      )
    }
    return problem(`file '${specFile}' cannot be read (${code ?? errorText(err)}); check its permissions`)
  }
  const encoding = wideEncoding(bytes)
  if (encoding) return problem(`'${specFile}' is ${encoding}; save it as UTF-8`)
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    const at = firstInvalidUtf8(bytes)
    const line = bytes.subarray(0, at).filter((b) => b === 0x0a).length + 1
    const byte = (bytes[at] ?? 0).toString(16).toUpperCase().padStart(2, '0')
    throw new SpecError([
      {
        path: 'spec',
        location: `${specFile}:${line}`,
        message: `'${specFile}' is not UTF-8 (byte 0x${byte} on this line; Latin-1 or Windows-1252 text?); save it as UTF-8`,
      },
    ])
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * UTF-16 or UTF-32, by the byte order mark or, without one, by the NUL bytes every ASCII character then has
 * next to it (a YAML file starts with ASCII: a key, a comment or `---`).
 */
function wideEncoding(bytes: Buffer): string | undefined {
  const [b0, b1, b2, b3] = bytes
  if (b0 === 0x00 && b1 === 0x00 && b2 === 0xfe && b3 === 0xff)
    return 'UTF-32 (big-endian, with a byte order mark)'
  if (b0 === 0xff && b1 === 0xfe && b2 === 0x00 && b3 === 0x00)
    return 'UTF-32 (little-endian, with a byte order mark)'
  if (b0 === 0xfe && b1 === 0xff) return 'UTF-16 (big-endian, with a byte order mark)'
  if (b0 === 0xff && b1 === 0xfe) return 'UTF-16 (little-endian, with a byte order mark)'
  if (bytes.length < 4) return undefined
  if (b0 !== 0 && b1 === 0 && b2 === 0 && b3 === 0) return 'UTF-32 (little-endian)'
  if (b0 === 0 && b1 === 0 && b2 === 0 && b3 !== 0) return 'UTF-32 (big-endian)'
  if (b0 !== 0 && b1 === 0 && b2 !== 0 && b3 === 0) return 'UTF-16 (little-endian)'
  if (b0 === 0 && b1 !== 0 && b2 === 0 && b3 !== 0) return 'UTF-16 (big-endian)'
  return undefined
}

/** The offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Buffer): number {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  // Sequence by sequence: the lead byte gives the length, the decoder checks the rest (overlong forms, surrogates).
  let i = 0
  while (i < bytes.length) {
    const b = bytes[i] as number
    const length =
      b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0
    if (length === 0 || i + length > bytes.length) return i
    try {
      decoder.decode(bytes.subarray(i, i + length))
    } catch {
      return i
    }
    i += length
  }
  return i
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
      location: where(issue.path) ?? (issue.at ? where(issue.at) : undefined),
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
