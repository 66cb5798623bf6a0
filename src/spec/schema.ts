import * as v from 'valibot'
import { PyDict, PyEnum, PyTuple, type PyValue } from '../pyvalues/values.js'
import { describeOddChars, editDistance, nonAsciiChars } from './characters.js'
import { SPEC_FIELDS, type SpecField } from './model.js'

/**
 * The shape of an ImageSpec as flytekit accepts it from `yaml.safe_load` + `ImageSpec(**d)`, one schema entry per
 * dataclass field, each with the description the error messages and the README use. Only what flytekit (or its
 * default builder) refuses is refused here: fields flytekit never type-checks (python_version, cuda, pip_index…)
 * accept any scalar, because whatever YAML produced is what flytekit hashes.
 */

const listOfStrings = (field: string) =>
  v.array(
    v.string(`${field} must be a list of strings: quote items that YAML reads as numbers or booleans`),
    `${field} must be a list of strings, e.g. ["a", "b"] (in YAML, one '- item' per line)`,
  )

const scalar = (field: string) =>
  v.union(
    [v.string(), v.bigint(), v.number(), v.boolean()],
    `${field} must be a single value, not a list or mapping: write one value, e.g. "3.11"`,
  )

const mapping = (field: string) => v.instance(PyDict, `${field} must be a mapping of KEY: value pairs`)

const str = (field: string, hint = '') =>
  v.string(`${field} must be a string${hint}; quote it (YAML reads unquoted numbers and true/false as such)`)

export interface FieldDoc {
  description: string
  /** The action input that overrides it, when there is one. */
  input?: string
}

export const FIELD_DOCS: Record<SpecField, FieldDoc> = {
  name: {
    description: 'Image repository name (lower-cased, as flytekit does). Default "flytekit".',
    input: 'name',
  },
  python_version: {
    description: 'Python version installed with micromamba, e.g. "3.11" (quote it).',
    input: 'python-version',
  },
  builder: { description: 'flytekit builder name. Not part of the tag; this action always builds itself.' },
  source_root: {
    description: 'Folder whose files are copied to /root (with source_copy_mode).',
    input: 'source-root',
  },
  env: { description: 'Environment variables of the image.', input: 'env' },
  registry: {
    description: 'Registry (and path) the image is pushed to, e.g. ghcr.io/my-org.',
    input: 'registry',
  },
  packages: { description: 'Python packages to install.', input: 'packages' },
  conda_packages: { description: 'Conda packages installed with micromamba.', input: 'conda-packages' },
  conda_channels: { description: 'Conda channels for conda_packages.', input: 'conda-channels' },
  requirements: { description: 'requirements.txt, uv.lock or poetry.lock path.', input: 'requirements' },
  apt_packages: { description: 'Debian packages installed with apt-get.', input: 'apt-packages' },
  cuda: { description: 'CUDA version (envd builder only: rejected here).' },
  cudnn: { description: 'cuDNN version (envd builder only: rejected here).' },
  base_image: { description: 'Base image, or a nested ImageSpec mapping built first.', input: 'base-image' },
  platform: { description: 'Target platform, e.g. linux/amd64.', input: 'platform' },
  pip_index: { description: 'Package index URL (--index-url).', input: 'pip-index' },
  pip_extra_index_url: { description: 'Extra package index URLs.', input: 'pip-extra-index-url' },
  pip_secret_mounts: {
    description: 'Secrets mounted during install (Python API only; use the secrets input).',
  },
  pip_extra_args: { description: 'Extra arguments for the package installer.', input: 'pip-extra-args' },
  registry_config: { description: 'envd registry config path (ignored by this builder).' },
  entrypoint: { description: 'Image ENTRYPOINT, as a list.', input: 'entrypoint' },
  commands: { description: 'Shell commands run after installing packages.', input: 'commands' },
  tag_format: { description: 'Tag template, e.g. "{spec_hash}-dev".', input: 'tag-format' },
  source_copy_mode: { description: 'How source_root is copied: ALL or NO_COPY.', input: 'source-copy-mode' },
  copy: { description: 'Relative paths copied to /root/<path>.', input: 'copy' },
  python_exec: {
    description: 'Use this existing Python interpreter instead of micromamba.',
    input: 'python-exec',
  },
  runtime_packages: { description: 'Packages flytekit installs when a task starts (not at build time).' },
  builder_options: { description: 'Options for other builders (kept in the tag).' },
  builder_config: { description: 'Builder settings: uv_image, micromamba_image.' },
}

/** The schema of one spec level; `base_image` may hold a nested spec, checked by the caller with the same schema. */
export const specSchema = v.strictObject(
  {
    name: v.optional(v.nullable(str('name'))),
    python_version: v.optional(v.nullable(scalar('python_version'))),
    builder: v.optional(v.nullable(scalar('builder'))),
    source_root: v.optional(v.nullable(str('source_root', ' (a folder path)'))),
    env: v.optional(v.nullable(mapping('env'))),
    registry: v.optional(v.nullable(str('registry'))),
    packages: v.optional(v.nullable(listOfStrings('packages'))),
    conda_packages: v.optional(v.nullable(listOfStrings('conda_packages'))),
    conda_channels: v.optional(v.nullable(listOfStrings('conda_channels'))),
    requirements: v.optional(v.nullable(str('requirements', ' (a file path)'))),
    apt_packages: v.optional(v.nullable(listOfStrings('apt_packages'))),
    cuda: v.optional(v.nullable(scalar('cuda'))),
    cudnn: v.optional(v.nullable(scalar('cudnn'))),
    base_image: v.optional(
      v.nullable(
        v.union(
          [v.string(), mapping('base_image')],
          'base_image must be an image name or a nested ImageSpec mapping: write an image such as python:3.11-slim, or the fields of a base ImageSpec',
        ),
      ),
    ),
    platform: v.optional(v.nullable(str('platform', ' such as linux/amd64'))),
    pip_index: v.optional(v.nullable(scalar('pip_index'))),
    pip_extra_index_url: v.optional(v.nullable(listOfStrings('pip_extra_index_url'))),
    pip_secret_mounts: v.optional(
      v.nullable(
        v.array(
          v.custom<PyTuple>(
            (x) =>
              x instanceof PyTuple && x.items.length === 2 && x.items.every((i) => typeof i === 'string'),
            'pip_secret_mounts must be a list of (source, target) tuples, which YAML cannot express; pass build secrets with the action input `secrets` instead',
          ),
        ),
      ),
    ),
    pip_extra_args: v.optional(v.nullable(scalar('pip_extra_args'))),
    registry_config: v.optional(v.nullable(scalar('registry_config'))),
    entrypoint: v.optional(v.nullable(listOfStrings('entrypoint'))),
    commands: v.optional(v.nullable(listOfStrings('commands'))),
    tag_format: v.optional(v.nullable(str('tag_format', ' containing {spec_hash}'))),
    source_copy_mode: v.optional(
      v.nullable(v.union([v.string(), v.instance(PyEnum)], 'source_copy_mode must be ALL or NO_COPY')),
    ),
    copy: v.optional(v.nullable(listOfStrings('copy'))),
    python_exec: v.optional(v.nullable(scalar('python_exec'))),
    runtime_packages: v.optional(v.nullable(listOfStrings('runtime_packages'))),
    builder_options: v.optional(v.nullable(mapping('builder_options'))),
    builder_config: v.optional(v.nullable(mapping('builder_config'))),
  },
  `unknown field: valid ImageSpec fields are ${SPEC_FIELDS.join(', ')}`,
)

export interface SchemaIssue {
  path: (string | number)[]
  message: string
}

/**
 * Type-checks one spec level (a Map of field -> value as loaded) and returns every problem found, one for each
 * unknown key (valibot's strictObject stops at the first).
 */
export function checkShape(fields: Map<string, PyValue>): SchemaIssue[] {
  const plain: Record<string, unknown> = {}
  const unknown: SchemaIssue[] = []
  for (const [k, val] of fields) {
    if (FIELD_SET.has(k)) plain[k] = val
    else unknown.push({ path: [k], message: unknownFieldMessage(k) })
  }
  const result = v.safeParse(specSchema, plain)
  const issues = result.success
    ? []
    : result.issues.map((issue) => ({
        path: (issue.path ?? []).map((p) => p.key as string | number),
        message: issue.message,
      }))
  return [...unknown, ...issues]
}

const FIELD_SET = new Set<string>(SPEC_FIELDS)

/**
 * `unknown field; did you mean packages?`, naming any look-alike or invisible character in the key, which is
 * the usual reason a key that reads right is unknown.
 */
function unknownFieldMessage(key: string): string {
  const odd = nonAsciiChars(key)
  const why = odd.length > 0 ? `: ${describeOddChars(key, odd)}` : ''
  const guess = closestField(key)
  if (guess) return `unknown field${why}; did you mean ${guess}?`
  return `unknown field${why}; valid ImageSpec fields are ${SPEC_FIELDS.join(', ')}`
}

/** The field a misspelt key most likely meant: the closest by edit distance (case and - vs _ ignored), if close. */
function closestField(key: string): string | undefined {
  const normal = key.toLowerCase().replaceAll('-', '_')
  let best: { field: string; distance: number } | undefined
  for (const field of SPEC_FIELDS) {
    const distance = editDistance(normal, field)
    if (!best || distance < best.distance) best = { field, distance }
  }
  if (!best) return undefined
  const allowed = Math.min(2, Math.max(1, Math.floor(best.field.length / 4)))
  return best.distance <= allowed ? best.field : undefined
}
