/**
 * The `spec` lines -> the spec files to read, each a YAML file or a Python file that defines ImageSpecs.
 *
 * A line names a file (`.py` is Python, any other file is YAML, as before), a folder (every `*.py` below it), or
 * a glob (`specs/*.yaml`, `flows/**\/*.py`). Folders and `**` leave out what is not the project's own code:
 * hidden folders, `__pycache__`, `node_modules`, `site-packages`, virtual environments (a folder with a
 * `pyvenv.cfg`) and whatever the repository's `.gitignore` files exclude. Symlinks are followed only when a line
 * names one itself, and only to a target inside the working directory; walks and globs skip them (no loops, no
 * way out). Every line is expanded and every problem collected, so that the step reports all of them at once.
 */
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import ignore, { type Ignore } from 'ignore'
import { glob, isDynamicPattern } from 'tinyglobby'

export interface SpecFile {
  /** Path relative to cwd, '/'-separated, as shown to users (e.g. 'workflows/train.py'). */
  path: string
  kind: 'yaml' | 'python'
  /** The spec line it came from, for error messages. */
  line: string
}

export interface ExpandResult {
  files: SpecFile[]
  errors: { line: string; message: string }[]
}

/** Folder names a walk never enters: caches, installed packages, virtual environments. */
const SKIPPED_FOLDERS = new Set(['__pycache__', 'node_modules', 'site-packages'])
const GLOB_CHARACTERS = /[*?[{]/

export async function expandSpecLines(lines: string[], cwd: string): Promise<ExpandResult> {
  const root = path.resolve(cwd)
  const ctx: Context = { cwd, root, realRoot: await realpath(root), fs: new FsCache() }
  const result: ExpandResult = { files: [], errors: [] }
  const seen = new Set<string>()
  for (const line of lines) {
    if (line === '') continue
    let found: Found[]
    try {
      found = await expandLine(line, ctx)
    } catch (err) {
      if (err instanceof LineError) result.errors.push({ line, message: err.message })
      // A folder or file that cannot be read (permissions): this line's problem, the other lines still count.
      else if (typeof (err as NodeJS.ErrnoException).code === 'string')
        result.errors.push({ line, message: `cannot read what '${line}' names: ${(err as Error).message}` })
      else throw err
      continue
    }
    for (const file of found) {
      if (seen.has(file.real)) continue // the same file from an earlier line (or under another name) is read once
      seen.add(file.real)
      result.files.push({ path: file.path, kind: kindOf(file.path), line })
    }
  }
  return result
}

interface Context {
  /** cwd as given, for messages. */
  cwd: string
  root: string
  realRoot: string
  fs: FsCache
}

/** A file a line leads to: its path as shown, and its real path (the key that finds the same file twice). */
interface Found {
  path: string
  real: string
}

class LineError extends Error {}

function kindOf(file: string): SpecFile['kind'] {
  return file.endsWith('.py') ? 'python' : 'yaml'
}

async function expandLine(line: string, ctx: Context): Promise<Found[]> {
  const target = path.resolve(ctx.root, line)
  const named = await statOrNull(target)
  if (!GLOB_CHARACTERS.test(line) || named) {
    checkInside(line, target, ctx.root, ctx)
    if (!named) {
      throw new LineError(
        `file or folder '${line}' not found (relative to ${ctx.cwd}); check the 'spec' input and that it is ` +
          'checked out',
      )
    }
    const real = await realpath(target)
    checkInside(line, real, ctx.realRoot, ctx)
    if (named.isFile()) return [{ path: shown(target, ctx), real }]
    if (!named.isDirectory()) throw new LineError(`'${line}' is neither a file nor a folder`)
    const files = await walkFolder(target, ctx)
    if (files.length === 0)
      throw new LineError(
        `folder '${line}' has no Python files; name the folder that holds your workflows' .py files, or list the spec files themselves`,
      )
    return files
  }
  return expandGlob(line, ctx)
}

/** Every `*.py` below a folder the line names, sorted. The folder itself is walked whatever its name. */
async function walkFolder(folder: string, ctx: Context): Promise<Found[]> {
  const filter = await ScopedFilter.create(folder, ctx.fs)
  const files: string[] = []
  const visit = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true })
    const subdirs: string[] = []
    for (const entry of entries) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) {
        if (!(await filter.dirExcluded(full))) subdirs.push(full)
      } else if (entry.isFile() && entry.name.endsWith('.py')) {
        if (!(await filter.fileIgnored(full))) files.push(full)
      }
      // Symlinks (to files or folders) and anything else are not followed.
    }
    await Promise.all(subdirs.map(visit))
  }
  await visit(folder)
  return sortedFound(files, ctx)
}

/**
 * A glob, relative to cwd, files only. It runs from its static base (the folders before the first glob
 * segment), which must be inside cwd. Python files `**` found are filtered like a folder's.
 */
async function expandGlob(line: string, ctx: Context): Promise<Found[]> {
  const segments = line.split('/')
  let fixed = segments.findIndex((s) => isDynamicPattern(s))
  if (fixed < 0) fixed = segments.length
  const prefix = segments.slice(0, fixed).join('/') || (line.startsWith('/') ? '/' : '.')
  const pattern = segments.slice(fixed).join('/')
  const base = path.resolve(ctx.root, prefix)
  checkInside(line, base, ctx.root, ctx)
  const baseStat = await statOrNull(base)
  let matches: string[] = []
  if (baseStat?.isDirectory()) {
    checkInside(line, await realpath(base), ctx.realRoot, ctx)
    const found = await glob(pattern, {
      cwd: base,
      onlyFiles: true,
      followSymbolicLinks: false,
      expandDirectories: false,
    })
    matches = found.map((m) => path.resolve(base, m))
  }
  if (pattern.includes('**') && matches.some((m) => m.endsWith('.py'))) {
    const filter = await ScopedFilter.create(base, ctx.fs)
    const kept: string[] = []
    for (const m of matches) if (!m.endsWith('.py') || !(await filter.fileExcluded(m))) kept.push(m)
    matches = kept
  }
  for (const m of matches) checkInside(line, m, ctx.root, ctx)
  if (matches.length === 0)
    throw new LineError(
      `no file matches '${line}' (relative to ${ctx.cwd}); check the pattern and that the files are checked out`,
    )
  return sortedFound(matches, ctx)
}

async function sortedFound(files: string[], ctx: Context): Promise<Found[]> {
  const found = await Promise.all(files.map(async (f) => ({ path: shown(f, ctx), real: await realpath(f) })))
  return found.sort((a, b) => compareCodePoints(a.path, b.path))
}

function checkInside(line: string, target: string, root: string, ctx: Context): void {
  if (isInside(target, root)) return
  throw new LineError(
    `'${line}' resolves to ${target}, outside the working directory ${ctx.cwd}; specs must be inside the ` +
      'working directory',
  )
}

function isInside(target: string, root: string): boolean {
  const rel = path.relative(root, target)
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel))
}

/** cwd-relative, '/'-separated. */
function shown(file: string, ctx: Context): string {
  return path.relative(ctx.root, file).split(path.sep).join('/')
}

/** Code-point order (UTF-16 code-unit order differs for characters beyond the BMP). */
function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

async function statOrNull(p: string): Promise<Awaited<ReturnType<typeof stat>> | null> {
  try {
    return await stat(p)
  } catch (err) {
    if (isMissing(err)) return null
    throw err
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP'
}

/** Cached looks at the workspace: `.gitignore` rules and whether a folder holds `.git` or `pyvenv.cfg`. */
class FsCache {
  private readonly rules = new Map<string, Promise<Ignore | null>>()
  private readonly entries = new Map<string, Promise<boolean>>()

  /** A folder's `.gitignore`, when it is a regular file (git does not follow a symlinked one either). */
  gitignore(dir: string): Promise<Ignore | null> {
    let rules = this.rules.get(dir)
    if (!rules) {
      rules = readGitignore(path.join(dir, '.gitignore'))
      this.rules.set(dir, rules)
    }
    return rules
  }

  has(dir: string, name: string): Promise<boolean> {
    const p = path.join(dir, name)
    let exists = this.entries.get(p)
    if (!exists) {
      exists = lstat(p).then(
        () => true,
        (err: unknown) => {
          if (isMissing(err)) return false
          throw err
        },
      )
      this.entries.set(p, exists)
    }
    return exists
  }

  /** The nearest folder at or above `dir` that holds `.git` (a folder, or a file in worktrees and submodules). */
  async gitRoot(dir: string): Promise<string | null> {
    for (let d = dir; ; d = path.dirname(d)) {
      if (await this.has(d, '.git')) return d
      if (path.dirname(d) === d) return null
    }
  }
}

async function readGitignore(file: string): Promise<Ignore | null> {
  try {
    if (!(await lstat(file)).isFile()) return null
    const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '')
    // Git matches case-sensitively unless core.ignorecase is set, which it is not on Linux.
    return ignore({ ignorecase: false }).add(text)
  } catch (err) {
    if (isMissing(err)) return null
    throw err
  }
}

/** The `.gitignore` files that apply in one folder, shallowest first, each with the folder it sits in. */
type Levels = readonly { dir: string; rules: Ignore }[]

/**
 * What a walk from `base` leaves out. `base` itself is never left out: the line named it. Below it, a folder is
 * left out by its name, by holding `pyvenv.cfg`, or by the `.gitignore` files from the repository root down, as
 * git reads them: a deeper file's rules decide before a shallower one's, and nothing below an excluded folder
 * comes back. A folder holding `.git` (a nested repository) starts its own rules.
 */
class ScopedFilter {
  private readonly levelsByDir = new Map<string, Promise<Levels>>()
  private readonly excludedDirs = new Map<string, Promise<boolean>>()

  private constructor(
    private readonly base: string,
    private readonly fs: FsCache,
  ) {}

  static async create(base: string, fs: FsCache): Promise<ScopedFilter> {
    const filter = new ScopedFilter(base, fs)
    // The rules of the folders above base, up to the repository root (none outside a repository).
    const top = await fs.gitRoot(base)
    const above: { dir: string; rules: Ignore }[] = []
    if (top !== null && top !== base) {
      const chain: string[] = []
      for (let d = path.dirname(base); ; d = path.dirname(d)) {
        chain.unshift(d)
        if (d === top) break
      }
      for (const dir of chain) {
        const rules = await fs.gitignore(dir)
        if (rules) above.push({ dir, rules })
      }
    }
    // A folder the line names is walked even when those rules exclude it; then they do not apply inside it.
    const inherited = ignored(above, base, true) ? [] : above
    const own = await fs.gitignore(base)
    filter.levelsByDir.set(base, Promise.resolve(own ? [...inherited, { dir: base, rules: own }] : inherited))
    return filter
  }

  /** Whether a folder strictly below base, or one of the folders between, is left out. */
  dirExcluded(dir: string): Promise<boolean> {
    let excluded = this.excludedDirs.get(dir)
    if (!excluded) {
      excluded = this.computeDirExcluded(dir)
      this.excludedDirs.set(dir, excluded)
    }
    return excluded
  }

  /** Whether a file below base is left out, by its folders or by `.gitignore`. */
  async fileExcluded(file: string): Promise<boolean> {
    const parent = path.dirname(file)
    if (parent !== this.base && (await this.dirExcluded(parent))) return true
    return this.fileIgnored(file)
  }

  /** Whether `.gitignore` excludes a file whose folder is not left out. */
  async fileIgnored(file: string): Promise<boolean> {
    return ignored(await this.levels(path.dirname(file)), file, false)
  }

  private async computeDirExcluded(dir: string): Promise<boolean> {
    if (dir === this.base || !isInside(dir, this.base)) return false
    const parent = path.dirname(dir)
    if (parent !== this.base && (await this.dirExcluded(parent))) return true
    const name = path.basename(dir)
    if (name.startsWith('.') || SKIPPED_FOLDERS.has(name)) return true
    if (await this.fs.has(dir, 'pyvenv.cfg')) return true
    return ignored(await this.levels(parent), dir, true)
  }

  private levels(dir: string): Promise<Levels> {
    let levels = this.levelsByDir.get(dir)
    if (!levels) {
      levels = this.computeLevels(dir)
      this.levelsByDir.set(dir, levels)
    }
    return levels
  }

  private async computeLevels(dir: string): Promise<Levels> {
    if (!isInside(dir, this.base)) return [] // only a glob with '..' after its first glob segment gets here
    const inherited = (await this.fs.has(dir, '.git')) ? [] : await this.levels(path.dirname(dir))
    const own = await this.fs.gitignore(dir)
    return own ? [...inherited, { dir, rules: own }] : inherited
  }
}

/** Git's answer for one path: the deepest `.gitignore` with a rule that matches it decides. */
function ignored(levels: Levels, target: string, isDir: boolean): boolean {
  for (let i = levels.length - 1; i >= 0; i--) {
    const level = levels[i]!
    const rel = path.relative(level.dir, target).split(path.sep).join('/') + (isDir ? '/' : '')
    const result = level.rules.test(rel)
    if (result.ignored) return true
    if (result.unignored) return false
  }
  return false
}
