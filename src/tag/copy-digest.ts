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
import { createHash } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { hashFilesInOrder, type HashedFile } from './file-hash.js'
import { SpecError } from '../errors.js'
import {
  copyEscapes,
  escapeIssues,
  fenceAround,
  onDisk,
  pyBasename,
  pyRelpath,
  pyWalk,
  sortedByCodePoint,
} from './os-path.js'

export async function copyDigest(paths: readonly string[], cwd: string): Promise<string> {
  await refuseEscapingCopies(paths, cwd)
  const files: HashedFile[] = []
  for (const src of paths) {
    if (await isDir(onDisk(src, cwd))) files.push(...(await dirFiles(src, cwd)))
    else files.push({ full: onDisk(src, cwd), relpath: pyBasename(src) })
  }
  // One walk lists the files in hash order; then they are read ahead several at once and hashed in that order.
  // Missing files (a dangling link) and sockets are skipped as compute_digest skips them.
  const hasher = createHash('md5')
  await hashFilesInOrder(files, hasher, { skipMissing: true })
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

async function dirFiles(source: string, cwd: string): Promise<HashedFile[]> {
  // Subdirectories are visited in the order the file system lists them, as os.walk does; only the file
  // names within each directory are sorted.
  const files: HashedFile[] = []
  for await (const step of pyWalk(source, cwd)) {
    const rel = step.root === source ? '' : pyRelpath(step.root, source, cwd)
    const here = onDisk(step.root, cwd)
    for (const name of sortedByCodePoint(step.files)) {
      // `os.path.relpath(os.path.join(root, fname), source)`; the walked root is `source` or below it.
      const relpath = rel === '' ? name : `${rel}/${name}`
      files.push({ full: `${here}/${name}`, relpath })
    }
  }
  return files
}

/** `os.path.isdir` (follows symlinks). */
async function isDir(full: string): Promise<boolean> {
  try {
    return (await stat(full)).isDirectory()
  } catch {
    return false
  }
}
