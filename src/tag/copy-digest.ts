/**
 * The `copy` digest: flytekit's `compute_digest(spec.copy, None)` (flytekit/tools/fast_registration.py).
 * Entries are taken in list order. A file contributes its bytes and its basename; a directory is walked with
 * os.walk, each directory's file names sorted, each file contributing its bytes and its path relative to
 * that directory without separators (the directory's own name is not hashed). Paths that do not exist are
 * skipped without a word, as flytekit does.
 */
import { createHash, type Hash } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { classify, fileHashUpdate, pathHashUpdate } from './file-hash.js'
import { compareCodePoints, onDisk, pyBasename, pyJoin, pyRelpath, pyWalk } from './os-path.js'

export async function copyDigest(paths: readonly string[], cwd: string): Promise<string> {
  const hasher = createHash('md5')
  for (const src of paths) {
    if (await isDir(onDisk(src, cwd))) await digestDir(src, cwd, hasher)
    else await digestFile(src, pyBasename(src), cwd, hasher)
  }
  return hasher.digest('hex')
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
