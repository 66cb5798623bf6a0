/**
 * The `copy` digest: flytekit's `compute_digest(spec.copy, None)` (flytekit/tools/fast_registration.py).
 * Entries are taken in list order. A file contributes its bytes and its basename; a directory is walked with
 * os.walk, each directory's file names sorted, each file contributing its bytes and its path relative to
 * that directory without separators (the directory's own name is not hashed). Paths that do not exist are
 * skipped without a word, as flytekit does.
 *
 * Symbolic links are hashed as flytekit hashes them: os.walk does not enter a link to a folder (its files are not
 * hashed), a link to a file is hashed with its target's bytes under its own name, a dangling one is skipped. But
 * first every entry is checked as the copy will follow it (copyEscapes): one that leads outside the working
 * directory, or would make the copy endless, is a SpecError on `copy[i]`, raised before any registry is asked.
 */
import { createHash, type Hash } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { classify, fileHashUpdate, pathHashUpdate } from './file-hash.js'
import { SpecError } from '../errors.js'
import {
  compareCodePoints,
  copyEscapes,
  escapeIssues,
  fenceAround,
  onDisk,
  pyBasename,
  pyJoin,
  pyRelpath,
  pyWalk,
} from './os-path.js'

export async function copyDigest(paths: readonly string[], cwd: string): Promise<string> {
  await refuseEscapingCopies(paths, cwd)
  const hasher = createHash('md5')
  for (const src of paths) {
    if (await isDir(onDisk(src, cwd))) await digestDir(src, cwd, hasher)
    else await digestFile(src, pyBasename(src), cwd, hasher)
  }
  return hasher.digest('hex')
}

/** Every entry's escapes, all reported together. */
export async function refuseEscapingCopies(paths: readonly string[], cwd: string): Promise<void> {
  const fence = await fenceAround(cwd)
  const issues = []
  for (const [i, src] of paths.entries()) {
    issues.push(...escapeIssues(`copy[${i}]`, await copyEscapes(src, fence), fence))
  }
  if (issues.length > 0) throw new SpecError(issues)
}

async function digestDir(source: string, cwd: string, hasher: Hash): Promise<void> {
  // Subdirectories are visited in the order the file system lists them, as os.walk does; only the file
  // names within each directory are sorted.
  for await (const step of pyWalk(source, cwd)) {
    for (const name of [...step.files].sort(compareCodePoints)) {
      const file = pyJoin(step.root, name)
      await digestFile(file, pyRelpath(file, source, cwd), cwd, hasher)
    }
  }
}

async function digestFile(file: string, relpath: string, cwd: string, hasher: Hash): Promise<void> {
  if ((await classify(onDisk(file, cwd))) !== 'file') return
  await fileHashUpdate(onDisk(file, cwd), hasher)
  pathHashUpdate(relpath, hasher)
}

/** `os.path.isdir` (follows symlinks). */
async function isDir(full: string): Promise<boolean> {
  try {
    return (await stat(full)).isDirectory()
  } catch {
    return false
  }
}
