import { PyDict, PyEnum, type PyValue } from '../pyvalues/values.js'
import { COPY_MODES, type SpecField } from './model.js'

/**
 * The action inputs that set ImageSpec fields, and how each input's text becomes the field's value. Inline
 * values are always strings (as in a Python ImageSpec), so `python-version: 3.10` is the string '3.10' here even
 * though an unquoted 3.10 in a YAML file is the number 3.1.
 */
type Kind = 'string' | 'list' | 'env' | 'copy-mode'

export const INLINE_FIELDS: Record<string, { field: SpecField; kind: Kind }> = {
  name: { field: 'name', kind: 'string' },
  registry: { field: 'registry', kind: 'string' },
  'base-image': { field: 'base_image', kind: 'string' },
  'python-version': { field: 'python_version', kind: 'string' },
  packages: { field: 'packages', kind: 'list' },
  requirements: { field: 'requirements', kind: 'string' },
  'apt-packages': { field: 'apt_packages', kind: 'list' },
  'conda-packages': { field: 'conda_packages', kind: 'list' },
  'conda-channels': { field: 'conda_channels', kind: 'list' },
  env: { field: 'env', kind: 'env' },
  commands: { field: 'commands', kind: 'list' },
  'pip-index': { field: 'pip_index', kind: 'string' },
  'pip-extra-index-url': { field: 'pip_extra_index_url', kind: 'list' },
  'pip-extra-args': { field: 'pip_extra_args', kind: 'string' },
  platform: { field: 'platform', kind: 'string' },
  entrypoint: { field: 'entrypoint', kind: 'list' },
  copy: { field: 'copy', kind: 'list' },
  'source-root': { field: 'source_root', kind: 'string' },
  'source-copy-mode': { field: 'source_copy_mode', kind: 'copy-mode' },
  'tag-format': { field: 'tag_format', kind: 'string' },
  'python-exec': { field: 'python_exec', kind: 'string' },
}

export interface InlineResult {
  fields: Map<SpecField, PyValue>
  /** Which input set each field, for error messages. */
  inputOf: Map<SpecField, string>
  issues: { input: string; message: string }[]
}

/** One item per line; blank lines and lines starting with '#' are skipped, surrounding spaces trimmed. */
export function parseLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
}

function parseEnv(text: string, issues: InlineResult['issues']): PyDict {
  const env = new PyDict()
  for (const line of parseLines(text)) {
    const eq = line.indexOf('=')
    if (eq <= 0) {
      issues.push({
        input: 'env',
        message: `'${line}' is not KEY=VALUE; write one variable per line, e.g. LOG_LEVEL=debug`,
      })
      continue
    }
    env.set(line.slice(0, eq).trim(), line.slice(eq + 1))
  }
  return env
}

function parseCopyMode(text: string, issues: InlineResult['issues']): PyEnum | undefined {
  const name = text.trim().toUpperCase()
  if (name in COPY_MODES)
    return new PyEnum('CopyFileDetection', name, COPY_MODES[name as keyof typeof COPY_MODES])
  issues.push({
    input: 'source-copy-mode',
    message: `'${text.trim()}' is not a copy mode; use ALL or NO_COPY`,
  })
  return undefined
}

/** Turns the non-empty inline inputs (input name -> raw text) into spec fields. */
export function inlineFields(raw: Record<string, string>): InlineResult {
  const result: InlineResult = { fields: new Map(), inputOf: new Map(), issues: [] }
  for (const [input, text] of Object.entries(raw)) {
    const def = INLINE_FIELDS[input]
    if (!def || text.trim() === '') continue
    let value: PyValue | undefined
    if (def.kind === 'string') value = text.trim()
    else if (def.kind === 'list') value = parseLines(text)
    else if (def.kind === 'env') value = parseEnv(text, result.issues)
    else value = parseCopyMode(text, result.issues)
    if (value === undefined) continue
    result.fields.set(def.field, value)
    result.inputOf.set(def.field, input)
  }
  return result
}
