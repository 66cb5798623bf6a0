/**
 * The dict flytekit hashes: `asdict(spec, dict_factory=...)` keeping the dataclass field order, dropping
 * top-level None values and the fields that never affect the image (builder, pip_secret_mounts,
 * runtime_packages). Only the top level is filtered: None inside env or a list stays and prints as `None`.
 * A nested base ImageSpec becomes a nested dict built by the same rule.
 */
import { PyDict, PyEnum, type PyValue } from '../pyvalues/values.js'
import { COPY_MODES, SPEC_FIELDS, YamlCopyMode, type ImageSpec, type SpecField } from '../spec/model.js'

const EXCLUDED = new Set<SpecField>(['pip_secret_mounts', 'builder', 'runtime_packages'])

/** Replacement values for some fields; a key present with `undefined` drops the field (Python None). */
export type Overrides = Partial<Record<SpecField, PyValue | undefined>>

export function specDict(spec: ImageSpec, overrides: Overrides = {}): PyDict {
  const dict = new PyDict()
  for (const field of SPEC_FIELDS) {
    if (EXCLUDED.has(field)) continue
    const value = Object.hasOwn(overrides, field) ? overrides[field] : fieldValue(spec, field)
    if (value !== undefined) dict.set(field, value)
  }
  return dict
}

function fieldValue(spec: ImageSpec, field: SpecField): PyValue | undefined {
  if (field === 'base_image') {
    const base = spec.base_image
    return base === undefined || typeof base === 'string' ? base : specDict(base)
  }
  if (field === 'source_copy_mode') {
    const mode = spec.source_copy_mode
    // A plain Enum member: repr is `<CopyFileDetection.ALL: 2>`; a YAML string stays a string.
    if (mode instanceof YamlCopyMode) return mode.text
    return mode === undefined ? undefined : new PyEnum('CopyFileDetection', mode, COPY_MODES[mode])
  }
  // Every other field already holds the Python value flytekit would hold (pip_secret_mounts is excluded).
  return spec[field] as PyValue | undefined
}
