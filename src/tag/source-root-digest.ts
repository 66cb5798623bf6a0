/**
 * The `source_root` digest for `source_copy_mode: ALL`: flytekit's `ls_files(root, ALL, deref_symlinks=False,
 * ignore_group)` (flytekit/tools/script_mode.py). Every file under the root that no ignore rule drops, in
 * sorted path order, contributes its bytes and its root-relative path without separators to one md5.
 *
 * Symbolic links as flytekit treats them: os.walk does not enter a link to a folder (nothing under it is listed,
 * hashed or copied), a link to a file is listed and hashed with its target's bytes, a dangling one is skipped.
 * The files listed here are the ones the build context copies, so each must resolve inside the working directory:
 * the root, and every link the walk lists that no ignore rule drops (a dangling one too: its target may exist by
 * the time the context is written). Any that does not is a SpecError on `source_root`.
 */
import { createHash } from 'node:crypto'
import { SpecError } from '../errors.js'
import { classify, hashFilesInOrder } from './file-hash.js'
import { sourceRootIgnores, type Ignore } from './ignore.js'
import {
  escapeIssues,
  fenceAround,
  judge,
  onDisk,
  pyJoin,
  pyRelpath,
  pyWalk,
  resolveLinks,
  shownRelative,
  sortedByCodePoint,
  type Escape,
  type Fence,
} from './os-path.js'

/** list_all_files skips directories with these names (a `.git` file, as in submodules, is kept). */
const EXCLUDE_DIRS = new Set(['.git'])

/** How to fix a source_root link that leads outside. */
const HINT = ' (remove the link, or leave it out with a .dockerignore pattern)'

export async function sourceRootDigest(root: string, cwd: string): Promise<string> {
  return (await lsFilesAll(root, cwd)).digest
}

/** `ls_files(root, CopyFileDetection.ALL, ...)`: the files (as walked, in hash order) and their digest. */
export async function lsFilesAll(root: string, cwd: string): Promise<{ files: string[]; digest: string }> {
  const fence = await fenceAround(cwd)
  await refuseEscapingRoot(root, fence)
  const ignore = await sourceRootIgnores(root, cwd)
  // `all_files.sort()`: the full path strings, in code point order.
  const files = sortedByCodePoint(await listAllFiles(root, cwd, ignore, fence))
  // Read ahead several at once, hashed in that order. Every listed file was found to be a file, so one that
  // cannot be read now is an error, not a skip.
  const hasher = createHash('md5')
  const base = onDisk(root, cwd)
  await hashFilesInOrder(
    files.map((file) => ({ full: onDisk(file, cwd), relpath: relativeTo(base, file, cwd) })),
    hasher,
    { skipMissing: false },
  )
  return { files, digest: hasher.digest('hex') }
}

/** `os.path.relpath(file, root)` for a walked file, which lies under the root (`base` is the root on disk). */
function relativeTo(base: string, file: string, cwd: string): string {
  const full = onDisk(file, cwd)
  return full.startsWith(`${base}/`) ? full.slice(base.length + 1) : pyRelpath(file, base, cwd)
}

/** source_root itself (or a folder on its way) must not lead outside the working directory. */
export async function refuseEscapingRoot(root: string, fence: Fence): Promise<void> {
  const escape = judge(root, await resolveLinks(root, fence), fence)
  if (escape !== undefined) throw new SpecError(escapeIssues('source_root', [escape], fence, HINT))
}

/** `list_all_files`: the walked paths (relative when the root is), minus dangling links, sockets and ignored files. */
export async function listAllFiles(
  root: string,
  cwd: string,
  ignore: Ignore,
  fence?: Fence,
): Promise<string[]> {
  const inside = fence ?? (await fenceAround(cwd))
  const all: string[] = []
  const escapes: Escape[] = []
  for await (const step of pyWalk(root, cwd)) {
    // `dirnames[:] = [d for d in dirnames if d not in EXCLUDE_DIRS]` prunes the walk in place.
    const kept = step.dirs.filter((d) => !EXCLUDE_DIRS.has(d))
    step.dirs.splice(0, step.dirs.length, ...kept)
    for (const name of step.files) {
      const file = pyJoin(step.root, name)
      // A walked file name is no directory (os.walk put it among the files), so the ignore rules need not stat it.
      if (step.links.has(name)) {
        const escape = await linkEscape(file, cwd, inside)
        if (escape !== undefined) {
          if (!(await ignore.isIgnored(file, { notDir: true }))) escapes.push(escape)
          continue
        }
      }
      // A regular file as listed needs no stat: only links and the rest (sockets, pipes, unknown) are classified.
      if (!step.regular.has(name) && (await classify(onDisk(file, cwd))) !== 'file') continue
      if (await ignore.isIgnored(file, { notDir: true })) continue
      all.push(file)
    }
  }
  if (escapes.length > 0) throw new SpecError(escapeIssues('source_root', escapes, inside, HINT))
  return all
}

/**
 * A walked link that leads outside. One that never resolves (a loop) is no escape here: flytekit skips it as
 * missing, and so does the copy.
 */
async function linkEscape(file: string, cwd: string, fence: Fence): Promise<Escape | undefined> {
  const escape = judge(shownRelative(file, fence), await resolveLinks(onDisk(file, cwd), fence), fence)
  return escape?.kind === 'outside' ? { ...escape, link: { self: true } } : undefined
}
