import path from 'node:path'
import { pyStrip } from '../pyvalues/str-methods.js'
import type { ImageSpec } from '../spec/model.js'

/**
 * How the Python packages are described, from the basename of `requirements` as flytekit decides: exactly
 * `uv.lock` or `poetry.lock` selects a lock-file install, anything else is read as requirements.txt lines. One
 * addition: flytekit reads a `pyproject.toml` as requirement lines too and fails on it; here exactly
 * `pyproject.toml` installs the project's dependencies (see pyproject.ts). The tag is the same either way.
 */
export type RequirementsMode = 'requirements' | 'pyproject.toml' | 'uv.lock' | 'poetry.lock'

export function requirementsMode(spec: ImageSpec): RequirementsMode {
  if (!spec.requirements) return 'requirements'
  const base = path.posix.basename(spec.requirements)
  return base === 'uv.lock' || base === 'poetry.lock' || base === PYPROJECT_FILE ? base : 'requirements'
}

/** A lock-file install (uv sync, poetry install, or pip with the locked versions as constraints). */
export function isLockMode(mode: RequirementsMode): mode is 'uv.lock' | 'poetry.lock' {
  return mode === 'uv.lock' || mode === 'poetry.lock'
}

/** The file the package list is written to in the build context (flytekit's name, kept for both installers). */
export const REQUIREMENTS_FILE = 'requirements_uv.txt'
/** Pinned versions derived from a lock file when pip installs it. */
export const CONSTRAINTS_FILE = 'constraints.txt'
/** The project file, in the build context as in the project (uv reads it by this name). */
export const PYPROJECT_FILE = 'pyproject.toml'

/**
 * flytekit's `[line.strip() for line in f.readlines()]`: text-mode universal newlines (LF, CRLF and CR end a line;
 * U+2028 does not), each line stripped of Python whitespace, blank and comment lines kept.
 */
export function requirementFileLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/)
  // readlines() gives no empty last element for a file that ends with a newline (or for an empty file).
  if (lines[lines.length - 1] === '') lines.pop()
  return lines.map(pyStrip)
}

// flytekit's `_PACKAGE_NAME_RE = re.compile(r"^[\w-]+")`; Python's `\w` is Unicode.
const PACKAGE_NAME = /^[\p{L}\p{N}_-]+/u
/** Names that already bring flytekit: flytekit itself, and union (which depends on it). */
const FLYTEKIT_PROVIDERS = new Set(['flytekit', 'union'])

/** flytekit's `_is_flytekit`, extended to `union`: the leading name must match exactly (case-sensitive). */
export function providesFlytekit(requirement: string): boolean {
  const name = PACKAGE_NAME.exec(requirement)?.[0]
  return name !== undefined && FLYTEKIT_PROVIDERS.has(name)
}

/**
 * The content of requirements_uv.txt as flytekit writes it: requirement-file lines, then `packages`, then the
 * flytekit pin unless some entry already names flytekit (or union), joined with LF and no trailing newline.
 * `flytekitRequirement` null adds nothing.
 */
export function requirementsText(
  fileLines: string[],
  packages: string[] | undefined,
  flytekitRequirement: string | null,
): string {
  const requirements = [...fileLines, ...(packages ?? [])]
  if (flytekitRequirement !== null && !requirements.some(providesFlytekit))
    requirements.push(flytekitRequirement)
  return requirements.join('\n')
}
