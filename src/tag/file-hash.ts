/**
 * The two hash updates flytekit's digests are made of (flytekit/tools/script_mode.py): a file's bytes, and
 * a relative path with its separators removed (`pkg/mod.py` hashes as `pkgmod.py`).
 *
 * A digest over a large tree should cost about what reading its bytes costs, so files are read ahead, several
 * at once, while the hash is fed strictly in the order flytekit feeds it (hashFilesInOrder): small files are read
 * whole, large ones streamed in chunks when their turn comes, and no stream object is made per file.
 */
import type { Hash } from 'node:crypto'
import { constants } from 'node:fs'
import { open, stat, type FileHandle } from 'node:fs/promises'

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
  if (st.isFIFO()) throw namedPipe(full)
  return 'file'
}

function namedPipe(full: string): Error {
  return new Error(`'${full}' is a named pipe; it cannot be hashed`)
}

/** `_filehash_update`: the file's content (symlinks followed). */
export async function fileHashUpdate(full: string, hasher: Hash): Promise<void> {
  await hashFilesInOrder([{ full, relpath: undefined }], hasher, { skipMissing: false })
}

export interface HashedFile {
  /** The path to open (absolute, or relative to the process working directory). */
  full: string
  /** Hashed after the bytes (`_pathhash_update`); undefined hashes the bytes only. */
  relpath: string | undefined
}

/** Files up to this size are read whole; larger ones are streamed in chunks of this size at their turn. */
const WHOLE_FILE_LIMIT = 1024 * 1024
/** Files read ahead of the one being hashed: at most this many small files (≤ 1 MiB each) are held at once. */
const READ_AHEAD = 32

/** What was read ahead for one file: its bytes, an open handle to stream from, or nothing (skipped). */
type ReadAhead = { bytes: Buffer } | { handle: FileHandle } | undefined

/**
 * Feeds `hasher` each file's bytes and then its relpath, in the order given, as flytekit's loops do. With
 * `skipMissing`, a file that classify calls missing or a socket is skipped (bytes and path), as compute_digest
 * skips it; without, every file must be readable. A named pipe is refused (classify's error) either way.
 * Returns the files hashed.
 */
export async function hashFilesInOrder(
  files: readonly HashedFile[],
  hasher: Hash,
  opts: { skipMissing: boolean },
): Promise<HashedFile[]> {
  const pending: Promise<ReadAhead>[] = []
  const start = (i: number): void => {
    const file = files[i]
    if (file !== undefined) pending[i] = readAhead(file.full, opts.skipMissing)
  }
  for (let i = 0; i < READ_AHEAD; i++) start(i)
  const hashed: HashedFile[] = []
  try {
    for (const [i, file] of files.entries()) {
      const got = await (pending[i] as Promise<ReadAhead>)
      delete pending[i]
      start(i + READ_AHEAD)
      if (got === undefined) continue
      if ('bytes' in got) hasher.update(got.bytes)
      else await streamInto(got.handle, hasher)
      if (file.relpath !== undefined) pathHashUpdate(file.relpath, hasher)
      hashed.push(file)
    }
  } finally {
    // On an error, close what was opened ahead (and let its rejection, if any, go unreported: one error is thrown).
    for (const p of pending)
      if (p !== undefined)
        void p.then(
          (got) => (got !== undefined && 'handle' in got ? got.handle.close() : undefined),
          () => undefined,
        )
  }
  return hashed
}

/**
 * Opens and reads one file. O_NONBLOCK so that opening a named pipe returns at once (fstat then names it)
 * instead of waiting for a writer; it changes nothing for regular files. An open that fails is judged as
 * classify judges the path, so that skipping stays exactly flytekit's: missing or a socket is skipped, anything
 * else (a file it cannot read) is the open's own error.
 */
async function readAhead(full: string, skipMissing: boolean): Promise<ReadAhead> {
  let handle: FileHandle
  try {
    handle = await open(full, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    if (skipMissing && (await classify(full)) !== 'file') return undefined
    throw error
  }
  let keep = false
  try {
    const st = await handle.stat()
    if (st.isFIFO()) throw namedPipe(full)
    if (st.isFile() && st.size > WHOLE_FILE_LIMIT) {
      keep = true
      return { handle }
    }
    return { bytes: await readWhole(handle, st.size) }
  } finally {
    if (!keep) await handle.close()
  }
}

/**
 * The whole of a small file: one read of its size plus one byte (a short read is the end of a regular file),
 * and only if it has grown since fstat, further reads to the end. (FileHandle.readFile would fstat again and
 * read once more to find the end: two more system calls per file.)
 */
async function readWhole(handle: FileHandle, size: number): Promise<Buffer> {
  const first = Buffer.allocUnsafe(size + 1)
  const { bytesRead } = await handle.read(first, 0, first.length, null)
  if (bytesRead <= size) return first.subarray(0, bytesRead)
  const parts = [first]
  for (;;) {
    const chunk = Buffer.allocUnsafe(WHOLE_FILE_LIMIT)
    const more = await handle.read(chunk, 0, chunk.length, null)
    if (more.bytesRead === 0) return Buffer.concat(parts)
    parts.push(chunk.subarray(0, more.bytesRead))
  }
}

async function streamInto(handle: FileHandle, hasher: Hash): Promise<void> {
  // hash.update consumes the bytes at once, so one buffer serves every chunk.
  const chunk = Buffer.allocUnsafe(WHOLE_FILE_LIMIT)
  try {
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null)
      if (bytesRead === 0) return
      hasher.update(chunk.subarray(0, bytesRead))
    }
  } finally {
    await handle.close()
  }
}
