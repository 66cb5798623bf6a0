/**
 * `ImageSpec(**fields)` without Python: the dataclass defaults plus what `__post_init__` does to the values
 * before anything is hashed (flytekit/image_spec/image_spec.py, v1.16):
 *   - `name` and a non-empty `registry` are lower-cased, and the registry must look like one;
 *   - `platform` defaults to linux/amd64, or linux/arm64 for a `localhost:` registry on an arm64 host;
 *   - `source_copy_mode` defaults to LOADED_MODULES whenever `source_root` is set.
 * A `base_image` mapping is built into a nested ImageSpec the same way. Field types are checked elsewhere;
 * a value of the wrong type still ends in a SpecError here rather than a crash.
 */
import { SpecError, type SpecIssue } from '../errors.js'
import { PyDict, PyEnum, PyTuple, type PyValue } from '../pyvalues/values.js'
import {
  COPY_MODES,
  SPEC_FIELDS,
  YamlCopyMode,
  type CopyMode,
  type ImageSpec,
  type SpecField,
} from './model.js'

export interface ConstructOptions {
  /** `os.arch()` of the machine: flytekit looks at `platform.machine()` for the platform default. */
  hostArch: string
}

const FIELD_SET = new Set<string>(SPEC_FIELDS)

/** Fields `__post_init__` requires to be None or a list of str (flytekit raises ValueError otherwise). */
const STRING_LIST_FIELDS = [
  'packages',
  'conda_packages',
  'conda_channels',
  'apt_packages',
  'pip_extra_index_url',
  'entrypoint',
  'commands',
  'copy',
  'runtime_packages',
] as const satisfies readonly SpecField[]

/** Fields flytekit never type-checks: whatever YAML gave is kept, and hashed as that Python value. */
const PASS_THROUGH_FIELDS = [
  'python_version',
  'builder',
  'cuda',
  'cudnn',
  'pip_index',
  'pip_extra_args',
  'registry_config',
  'python_exec',
] as const satisfies readonly SpecField[]

const DICT_FIELDS = ['env', 'builder_options', 'builder_config'] as const satisfies readonly SpecField[]

export function constructImageSpec(fields: Map<string, PyValue>, opts: ConstructOptions): ImageSpec {
  const reader = new FieldReader(fields)
  const unknown = [...fields.keys()].filter((k) => !FIELD_SET.has(k))
  for (const key of unknown) reader.issue(key, 'is not an ImageSpec field (flytekit raises TypeError for it)')

  const registry = normaliseRegistry(reader)
  const spec: ImageSpec = {
    name: reader.str('name', 'flytekit').toLowerCase(),
    platform: reader.optStr('platform') ?? defaultPlatform(registry, opts.hostArch),
  }
  if (registry !== undefined) spec.registry = registry
  assignOptional(spec, reader)
  const baseImage = constructBaseImage(reader, opts)
  if (baseImage !== undefined) spec.base_image = baseImage
  const copyMode = copyModeOf(reader)
  // `self.source_copy_mode = self.source_copy_mode or CopyFileDetection.LOADED_MODULES` when source_root is set.
  if (copyMode !== undefined) spec.source_copy_mode = copyMode
  else if (spec.source_root !== undefined) spec.source_copy_mode = 'LOADED_MODULES'
  const mounts = secretMounts(reader)
  if (mounts !== undefined) spec.pip_secret_mounts = mounts
  reader.throwIfIssues()
  return spec
}

function assignOptional(spec: ImageSpec, reader: FieldReader): void {
  for (const field of PASS_THROUGH_FIELDS) {
    const v = reader.get(field)
    if (v !== undefined) spec[field] = v
  }
  for (const field of STRING_LIST_FIELDS) {
    const v = reader.strList(field)
    if (v !== undefined) spec[field] = v
  }
  for (const field of DICT_FIELDS) {
    const v = reader.dict(field)
    if (v !== undefined) spec[field] = v
  }
  for (const field of ['source_root', 'requirements', 'tag_format'] as const) {
    const v = reader.optStr(field)
    if (v !== undefined) spec[field] = v
  }
}

// flytekit's validate_container_registry_name, with Python's Unicode `\d` and `\w`, and `$` also matching
// before a final newline.
export const REGISTRY_RE =
  /^(localhost:\p{Nd}{1,5}|([a-z\p{Nd}._-]+)(:\p{Nd}{1,5})?)(\/[\p{L}\p{N}_.-]+)*\n?$/u

/** A truthy registry is lower-cased and validated; `""` is kept as is (and still hashed). */
function normaliseRegistry(reader: FieldReader): string | undefined {
  const registry = reader.optStr('registry')
  if (!registry) return registry
  const lower = registry.toLowerCase()
  if (!REGISTRY_RE.test(lower)) {
    reader.issue(
      'registry',
      `'${lower}' is not a valid container registry; expected e.g. 'localhost:30000', 'ghcr.io/username' or 'docker.io/username'`,
    )
  }
  return lower
}

/** Since flytekit 1.16.4: linux/arm64 only for a `localhost:` registry on an arm64 machine. */
function defaultPlatform(registry: string | undefined, hostArch: string): string {
  const arm = hostArch === 'arm64' || hostArch === 'aarch64'
  return arm && registry?.startsWith('localhost:') ? 'linux/arm64' : 'linux/amd64'
}

function constructBaseImage(reader: FieldReader, opts: ConstructOptions): string | ImageSpec | undefined {
  const base = reader.get('base_image')
  if (base === undefined || typeof base === 'string') return base
  if (!(base instanceof PyDict)) {
    reader.issue('base_image', 'must be an image name or a mapping of ImageSpec fields')
    return undefined
  }
  const nested = new Map<string, PyValue>()
  for (const [k, v] of base) {
    if (typeof k === 'string') nested.set(k, v)
    else reader.issue('base_image', `has a non-string key ${String(k)}`)
  }
  try {
    return constructImageSpec(nested, opts)
  } catch (e) {
    if (!(e instanceof SpecError)) throw e
    for (const i of e.issues) reader.issues.push({ ...i, path: `base_image.${i.path}` })
    return undefined
  }
}

/**
 * The CopyFileDetection enum member itself, or a plain string as a YAML file gives it, which flytekit keeps as
 * a string (see YamlCopyMode).
 */
function copyModeOf(reader: FieldReader): CopyMode | YamlCopyMode | undefined {
  const v = reader.get('source_copy_mode')
  if (v === undefined) return undefined
  if (typeof v === 'string') return new YamlCopyMode(v)
  if (v instanceof PyEnum && Object.hasOwn(COPY_MODES, v.name)) return v.name as CopyMode
  reader.issue('source_copy_mode', `must be one of ${Object.keys(COPY_MODES).join(', ')}`)
  return undefined
}

/** `(src, dst)` pairs; flytekit wants tuples, which YAML cannot write, so 2-item lists are taken too. */
function secretMounts(reader: FieldReader): [string, string][] | undefined {
  const v = reader.get('pip_secret_mounts')
  if (v === undefined) return undefined
  const items = Array.isArray(v) ? v : []
  const mounts = items.map((item) => (item instanceof PyTuple ? item.items : item))
  if (!Array.isArray(v) || !mounts.every(isStringPair)) {
    reader.issue('pip_secret_mounts', 'must be a list of [source, target] pairs of strings')
    return undefined
  }
  return mounts as [string, string][]
}

function isStringPair(v: PyValue): boolean {
  return Array.isArray(v) && v.length === 2 && v.every((s) => typeof s === 'string')
}

/** Reads fields, treating an explicit None like an absent field, and collects every problem. */
class FieldReader {
  readonly issues: SpecIssue[] = []

  constructor(private readonly fields: Map<string, PyValue>) {}

  get(field: SpecField): PyValue | undefined {
    const v = this.fields.get(field)
    return v === null ? undefined : v
  }

  issue(path: string, message: string): void {
    this.issues.push({ path, message })
  }

  /** A required string; None is an error (flytekit would call None.lower()). */
  str(field: SpecField, fallback: string): string {
    if (!this.fields.has(field)) return fallback
    const v = this.fields.get(field)
    if (typeof v === 'string') return v
    this.issue(field, 'must be a string')
    return fallback
  }

  optStr(field: SpecField): string | undefined {
    const v = this.get(field)
    if (v === undefined || typeof v === 'string') return v
    this.issue(field, 'must be a string')
    return undefined
  }

  strList(field: SpecField): string[] | undefined {
    const v = this.get(field)
    if (v === undefined) return undefined
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[]
    this.issue(field, 'must be a list of strings')
    return undefined
  }

  dict(field: SpecField): PyDict | undefined {
    const v = this.get(field)
    if (v === undefined || v instanceof PyDict) return v
    this.issue(field, 'must be a mapping')
    return undefined
  }

  throwIfIssues(): void {
    if (this.issues.length > 0) throw new SpecError(this.issues)
  }
}
