/**
 * The `source_root` digest for `source_copy_mode: ALL`: flytekit's `ls_files(root, ALL, deref_symlinks=False,
 * ignore_group)` (flytekit/tools/script_mode.py). Every file under the root that no ignore rule drops, in
 * sorted path order, contributes its bytes and its root-relative path without separators to one md5.
 */
import { createHash } from 'node:crypto'
import { classify, fileHashUpdate, pathHashUpdate } from './file-hash.js'
import { sourceRootIgnores, type Ignore } from './ignore.js'
import { compareCodePoints, onDisk, pyJoin, pyRelpath, pyWalk } from './os-path.js'

/** list_all_files skips directories with these names (a `.git` file, as in submodules, is kept). */
const EXCLUDE_DIRS = new Set(['.git'])

export async function sourceRootDigest(root: string, cwd: string): Promise<string> {
  return (await lsFilesAll(root, cwd)).digest
}

/** `ls_files(root, CopyFileDetection.ALL, ...)`: the files (as walked, in hash order) and their digest. */
export async function lsFilesAll(root: string, cwd: string): Promise<{ files: string[]; digest: string }> {
  const ignore = await sourceRootIgnores(root, cwd)
  const files = await listAllFiles(root, cwd, ignore)
  // `all_files.sort()`: the full path strings, in code point order.
  files.sort(compareCodePoints)
  const hasher = createHash('md5')
  for (const file of files) {
    await fileHashUpdate(onDisk(file, cwd), hasher)
    pathHashUpdate(pyRelpath(file, root, cwd), hasher)
  }
  return { files, digest: hasher.digest('hex') }
}

/** `list_all_files`: the walked paths (relative when the root is), minus dangling links, sockets and ignored files. */
export async function listAllFiles(root: string, cwd: string, ignore: Ignore): Promise<string[]> {
  const all: string[] = []
  for await (const step of pyWalk(root, cwd)) {
    // `dirnames[:] = [d for d in dirnames if d not in EXCLUDE_DIRS]` prunes the walk in place.
    const kept = step.dirs.filter((d) => !EXCLUDE_DIRS.has(d))
    step.dirs.splice(0, step.dirs.length, ...kept)
    for (const name of step.files) {
      const file = pyJoin(step.root, name)
      if ((await classify(onDisk(file, cwd))) !== 'file') continue
      if (await ignore.isIgnored(file)) continue
      all.push(file)
    }
  }
  return all
}
