/**
 * The ignore rules on their own. PatternMatcher expectations are what docker-py 7.1.0's
 * `PatternMatcher(patterns).matches(path)` returned for the same inputs; .dockerignore line handling is
 * what flytekit's `[l.strip() for l in f.readlines() if l and not l.startswith("#")]` returned under
 * Python 3.11.7.
 */
import { afterAll, describe, expect, test } from '@jest/globals'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { PatternMatcher } from '../../src/tag/docker-pattern.js'
import { dockerignoreLines, StandardIgnore } from '../../src/tag/ignore.js'
import { TempDirs } from '../support/temp-dirs.js'

const PATHS = [
  'app.log',
  'keep.log',
  'sub/app.log',
  'build',
  'build/out.bin',
  'src/build/x',
  'docs/a.md',
  'docs/sub/b.md',
  'DOCS/A.MD',
  'x.tmp',
  'deep/dir/x.tmp',
  'cache',
  'a/cache/f',
  'a/z',
  'a/b/c/z',
  'img.png',
  'IMG.Png',
  'ax',
  'dx',
  'by',
  'ay',
  ']z',
  'qa',
  'q/',
  'y',
  'w',
  'abs',
  'abs/f',
  'padded',
  'spaced',
  '[unclosed',
  'plus+dots.(x)',
  'dir',
  'dir/f',
  '.dockerignore',
  'sub/.dockerignore',
]

describe('PatternMatcher (docker-py)', () => {
  test.each([
    [
      'negation, parents of the path, one-level globs, case-insensitive',
      ['*.log', '!keep.log', 'build', 'docs/*.md'],
      ['app.log', 'build', 'build/out.bin', 'docs/a.md', 'DOCS/A.MD'],
    ],
    [
      '** spans directories',
      ['**/*.tmp', '**/cache', 'a/**/z'],
      ['x.tmp', 'deep/dir/x.tmp', 'cache', 'a/cache/f', 'a/z', 'a/b/c/z'],
    ],
    [
      'classes and ?',
      ['*.PNG', '[a-c]x', '[!a]y', '[]]z', 'q?'],
      ['img.png', 'IMG.Png', 'ax', 'by', ']z', 'qa'],
    ],
    [
      "'..', '.', slashes and spaces are normalised; empty patterns dropped",
      ['./x/../y', '../w', '/abs/', '.', '', '  padded  ', '! spaced'],
      ['y', 'w', 'abs', 'abs/f', 'padded'],
    ],
    [
      'an unclosed [ and regex characters are literal',
      ['[unclosed', 'plus+dots.(x)', 'dir/'],
      ['[unclosed', 'plus+dots.(x)', 'dir', 'dir/f'],
    ],
  ])('%s', (_why, patterns, expected) => {
    const matcher = new PatternMatcher(patterns)
    expect(PATHS.filter((p) => matcher.matches(p))).toEqual(expected)
  })

  test('.dockerignore itself is always kept', () => {
    expect(new PatternMatcher(['*', '.*']).matches('.dockerignore')).toBe(false)
    expect(new PatternMatcher(['*', '.*']).matches('other')).toBe(true)
  })
})

describe('.dockerignore lines', () => {
  const dirs = new TempDirs()
  afterAll(() => dirs.removeAll())

  test('universal newlines, "#" tested before stripping, Python whitespace, byte order mark kept', async () => {
    const file = path.join(await dirs.make(), '.dockerignore')
    await writeFile(
      file,
      Buffer.from('\ufeff*.log\r\n  # not a comment\r\n#comment\rbuild  \n\n\f tail\x1c', 'utf8'),
    )
    expect(await dockerignoreLines(file)).toEqual(['\ufeff*.log', '# not a comment', 'build', '', 'tail'])
  })

  test('no file, no patterns', async () => {
    expect(await dockerignoreLines(path.join(await dirs.make(), '.dockerignore'))).toEqual([])
  })
})

describe('StandardIgnore (fnmatch, where * crosses /)', () => {
  test.each([
    ['a.pyc', true],
    ['proj/pkg/mod.pyc', true],
    ['.cache', true],
    ['.cache/x/y', true],
    ['proj/.cache/x', false],
    ['__pycache__/m.pyc', true],
    ['__pycache__/m.txt', true],
    ['proj/__pycache__/m.txt', true],
    ['__pycache__', false],
    ['main.py', false],
  ])('%s -> %s', async (p, expected) => {
    expect(await new StandardIgnore().isIgnored(p)).toBe(expected)
  })
})
