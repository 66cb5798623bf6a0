/**
 * docker-py's `PatternMatcher` (docker/utils/build.py, docker 7.1.0) with its own `fnmatch`
 * (docker/utils/fnmatch.py). flytekit's DockerIgnore feeds `.dockerignore` lines to it, so it decides which
 * source files are hashed. Its rules differ from the Docker CLI's in places (matching is case-insensitive,
 * a pattern also matches any parent directory of the path), and it is those rules that are reproduced here.
 */
import { pyStrip } from '../pyvalues/str-methods.js'
import { pyDirname } from './os-path.js'

export class PatternError extends Error {
  override name = 'PatternError'
}

interface Pattern {
  exclusion: boolean
  /** The pattern split on '/', without empty and '.' parts, '..' resolved (Pattern.normalize). */
  dirs: string[]
  regex: RegExp
}

export class PatternMatcher {
  private readonly patterns: Pattern[]

  constructor(lines: string[]) {
    // Patterns that normalise to nothing ('', '.', '/') are dropped; '!.dockerignore' always comes last.
    this.patterns = [...lines, '!.dockerignore'].map(parsePattern).filter((p) => p.dirs.length > 0)
  }

  /** The last pattern that matches the path, or one of its parent directories, decides. */
  matches(filepath: string): boolean {
    let matched = false
    const parentPath = pyDirname(filepath)
    const parentDirs = splitPath(parentPath)
    for (const pattern of this.patterns) {
      let match = pattern.regex.test(filepath.toLowerCase())
      if (!match && parentPath !== '' && pattern.dirs.length <= parentDirs.length) {
        match = pattern.regex.test(parentDirs.slice(0, pattern.dirs.length).join('/').toLowerCase())
      }
      if (match) matched = !pattern.exclusion
    }
    return matched
  }
}

function splitPath(p: string): string[] {
  return p.split('/').filter((part) => part !== '' && part !== '.')
}

function parsePattern(line: string): Pattern {
  const exclusion = line.startsWith('!')
  const dirs = normalise(exclusion ? line.slice(1) : line)
  return { exclusion, dirs, regex: translate(dirs.join('/').toLowerCase()) }
}

/** Pattern.normalize: strip, split, and let each '..' remove itself and the part before it. */
function normalise(p: string): string[] {
  const split = splitPath(pyStrip(p))
  let i = 0
  while (i < split.length) {
    if (split[i] === '..') {
      split.splice(i, 1)
      if (i > 0) {
        split.splice(i - 1, 1)
        i--
      }
    } else {
      i++
    }
  }
  return split
}

const REGEX_SYNTAX = /[\\^$.*+?()[\]{}|/]/

/**
 * docker-py's fnmatch.translate, written for JavaScript: `**` spans directories, `*` and `?` stay within
 * one, `[...]`/`[!...]` are classes. Python's `.` (no DOTALL) becomes `[^\n]`, and its `$` (which also
 * matches before a final newline) becomes `\n?$`.
 */
function translate(pat: string): RegExp {
  const chars = Array.from(pat)
  let res = '^'
  let i = 0
  while (i < chars.length) {
    const c = chars[i++] as string
    if (c === '*') {
      if (chars[i] === '*') {
        i++
        // `**/` is treated as `**`.
        if (chars[i] === '/') i++
        res += i >= chars.length ? '[^\\n]*' : '(?:[^\\n]*/)?'
      } else {
        res += '[^/]*'
      }
    } else if (c === '?') {
      res += '[^/]'
    } else if (c === '[') {
      const cls = charClass(chars, i)
      res += cls.regex
      i = cls.next
    } else {
      res += REGEX_SYNTAX.test(c) ? `\\${c}` : c
    }
  }
  try {
    return new RegExp(`${res}\\n?$`, 'u')
  } catch (e) {
    throw new PatternError(`'${pat}' is not a valid pattern: ${(e as Error).message}`)
  }
}

/** A `[...]` class starting after the '['; an unclosed '[' is a literal bracket. */
function charClass(chars: string[], start: number): { regex: string; next: number } {
  let j = start
  if (chars[j] === '!') j++
  if (chars[j] === ']') j++
  while (j < chars.length && chars[j] !== ']') j++
  if (j >= chars.length) return { regex: '\\[', next: start }
  let stuff = chars.slice(start, j).join('').replaceAll('\\', '\\\\')
  if (stuff.startsWith('!')) stuff = `^${stuff.slice(1)}`
  else if (stuff.startsWith('^')) stuff = `\\${stuff}`
  // Python takes a leading ']' literally; JavaScript needs it escaped.
  return { regex: `[${stuff.replaceAll(']', '\\]')}]`, next: j + 1 }
}
