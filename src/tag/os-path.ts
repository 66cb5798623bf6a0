/**
 * The bits of Python's posixpath, pathlib and os.walk that flytekit's digests depend on. The exact path
 * strings matter: they are hashed (with separators removed) and matched against ignore patterns, and Python
 * builds them differently from node:path (`os.path.join('proj/', 'a')` keeps one slash, `basename('a/')` is
 * empty, a relative root keeps every walked path relative).
 *
 * Path strings stay in Python's form; `cwd` is only used to reach the files, as the Python process's working
 * directory would be.
 */
import { lstat, opendir, stat } from 'node:fs/promises'
import path from 'node:path'

/** `os.path.join(a, b)` on POSIX. */
export function pyJoin(a: string, b: string): string {
  if (b.startsWith('/')) return b
  if (a === '' || a.endsWith('/')) return a + b
  return `${a}/${b}`
}

/** `os.path.dirname`: everything before the last slash, trailing slashes dropped unless it is all slashes. */
export function pyDirname(p: string): string {
  const head = p.slice(0, p.lastIndexOf('/') + 1)
  if (head !== '' && !/^\/+$/.test(head)) return head.replace(/\/+$/, '')
  return head
}

/** `os.path.basename`: the text after the last slash (empty for `dir/`). */
export function pyBasename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1)
}

export function pyIsAbs(p: string): boolean {
  return p.startsWith('/')
}

/** `os.path.relpath(p, start)`, both taken relative to the process working directory `cwd`. */
export function pyRelpath(p: string, start: string, cwd: string): string {
  return path.posix.relative(path.posix.resolve(cwd, start), path.posix.resolve(cwd, p)) || '.'
}

/** `pathlib.PurePosixPath(p).as_posix()`: empty and `.` parts dropped, `..` kept. */
export function pathlibPosix(p: string): string {
  const parts = p.split('/').filter((part) => part !== '' && part !== '.')
  const joined = parts.join('/')
  if (p.startsWith('/')) return `/${joined}`
  return joined === '' ? '.' : joined
}

/** Python sorts str by code point; UTF-8 byte order is the same order (UTF-16 order is not). */
export function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** Resolves a Python path string against the working directory, for file system calls. */
export function onDisk(p: string, cwd: string): string {
  return path.resolve(cwd, p)
}

export interface WalkStep {
  root: string
  /** Subdirectory names in directory order; remove entries in place to prune them, as with os.walk. */
  dirs: string[]
  files: string[]
}

/**
 * `os.walk(top, topdown=True, followlinks=False)`: names come in the order the file system lists them,
 * a symlink to a directory is listed among the directories but not entered, and an unreadable directory is
 * skipped silently.
 */
export async function* pyWalk(top: string, cwd: string): AsyncGenerator<WalkStep> {
  const listed = await listDir(top, cwd)
  if (!listed) return
  yield { root: top, ...listed }
  for (const name of listed.dirs) {
    const child = pyJoin(top, name)
    if (!(await isSymlink(onDisk(child, cwd)))) yield* pyWalk(child, cwd)
  }
}

async function listDir(top: string, cwd: string): Promise<{ dirs: string[]; files: string[] } | undefined> {
  const dirs: string[] = []
  const files: string[] = []
  let dir
  try {
    // opendir (not readdir, which sorts) keeps the file system's own order, as os.scandir does.
    dir = await opendir(onDisk(top, cwd), { encoding: 'buffer' as BufferEncoding })
  } catch {
    return undefined
  }
  for await (const entry of dir) {
    const name = decodeName(entry.name as unknown as Buffer, top)
    const full = path.join(onDisk(top, cwd), name)
    // DirEntry.is_dir() follows symlinks and counts errors as "not a directory".
    const isDir =
      entry.isDirectory() || ((entry.isSymbolicLink() || unknownType(entry)) && (await isDirectory(full)))
    ;(isDir ? dirs : files).push(name)
  }
  return { dirs, files }
}

interface TypedEntry {
  isFile(): boolean
  isDirectory(): boolean
  isSymbolicLink(): boolean
  isSocket(): boolean
  isFIFO(): boolean
  isBlockDevice(): boolean
  isCharacterDevice(): boolean
}

/** Some file systems report no entry type; os.scandir then falls back to stat, and so does this. */
function unknownType(e: TypedEntry): boolean {
  return ![
    e.isFile(),
    e.isSymbolicLink(),
    e.isSocket(),
    e.isFIFO(),
    e.isBlockDevice(),
    e.isCharacterDevice(),
  ].some(Boolean)
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/** Python would carry such a name as surrogate escapes and then fail to UTF-8 encode it for the digest. */
function decodeName(raw: Buffer, dir: string): string {
  try {
    return UTF8.decode(raw)
  } catch {
    throw new Error(`a file name in '${dir}' is not valid UTF-8, so flytekit could not hash it; rename it`)
  }
}

async function isDirectory(full: string): Promise<boolean> {
  try {
    return (await stat(full)).isDirectory()
  } catch {
    return false
  }
}

async function isSymlink(full: string): Promise<boolean> {
  try {
    return (await lstat(full)).isSymbolicLink()
  } catch {
    return false
  }
}
