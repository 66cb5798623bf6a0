/**
 * The two hash updates flytekit's digests are made of (flytekit/tools/script_mode.py): a file's bytes, and
 * a relative path with its separators removed (`pkg/mod.py` hashes as `pkgmod.py`).
 */
import type { Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'

/** `_filehash_update`: the file's content (symlinks followed). */
export async function fileHashUpdate(full: string, hasher: Hash): Promise<void> {
  for await (const chunk of createReadStream(full)) hasher.update(chunk as Buffer)
}

/** `_pathhash_update`: `"".join(path.split(os.sep))`, UTF-8 encoded. */
export function pathHashUpdate(relpath: string, hasher: Hash): void {
  hasher.update(relpath.replaceAll('/', ''), 'utf8')
}

export type Hashable = 'file' | 'missing' | 'socket'

/**
 * What flytekit makes of a walked name before hashing it: `os.path.exists` is false for a dangling symlink
 * (skipped), `os.stat` reveals sockets (skipped); everything else is read. A FIFO would block the read
 * forever in Python too, so it is refused rather than waited on.
 */
export async function classify(full: string): Promise<Hashable> {
  let st
  try {
    st = await stat(full)
  } catch {
    return 'missing'
  }
  if (st.isSocket()) return 'socket'
  if (st.isFIFO()) throw new Error(`'${full}' is a named pipe; it cannot be hashed`)
  return 'file'
}
