import type { PyValue } from '../pyvalues/values.js'
import type { ImageSpec } from '../spec/model.js'
import { describeChar } from '../spec/characters.js'
import {
  codePointName,
  envNameObstacle,
  envValueObstacle,
  firstUnsafeChar,
  isImageReference,
  shQuote,
  type EnvValueObstacle,
} from './escape.js'
import type { Installer } from './install.js'
import { Issues, pyText, pyTruthy, shown } from './issues.js'
import { isLockMode, requirementsMode } from './requirements.js'
import { splitShellWords } from './shellwords.js'

/**
 * What flytekit's default builder refuses, plus what installer pip cannot do. Field-level quoting problems are
 * found by the helpers below as each value is placed.
 */
export function checkSpec(spec: ImageSpec, installer: Installer, issues: Issues): void {
  for (const field of ['cuda', 'cudnn'] as const) {
    if (spec[field] !== undefined) {
      issues.add(
        field,
        `the default builder cannot install ${field === 'cuda' ? 'CUDA' : 'cuDNN'}; remove it and use a CUDA base_image (e.g. nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04) instead`,
      )
    }
  }
  for (const field of ['conda_channels', 'conda_packages'] as const) {
    if (!pyTruthy(spec[field])) continue
    if (pyTruthy(spec.python_exec))
      issues.add(
        field,
        'is not supported with python_exec (conda needs the micromamba Python); remove one of them',
      )
    if (installer === 'pip')
      issues.add(
        field,
        "needs micromamba, which installer 'pip' does not use; use installer 'uv' or install the packages with pip",
      )
  }
  const mode = requirementsMode(spec)
  if (isLockMode(mode) && spec.packages !== undefined) {
    issues.add(
      'packages',
      `cannot be combined with a ${mode} requirements file (flytekit: mutually exclusive); add the packages to the project instead`,
    )
  }
}

/** Whether the source_root files are copied (as `src/`): source_copy_mode is set and is not NO_COPY. */
export function sourceCopyEnabled(spec: ImageSpec, issues: Issues): boolean {
  const mode = spec.source_copy_mode
  if (mode === undefined || mode === 'NO_COPY') return false
  if (!spec.source_root) issues.add('source_root', `must be set when source_copy_mode is ${mode}`)
  if (mode === 'LOADED_MODULES') {
    issues.add(
      'source_copy_mode',
      'LOADED_MODULES copies the modules a Python process imported, which only flytekit itself can list; use ALL or NO_COPY',
    )
  }
  return true
}

/**
 * PYTHONPATH=/root, then the user's env over it (a Python dict update), as text. Names and values are what
 * flytekit writes (`f"{k}={v}"`: a YAML `10:` key is the name 10, a null value the text None); the spec rules
 * warn about those. Only what the ENV line cannot carry is refused here, each time saying why.
 */
export function envEntries(spec: ImageSpec, issues: Issues): Map<string, string> {
  const env = new Map([['PYTHONPATH', '/root']])
  for (const [k, v] of spec.env ?? []) {
    const name = pyText(k)
    // A name with a line break is JSON-quoted in the path too, so the reported issue stays on one line.
    const path = `env.${firstUnsafeChar(name) === undefined ? name : shown(name)}`
    const nameObstacle = envNameObstacle(name)
    if (nameObstacle !== undefined) {
      issues.add(path, envNameMessage(nameObstacle))
      continue
    }
    const value = pyText(v)
    const valueObstacle = envValueObstacle(value)
    if (valueObstacle !== undefined) {
      issues.add(path, envValueMessage(valueObstacle))
      continue
    }
    env.set(name, value)
  }
  return env
}

function envNameMessage({ char, position }: { char: string; position: number }): string {
  const what =
    char === ''
      ? 'it is empty'
      : `it holds ${describeChar(char)} at position ${position}, ${
          position === 1 && ENV_NAME_LATER.test(char)
            ? 'which cannot start a name'
            : char.charCodeAt(0) < 0x80
              ? 'which BuildKit would split, quote or expand there'
              : 'and names are written in ASCII only'
        }`
  return `is not a valid environment variable name for a Dockerfile ENV line (${what}); use letters, digits and _ (after the first character also . - : @ % + , /)`
}

/** Characters a name may hold after its first one. */
const ENV_NAME_LATER = /[.:@%+,/-]/

function envValueMessage(o: EnvValueObstacle): string {
  const at = `contains ${describeChar(o.char)} at position ${o.position}`
  const fix = 'remove it, or set the variable when the container starts'
  switch (o.kind) {
    case 'line break':
      return `${at}, a line break, which no Dockerfile ENV value can hold (BuildKit reads the file line by line and has no escape for it); ${fix}`
    case 'NUL':
      return `${at}; no environment variable can hold NUL (it ends a C string); remove it`
    case 'surrogate':
      return `${at}; it cannot be written as UTF-8, remove it`
    case 'raw only':
      return `${at}, which a Dockerfile ENV value could only hold as the raw character: Docker has no escape for it, and the generated Dockerfile holds printable text only (it is printed in the build log, and editors and Dockerfile tools may take such a character for a line break); ${fix}`
  }
}

/** The install arguments flytekit builds: --index-url, one --extra-index-url each, then pip_extra_args. */
export function installArgs(spec: ImageSpec, issues: Issues): string[] {
  const args: string[] = []
  if (pyTruthy(spec.pip_index)) {
    const index = pyText(spec.pip_index as PyValue)
    if (issues.lineSafe('pip_index', index, 'RUN line')) args.push('--index-url', shQuote(index))
  }
  for (const [i, url] of (spec.pip_extra_index_url ?? []).entries()) {
    if (issues.lineSafe(`pip_extra_index_url[${i}]`, url, 'RUN line'))
      args.push('--extra-index-url', shQuote(url))
  }
  if (pyTruthy(spec.pip_extra_args)) args.push(...extraArgs(pyText(spec.pip_extra_args as PyValue), issues))
  return args
}

function extraArgs(text: string, issues: Issues): string[] {
  const split = splitShellWords(text)
  if ('error' in split) {
    issues.add('pip_extra_args', `${split.error}; quote arguments as a shell would`)
    return []
  }
  const safe = split.words.every((w) => issues.lineSafe('pip_extra_args', w, 'RUN line'))
  return safe ? split.words.map(shQuote) : []
}

/**
 * BuildKit reads `--mount=type=secret,id=…,target=<dst>` as CSV inside a flag word, so the target is limited to
 * path characters that mean nothing to either parser.
 */
const SECRET_TARGET = /^[A-Za-z0-9._/@+-]+$/

export function secretMounts(spec: ImageSpec, issues: Issues): string[] {
  return (spec.pip_secret_mounts ?? []).map(([, dst], i) => {
    if (!SECRET_TARGET.test(dst)) {
      issues.add(
        `pip_secret_mounts[${i}][1]`,
        `${shown(dst)} must be a path made of letters, digits and . _ / @ + - (it becomes a RUN --mount target)`,
      )
    }
    return `--mount=type=secret,id=secret_${i},target=${dst}`
  })
}

export interface CopyEntry {
  /** Position in `copy`. */
  index: number
  /** The entry as flytekit's `Path(p).as_posix()` spells it, relative to the working directory. */
  relPath: string
  /** Where writeBuildContext mirrors it in the build context. */
  contextPath: string
  /** Where it lands in the image: `/root/<path>`. */
  imagePath: string
}

/** Copy entries are mirrored under this folder of the context, apart from the Dockerfile and the generated files. */
export const COPY_DIR = 'copy'

/**
 * Characters refused in a copy path: BuildKit runs COPY sources through its variable lexer (`$`, quotes,
 * backslashes) and glob matcher (`*?[`) even in JSON form.
 */
const COPY_SPECIAL = /[\\$"'*?[]/

export function copyEntries(spec: ImageSpec, issues: Issues): CopyEntry[] {
  return (spec.copy ?? []).flatMap((raw, i): CopyEntry[] => {
    const path = `copy[${i}]`
    if (!issues.lineSafe(path, raw, 'COPY line')) return []
    const special = COPY_SPECIAL.exec(raw)
    if (special) {
      issues.add(
        path,
        `contains ${special[0]} (${codePointName(special[0])}), which BuildKit would expand or match as a pattern in COPY; rename the file or copy its parent folder`,
      )
      return []
    }
    const relPath = posixPathAsFlytekit(raw)
    if (relPath.startsWith('/') || relPath.split('/').includes('..')) {
      issues.add(
        path,
        `${shown(raw)} must be a path relative to the working directory, without '..' (flytekit refuses absolute paths and '..' in copy)`,
      )
      return []
    }
    const inRoot = relPath === '.' ? '' : `/${relPath}`
    return [{ index: i, relPath, contextPath: `${COPY_DIR}${inRoot}`, imagePath: `/root${inRoot}` }]
  })
}

/** Python's `PurePosixPath(p).as_posix()`: empty and `.` components dropped, `''` becomes `.`. */
function posixPathAsFlytekit(p: string): string {
  const absolute = p.startsWith('/')
  const parts = p.split('/').filter((c) => c !== '' && c !== '.')
  if (absolute) return `/${parts.join('/')}`
  return parts.length === 0 ? '.' : parts.join('/')
}

/**
 * An image for a helper stage: the option, else `builder_config[key]` (flytekit's `builder_config.get`), else
 * flytekit's default. Whatever is chosen must be a plain image reference.
 */
export function stageImage(
  spec: ImageSpec,
  key: string,
  override: string | undefined,
  fallback: string,
  issues: Issues,
): string {
  if (override !== undefined) return checkImage(key, override, issues)
  const configured = spec.builder_config?.get(key)
  if (configured === undefined) return fallback
  if (typeof configured !== 'string') {
    issues.add(`builder_config.${key}`, 'must be an image reference string')
    return fallback
  }
  return checkImage(`builder_config.${key}`, configured, issues)
}

/** `ref` if it is an image reference (no variables, flags or spaces can then reach the FROM line). */
export function checkImage(path: string, ref: string, issues: Issues): string {
  if (!isImageReference(ref)) {
    issues.add(
      path,
      `${shown(ref)} is not a valid image reference (e.g. debian:bookworm-slim or ghcr.io/org/image:tag)`,
    )
  }
  return ref
}
