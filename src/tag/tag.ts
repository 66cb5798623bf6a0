/**
 * flytekit's `ImageSpec.id`, `ImageSpec.tag` and `ImageSpec.image_name()` (flytekit/image_spec/image_spec.py,
 * v1.16).
 *
 * `id` hashes the spec as given (paths, not contents; registry_config included; a nested base spec as a
 * nested dict). The default builder writes it into the image as `ENV _F_IMG_ID`.
 *
 * `tag` hashes a copy in which a nested base spec is replaced by its image name, `source_root` (unless the
 * copy mode is NO_COPY), `copy` and `requirements` by digests of the files, and registry_config is dropped;
 * then `-` becomes `_` and `tag_format` is applied with Python's str.format.
 */
import { createHash } from 'node:crypto'
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { SpecError, type SpecIssue } from '../errors.js'
import { FormatError, pyFormat } from '../pyvalues/format.js'
import { pyRepr } from '../pyvalues/repr.js'
import type { ImageSpec } from '../spec/model.js'
import { copyDigest } from './copy-digest.js'
import { requirementsDigest } from './requirements-digest.js'
import { sourceRootDigest } from './source-root-digest.js'
import { specDict, type Overrides } from './spec-dict.js'

export interface SpecId {
  /** 22 characters of URL-safe base64 (`A-Z a-z 0-9 - _`). */
  id: string
  /** The exact text whose UTF-8 bytes were md5'd. */
  hashInput: string
}

export interface TagResult {
  /** The image tag flytekit computes (after `-` to `_` and tag_format). */
  tag: string
  /** `image_name()`: `[registry/]name:tag`. */
  image: string
  /** `ImageSpec.id` of the spec as given (the `_F_IMG_ID` value). */
  id: string
  /** The text md5'd for the tag. */
  hashInput: string
  /** The text md5'd for the id. */
  idHashInput: string
}

export function computeSpecId(spec: ImageSpec): SpecId {
  const hashInput = pyRepr(specDict(spec))
  return { id: md5UrlSafe(hashInput), hashInput }
}

export async function computeTag(spec: ImageSpec, cwd: string): Promise<TagResult> {
  const raw = computeSpecId(spec)
  const overrides: Overrides = { registry_config: undefined }
  if (spec.base_image !== undefined && typeof spec.base_image !== 'string') {
    overrides.base_image = (await baseTag(spec.base_image, cwd)).image
  }
  // The three file digests are computed together so that every field's problem is reported, not the first.
  const issues: SpecIssue[] = []
  const collect = async (digest: () => Promise<string>): Promise<string | undefined> => {
    try {
      return await digest()
    } catch (e) {
      if (!(e instanceof SpecError)) throw e
      issues.push(...e.issues)
      return undefined
    }
  }
  const [sourceRoot, copy, requirements] = await Promise.all([
    spec.source_copy_mode !== undefined && spec.source_copy_mode !== 'NO_COPY'
      ? collect(() => sourceRootHash(spec, cwd))
      : undefined,
    // `if self.copy:` - an empty list is kept and hashed as [].
    spec.copy !== undefined && spec.copy.length > 0
      ? collect(() => digestOrSpecError('copy', () => copyDigest(spec.copy as string[], cwd)))
      : undefined,
    spec.requirements ? collect(() => requirementsHash(spec.requirements as string, cwd)) : undefined,
  ])
  if (issues.length > 0) throw new SpecError(issues)
  if (sourceRoot !== undefined) overrides.source_root = sourceRoot
  if (copy !== undefined) overrides.copy = copy
  if (requirements !== undefined) overrides.requirements = requirements
  const hashInput = pyRepr(specDict(spec, overrides))
  const hash = md5UrlSafe(hashInput).replaceAll('-', '_')
  const tag = spec.tag_format ? formatTag(spec.tag_format, hash) : hash
  // `if self.registry:` - an empty registry is hashed but adds no prefix.
  const image = `${spec.registry ? `${spec.registry}/` : ''}${spec.name}:${tag}`
  return { tag, image, id: raw.id, hashInput, idHashInput: raw.hashInput }
}

/** base64.urlsafe_b64encode(md5(text.encode("utf-8")).digest()).decode("ascii").rstrip("=") */
function md5UrlSafe(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('base64url')
}

/** A base spec's problems are reported under `base_image.`. */
async function baseTag(base: ImageSpec, cwd: string): Promise<TagResult> {
  try {
    return await computeTag(base, cwd)
  } catch (e) {
    if (!(e instanceof SpecError)) throw e
    throw new SpecError(e.issues.map((i) => ({ ...i, path: `base_image.${i.path}` })))
  }
}

async function sourceRootHash(spec: ImageSpec, cwd: string): Promise<string> {
  const root = spec.source_root
  if (!root) {
    throw specError('source_root', `must be set when source_copy_mode is ${spec.source_copy_mode}`)
  }
  if (spec.source_copy_mode === 'LOADED_MODULES') {
    throw specError(
      'source_copy_mode',
      "is LOADED_MODULES (flytekit's default once source_root is set), which hashes the modules a running " +
        'Python program has imported and cannot be reproduced here. Set `source_copy_mode: ALL` to copy every ' +
        "file under source_root that git, .dockerignore and flytekit's standard patterns do not ignore, or " +
        '`source_copy_mode: NO_COPY` to copy no source files',
    )
  }
  if (!(await isDirectory(path.resolve(cwd, root)))) {
    throw specError('source_root', `directory '${relativeToCwd(root, cwd)}' not found (relative to ${cwd})`)
  }
  return digestOrSpecError('source_root', () => sourceRootDigest(root, cwd))
}

async function requirementsHash(file: string, cwd: string): Promise<string> {
  try {
    return await requirementsDigest(file, cwd)
  } catch (e) {
    // A link out of the working directory is refused as such, not as an unreadable file.
    if (e instanceof SpecError) throw e
    const code = (e as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a directory' : 'cannot be read'
    throw specError('requirements', `file '${relativeToCwd(file, cwd)}' ${why} (relative to ${cwd})`)
  }
}

function formatTag(tagFormat: string, hash: string): string {
  try {
    return pyFormat(tagFormat, { spec_hash: hash })
  } catch (e) {
    if (!(e instanceof FormatError)) throw e
    throw specError(
      'tag_format',
      `${JSON.stringify(tagFormat)} is not a valid Python format string: ${e.message}`,
    )
  }
}

/** File system surprises while hashing (unreadable names, pipes, bad patterns) are reported on the field. */
async function digestOrSpecError(field: string, digest: () => Promise<string>): Promise<string> {
  try {
    return await digest()
  } catch (e) {
    if (e instanceof SpecError) throw e
    throw specError(field, `could not be hashed: ${(e as Error).message}`)
  }
}

function specError(field: string, message: string): SpecError {
  return new SpecError([{ path: field, message }])
}

function relativeToCwd(p: string, cwd: string): string {
  return path.relative(cwd, path.resolve(cwd, p)) || '.'
}

async function isDirectory(full: string): Promise<boolean> {
  try {
    return (await stat(full)).isDirectory()
  } catch {
    return false
  }
}
