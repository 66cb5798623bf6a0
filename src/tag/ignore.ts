/**
 * flytekit's ignore rules for hashing `source_root` (flytekit/tools/ignore.py): a file is left out when
 * git, `.dockerignore` or the standard patterns ignore it.
 *
 * The path each rule sees is the walked path made relative to the root only when it is absolute. With a
 * relative `source_root` the rules see `root/...` paths, so .gitignore entries and root-anchored
 * .dockerignore patterns never match there. That is flytekit's behaviour and the tag depends on it.
 */
// flytekit's own tag runs `git ls-files` for source_root: asking git is part of the tag, not an edge.
// eslint-disable-next-line no-restricted-imports
import { spawn } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import { pyStrip } from '../pyvalues/str-methods.js'
import { PatternMatcher } from './docker-pattern.js'
import { onDisk, pathlibPosix, pyIsAbs, pyJoin, pyRelpath } from './os-path.js'

export interface Ignore {
  /**
   * `Ignore.is_ignored`: absolute paths are first made relative to the root. `notDir` says the caller knows the
   * path is no directory (os.walk listed it among the files), which spares GitIgnore a stat per file.
   */
  isIgnored(path: string, opts?: IgnoreOptions): Promise<boolean>
}

export interface IgnoreOptions {
  notDir?: boolean
}

/** IgnoreGroup(root, [GitIgnore, DockerIgnore, StandardIgnore]), as ImageSpec.tag builds it. */
export async function sourceRootIgnores(root: string, cwd: string): Promise<Ignore> {
  const ignores = [
    await GitIgnore.create(root, cwd),
    await DockerIgnore.create(root, cwd),
    new StandardIgnore(),
  ]
  return {
    async isIgnored(p: string, opts?: IgnoreOptions): Promise<boolean> {
      if (!pyIsAbs(p)) {
        // A relative path is tested as it is, and GitIgnore stats `root/path`, which is not the walked file:
        // what the caller knows about the file says nothing about that path.
        for (const ignore of ignores) if (await ignore.isIgnored(p)) return true
        return false
      }
      const rel = pyRelpath(p, root, cwd)
      for (const ignore of ignores) if (await ignore.isIgnored(rel, opts)) return true
      return false
    },
  }
}

/**
 * GitIgnore: the untracked ignored files `git ls-files -io --exclude-standard` lists in the root, compared
 * as strings (so paths git quotes, such as non-ASCII names, never match). Outside a git work tree, or
 * without git, nothing is ignored.
 */
export class GitIgnore implements Ignore {
  private constructor(
    private readonly root: string,
    private readonly cwd: string,
    private readonly files: Set<string>,
    private readonly dirs: Set<string>,
  ) {}

  static async create(root: string, cwd: string): Promise<GitIgnore> {
    // Once per root, both listings at once (flytekit runs them one after the other; the output is the same).
    const [files, dirs] = await Promise.all([
      gitLsIgnored(root, cwd, []),
      gitLsIgnored(root, cwd, ['--directory']),
    ])
    return new GitIgnore(root, cwd, files, dirs)
  }

  async isIgnored(p: string, opts?: IgnoreOptions): Promise<boolean> {
    if (this.files.size === 0) return false
    const posix = pathlibPosix(p)
    if (this.files.has(posix)) return true
    // flytekit also checks `os.path.isdir(os.path.join(root, path))` against the `--directory` listing.
    if (opts?.notDir === true) return false
    if (this.dirs.size > 0 && (await isDir(onDisk(pyJoin(this.root, p), this.cwd))))
      return this.dirs.has(`${posix}/`)
    return false
  }
}

async function gitLsIgnored(root: string, cwd: string, extra: string[]): Promise<Set<string>> {
  const out = await run('git', ['ls-files', '-io', '--exclude-standard', ...extra], onDisk(root, cwd))
  if (out === undefined) return new Set()
  // `stdout.decode("utf-8").split("\n")[:-1]`
  const lines = new TextDecoder('utf-8', { fatal: true }).decode(out).split('\n')
  return new Set(lines.slice(0, -1))
}

/** Runs a command; undefined when it cannot start or exits non-zero (flytekit then applies no filter). */
function run(cmd: string, args: string[], cwd: string): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
    const chunks: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => chunks.push(c))
    child.on('error', () => resolve(undefined))
    child.on('close', (code) => resolve(code === 0 ? Buffer.concat(chunks) : undefined))
  })
}

/** DockerIgnore: docker-py's PatternMatcher over the lines of `<root>/.dockerignore`. */
export class DockerIgnore implements Ignore {
  private constructor(private readonly matcher: PatternMatcher) {}

  static async create(root: string, cwd: string): Promise<DockerIgnore> {
    return new DockerIgnore(
      new PatternMatcher(await dockerignoreLines(onDisk(pyJoin(root, '.dockerignore'), cwd))),
    )
  }

  async isIgnored(p: string): Promise<boolean> {
    return this.matcher.matches(p)
  }
}

/**
 * `[l.strip() for l in f.readlines() if l and not l.startswith("#")]` on a text-mode file: universal
 * newlines, the '#' test before stripping, Python's whitespace, and a byte order mark kept as a character.
 */
export async function dockerignoreLines(file: string): Promise<string[]> {
  if (!(await isFile(file))) return []
  const bytes = await readFile(file)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    throw new Error(`${file} is not valid UTF-8 text, so flytekit could not read it`)
  }
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  return lines.filter((l) => !l.startsWith('#')).map(pyStrip)
}

/** StandardIgnore: `fnmatch` against flytekit's STANDARD_IGNORE_PATTERNS. */
export class StandardIgnore implements Ignore {
  // ["*.pyc", ".cache", ".cache/*", "__pycache__/*", "**/__pycache__/*"] through fnmatch.translate: `*`
  // matches anything, '/' included, and the whole path must match.
  private static readonly PATTERNS = [
    /^[\s\S]*\.pyc$/,
    /^\.cache$/,
    /^\.cache\/[\s\S]*$/,
    /^__pycache__\/[\s\S]*$/,
    /^[\s\S]*\/__pycache__\/[\s\S]*$/,
  ]

  async isIgnored(p: string): Promise<boolean> {
    return StandardIgnore.PATTERNS.some((re) => re.test(p))
  }
}

async function isDir(full: string): Promise<boolean> {
  try {
    return (await stat(full)).isDirectory()
  } catch {
    return false
  }
}

async function isFile(full: string): Promise<boolean> {
  try {
    return (await stat(full)).isFile()
  } catch {
    return false
  }
}
