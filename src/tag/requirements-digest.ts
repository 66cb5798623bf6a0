/**
 * The `requirements` digest: `hashlib.sha1(Path(requirements).read_bytes().strip()).hexdigest()`. Only the
 * content counts (not the path), and `bytes.strip()` removes ASCII whitespace only, so a UTF-8 byte order
 * mark stays part of the hash.
 *
 * The file's content goes into the image (as requirement lines, or as the lock file), and so does the
 * pyproject.toml beside a uv.lock or poetry.lock (not hashed): given the working directory, both must resolve
 * inside it, or the digest is refused with a SpecError on `requirements` before the file is read.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { SpecError } from '../errors.js'
import { escapeIssues, fenceAround, judge, resolveLinks, type Escape, type Fence } from './os-path.js'

/** The bytes `bytes.strip()` removes: space, \t, \n, \r, \v, \f. */
const ASCII_WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c])

/** Lock files flytekit installs with the project file beside them (by basename, as flytekit decides). */
const LOCK_FILES = new Set(['uv.lock', 'poetry.lock'])

/**
 * `file` as the spec gives it: relative to `cwd` (or absolute). Without `cwd` the path is read as it is and not
 * checked.
 */
export async function requirementsDigest(file: string, cwd?: string): Promise<string> {
  if (cwd !== undefined) await refuseEscapingRequirements(file, cwd)
  const full = cwd === undefined ? file : path.resolve(cwd, file)
  return createHash('sha1')
    .update(stripAsciiWhitespace(await readFile(full)))
    .digest('hex')
}

export async function refuseEscapingRequirements(file: string, cwd: string): Promise<void> {
  const fence = await fenceAround(cwd)
  const escapes = await requirementsEscapes(file, fence)
  if (escapes.length > 0) throw new SpecError(escapeIssues('requirements', escapes, fence))
}

/** The requirements file, and for a lock file the pyproject.toml in its folder, when they lead outside. */
export async function requirementsEscapes(file: string, fence: Fence): Promise<Escape[]> {
  const escapes: Escape[] = []
  const own = judge(file, await resolveLinks(file, fence), fence)
  if (own !== undefined) escapes.push(own)
  const base = path.posix.basename(file)
  if (LOCK_FILES.has(base)) {
    const beside = path.posix.join(path.posix.dirname(file), 'pyproject.toml')
    const escape = judge(
      beside,
      await resolveLinks(beside, fence),
      fence,
      `the pyproject.toml beside ${base}`,
    )
    if (escape !== undefined) escapes.push(escape)
  }
  return escapes
}

export function stripAsciiWhitespace(bytes: Uint8Array): Uint8Array {
  let start = 0
  let end = bytes.length
  while (start < end && ASCII_WHITESPACE.has(bytes[start] as number)) start++
  while (end > start && ASCII_WHITESPACE.has(bytes[end - 1] as number)) end--
  return bytes.subarray(start, end)
}
