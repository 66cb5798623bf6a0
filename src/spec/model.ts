import type { PyDict, PyValue } from '../pyvalues/values.js'

/** flytekit's CopyFileDetection members, with their enum values. */
export const COPY_MODES = { LOADED_MODULES: 1n, ALL: 2n, NO_COPY: 3n } as const
export type CopyMode = keyof typeof COPY_MODES

/**
 * source_copy_mode as a YAML file gives it: a plain string. `ImageSpec(**yaml.safe_load(f))` never turns it into
 * the CopyFileDetection enum, so flytekit hashes the string (`'ALL'`, not `<CopyFileDetection.ALL: 2>`), and since
 * a string equals neither NO_COPY nor LOADED_MODULES, any string copies and hashes every file, as ALL does.
 */
export class YamlCopyMode {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text
  }
}

/**
 * The ImageSpec dataclass fields of flytekit 1.16, in declaration order. The order is part of the tag: flytekit
 * hashes the repr of a dict built in this order.
 */
export const SPEC_FIELDS = [
  'name',
  'python_version',
  'builder',
  'source_root',
  'env',
  'registry',
  'packages',
  'conda_packages',
  'conda_channels',
  'requirements',
  'apt_packages',
  'cuda',
  'cudnn',
  'base_image',
  'platform',
  'pip_index',
  'pip_extra_index_url',
  'pip_secret_mounts',
  'pip_extra_args',
  'registry_config',
  'entrypoint',
  'commands',
  'tag_format',
  'source_copy_mode',
  'copy',
  'python_exec',
  'runtime_packages',
  'builder_options',
  'builder_config',
] as const
export type SpecField = (typeof SPEC_FIELDS)[number]

/**
 * A normalised ImageSpec: what flytekit holds after `ImageSpec(**yaml)` ran `__post_init__` (name and registry
 * lower-cased, platform defaulted, source_copy_mode defaulted when source_root is set). `undefined` is Python's
 * None. Fields flytekit never type-checks keep whatever Python value the YAML gave (PyValue), because that value
 * is what flytekit hashes.
 */
export interface ImageSpec {
  name: string
  python_version?: PyValue
  builder?: PyValue
  source_root?: string
  env?: PyDict
  registry?: string
  packages?: string[]
  conda_packages?: string[]
  conda_channels?: string[]
  requirements?: string
  apt_packages?: string[]
  cuda?: PyValue
  cudnn?: PyValue
  base_image?: string | ImageSpec
  platform: string
  pip_index?: PyValue
  pip_extra_index_url?: string[]
  pip_secret_mounts?: [string, string][]
  pip_extra_args?: PyValue
  registry_config?: PyValue
  entrypoint?: string[]
  commands?: string[]
  tag_format?: string
  /** The enum member (inline input, Python-made specs), or the raw string of a YAML file. */
  source_copy_mode?: CopyMode | YamlCopyMode
  copy?: string[]
  python_exec?: PyValue
  runtime_packages?: string[]
  builder_options?: PyDict
  builder_config?: PyDict
}
