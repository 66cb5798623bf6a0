/**
 * The bits of Python's posixpath, pathlib and os.walk that flytekit's digests depend on. The exact path
 * strings matter: they are hashed (with separators removed) and matched against ignore patterns, and Python
 * builds them differently from node:path (`os.path.join('proj/', 'a')` keeps one slash, `basename('a/')` is
 * empty, a relative root keeps every walked path relative).
 *
 * Path strings stay in Python's form; `cwd` is only used to reach the files, as the Python process's working
 * directory would be.
 */
import { lstat, opendir, readdir, readlink, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import type { SpecIssue } from '../errors.js'

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

/** `sorted(strings)` in code point order, each string encoded once (not once per comparison). */
export function sortedByCodePoint(strings: readonly string[]): string[] {
  return strings
    .map((s) => ({ s, key: Buffer.from(s, 'utf8') }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map((e) => e.s)
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
  /** The names among dirs and files that are symbolic links. */
  links: Set<string>
  /** The names among files that the directory listing says are regular files (not links): no stat needed. */
  regular: Set<string>
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
    // `if followlinks or not islink(new_path)`: the listing already says which names are links.
    if (!listed.links.has(name)) yield* pyWalk(pyJoin(top, name), cwd)
  }
}

async function listDir(top: string, cwd: string): Promise<Omit<WalkStep, 'root'> | undefined> {
  const dirs: string[] = []
  const files: string[] = []
  const links = new Set<string>()
  const regular = new Set<string>()
  let dir
  try {
    // opendir (not readdir, which sorts) keeps the file system's own order, as os.scandir does.
    dir = await opendir(onDisk(top, cwd), { encoding: 'buffer' as BufferEncoding, bufferSize: 256 })
  } catch {
    return undefined
  }
  const here = onDisk(top, cwd)
  for await (const entry of dir) {
    const name = decodeName(entry.name as unknown as Buffer, top)
    // DirEntry.is_dir() follows symlinks and counts errors as "not a directory".
    const isDir =
      entry.isDirectory() ||
      ((entry.isSymbolicLink() || unknownType(entry)) && (await isDirectory(path.join(here, name))))
    ;(isDir ? dirs : files).push(name)
    if (entry.isSymbolicLink()) links.add(name)
    else if (entry.isFile()) regular.add(name)
  }
  return { dirs, files, links, regular }
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

/*
 * Staying inside the working directory. Every file that goes into the image (copy entries and what they hold,
 * source_root's files, the requirements or lock file and the pyproject.toml beside it) must resolve inside the
 * working directory, symbolic links followed: a link in the repository must not bring the runner's files (a
 * docker config.json with registry credentials) into the image or the build context.
 */

/** The working directory as relative spec paths resolve against it (named in messages), and its real path. */
export interface Fence {
  cwd: string
  real: string
}

export async function fenceAround(cwd: string): Promise<Fence> {
  const absolute = path.resolve(cwd)
  return { cwd: absolute, real: await realpath(absolute) }
}

/** `target` is `root` or below it (both absolute and normalised). */
export function isInside(target: string, root: string): boolean {
  const rel = path.relative(root, target)
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !path.isAbsolute(rel))
}

export interface Resolved {
  /** Where the path leads, every link on the way followed; the part that does not exist is appended as written. */
  target: string
  exists: boolean
  /** The first symbolic link on the way, as a prefix of the path as given (undefined when there is none). */
  firstLink?: string
  /** More links than the kernel follows (40) before the path resolves: a loop. */
  loop: boolean
}

/** Linux's MAXSYMLINKS: after this many links the kernel gives up with ELOOP. */
const MAX_LINKS = 40

/**
 * `realpath -m`: follows the symbolic links of `p` (relative to the working directory, or absolute) component by
 * component, as the kernel does, but does not stop at a missing component, so that a dangling link still has a
 * target: a link to `~/.docker/config.json` is refused before `docker login` writes that file.
 */
export async function resolveLinks(p: string, fence: Fence): Promise<Resolved> {
  const given = inFenceTerms(p, fence)
  let done = given.absolute ? '/' : fence.real
  let rest = given.parts
  let consumed = 0
  let firstLink: string | undefined
  let links = 0
  while (rest.length > 0) {
    const [part, ...after] = rest as [string, ...string[]]
    rest = after
    if (firstLink === undefined) consumed++
    if (part === '.') continue
    if (part === '..') {
      done = path.dirname(done)
      continue
    }
    const next = path.join(done, part)
    const st = await lstat(next).catch(() => undefined)
    if (st === undefined)
      return { target: path.resolve(next, ...rest), exists: false, firstLink, loop: false }
    if (!st.isSymbolicLink()) {
      done = next
      continue
    }
    if (++links > MAX_LINKS) return { target: next, exists: false, firstLink, loop: true }
    firstLink ??= joinParts(given.absolute, given.parts.slice(0, consumed))
    const to = await readlink(next)
    if (to.startsWith('/')) done = '/'
    rest = [...to.split('/').filter((s) => s !== ''), ...rest]
  }
  return { target: done, exists: true, firstLink, loop: false }
}

/** A path under the working directory (as named or as real) is taken relative to it, so links above it do not count. */
function inFenceTerms(p: string, fence: Fence): { absolute: boolean; parts: string[] } {
  let rel = p
  if (p.startsWith('/')) {
    const base = [fence.cwd, fence.real].find((root) => isInside(path.normalize(p), root))
    if (base === undefined) return { absolute: true, parts: splitParts(p) }
    rel = path.relative(base, path.normalize(p))
  }
  return { absolute: false, parts: splitParts(rel) }
}

const samePath = (a: string, b: string): boolean =>
  joinParts(a.startsWith('/'), splitParts(path.normalize(a))) ===
  joinParts(b.startsWith('/'), splitParts(path.normalize(b)))
const splitParts = (p: string): string[] => p.split('/').filter((s) => s !== '')
const joinParts = (absolute: boolean, parts: string[]): string => `${absolute ? '/' : ''}${parts.join('/')}`

/** A path that would bring something from outside the working directory into the image, or never end copying. */
export interface Escape {
  kind: 'outside' | 'loop' | 'ancestor' | 'dangling'
  /** The path as the spec or the walk names it (relative to the working directory when inside it). */
  path: string
  /** What it is, when the field's own value is not the path itself (`the pyproject.toml beside uv.lock`). */
  role?: string
  /** Where it leads. */
  target: string
  /** The first symbolic link on the way to the target: the path itself, a folder on its way, or none. */
  link: { self: true } | { self: false; through: string } | undefined
}

/** The escape of one path, if it resolves outside the working directory or never resolves. */
export function judge(shownPath: string, r: Resolved, fence: Fence, role?: string): Escape | undefined {
  const link =
    r.firstLink === undefined
      ? undefined
      : samePath(r.firstLink, shownPath)
        ? { self: true as const }
        : { self: false as const, through: r.firstLink }
  const base = { path: shownPath, target: r.target, link, ...(role === undefined ? {} : { role }) }
  if (r.loop) return { ...base, kind: 'loop' }
  if (isInside(r.target, fence.real)) return undefined
  return { ...base, kind: 'outside' }
}

/** `p` relative to the working directory when it lies inside it (as the walk names files of an absolute root). */
export function shownRelative(p: string, fence: Fence): string {
  if (!p.startsWith('/')) return p
  const base = [fence.cwd, fence.real].find((root) => isInside(path.normalize(p), root))
  return base === undefined ? p : path.relative(base, path.normalize(p)) || '.'
}

/**
 * What copying `entry` (as shutil.copytree and the context writer do: links followed) would bring in that it
 * must not: the entry or a folder on its way leading outside the working directory, and inside a copied folder
 * every link that leads outside, nowhere, or to a folder that holds it (the copy would never end), including links
 * inside the folders links lead to. A missing entry is no escape (the digest skips it, the writer reports it).
 */
export async function copyEscapes(entry: string, fence: Fence): Promise<Escape[]> {
  const top = await resolveLinks(entry, fence)
  const escape = judge(entry, top, fence)
  if (escape !== undefined) return [escape]
  if (!top.exists || !(await isDirectory(top.target))) return []
  const escapes: Escape[] = []
  await visitCopied(entry, top.target, [top.target], fence, escapes)
  return escapes
}

async function visitCopied(
  shownDir: string,
  real: string,
  chain: string[],
  fence: Fence,
  escapes: Escape[],
): Promise<void> {
  const entries = await readdir(real, { withFileTypes: true }).catch(() => [])
  for (const entry of entries.sort((a, b) => compareCodePoints(a.name, b.name))) {
    const shownPath = pyJoin(shownDir, entry.name)
    const childReal = path.join(real, entry.name)
    const typed = unknownType(entry) ? await lstat(childReal).catch(() => undefined) : entry
    if (typed?.isDirectory()) {
      await visitCopied(shownPath, childReal, [...chain, childReal], fence, escapes)
      continue
    }
    if (!typed?.isSymbolicLink()) continue
    const r = await resolveLinks(childReal, fence)
    const escape = judge(shownPath, r, fence)
    const link = { self: true as const }
    if (escape !== undefined) escapes.push({ ...escape, link })
    else if (!r.exists) escapes.push({ kind: 'dangling', path: shownPath, target: r.target, link })
    else if (!(await isDirectory(r.target))) continue
    // A link to a folder that holds a folder being copied: the copy would go round for ever.
    else if (chain.some((dir) => isInside(dir, r.target)))
      escapes.push({ kind: 'ancestor', path: shownPath, target: r.target, link })
    else await visitCopied(shownPath, r.target, [...chain, r.target], fence, escapes)
  }
}

/** How many escapes of one value are listed; the rest are counted. */
const LISTED = 10

/**
 * The escapes of one spec field as issues, each saying where the path leads and why it is refused. `hint` ends
 * the message of a path that leads outside (how to fix it for this field).
 */
export function escapeIssues(field: string, escapes: Escape[], fence: Fence, hint = ''): SpecIssue[] {
  const issues = escapes
    .slice(0, LISTED)
    .map((e) => ({ path: field, message: escapeMessage(e, fence, hint) }))
  if (escapes.length > LISTED)
    issues.push({ path: field, message: `and ${escapes.length - LISTED} more symbolic links like these` })
  return issues
}

function escapeMessage(e: Escape, fence: Fence, hint: string): string {
  const what = `${quotedPath(e.path)}${e.role === undefined ? '' : ` (${e.role})`}`
  const target = plainPath(e.target)
  switch (e.kind) {
    case 'loop':
      return `${what} never resolves: its symbolic links lead to one another (a symlink loop); remove the link`
    case 'ancestor':
      return `${what} is a symbolic link to ${target}, a folder that contains it, so copying it would never end (a symlink loop); remove the link`
    case 'dangling':
      return `${what} is a symbolic link to ${target}, which does not exist, so the folder cannot be copied (flytekit's copy fails on it too); remove the link or create its target`
    case 'outside':
      return `${what} ${leadsTo(e, target)} the working directory ${plainPath(fence.cwd)}; only files inside it can go into the image${hint || ': remove the link, or put a copy of what it points to inside the working directory'}`
  }
}

/** How the path gets outside: as written, through a link, or by resolving `..`. */
function leadsTo(e: Escape, target: string): string {
  if (e.link === undefined)
    return samePath(e.path, e.target) ? 'is outside' : `resolves to ${target}, outside`
  if (e.link.self) return `is a symbolic link to ${target}, outside`
  return `leads through the symbolic link ${quotedPath(e.link.through)} to ${target}, outside`
}

/**
 * Paths come from the repository, so a pull request chooses them: a name with a line break or control character
 * could forge lines of the job log. Such a path is shown JSON-quoted (escaped); a plain one as it is.
 */
const UNSAFE_IN_LOG = /[\p{Cc}\u2028\u2029'"\\]/u

function quotedPath(p: string): string {
  return UNSAFE_IN_LOG.test(p) ? JSON.stringify(p) : `'${p}'`
}

function plainPath(p: string): string {
  return UNSAFE_IN_LOG.test(p) || /\s/.test(p) ? JSON.stringify(p) : p
}
