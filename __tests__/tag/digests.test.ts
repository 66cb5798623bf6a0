/**
 * The file digests behind the tag. Expected digests come from running flytekit's own functions
 * (compute_digest, ls_files with GitIgnore/DockerIgnore/StandardIgnore and docker-py's PatternMatcher) under
 * Python 3.11.7 on the same trees, pasted as literals.
 */
import { afterAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import path from 'node:path'
import { copyDigest } from '../../src/tag/copy-digest.js'
import { requirementsDigest, stripAsciiWhitespace } from '../../src/tag/requirements-digest.js'
import { lsFilesAll, sourceRootDigest } from '../../src/tag/source-root-digest.js'
import { TempDirs } from '../support/temp-dirs.js'

type Tree = Record<string, string | Buffer | { symlink: string }>

const dirs = new TempDirs()
afterAll(() => dirs.removeAll())

async function makeTree(tree: Tree): Promise<string> {
  const cwd = await dirs.make('imagespec-digest-')
  for (const [rel, content] of Object.entries(tree)) {
    const full = path.join(cwd, rel)
    await mkdir(path.dirname(full), { recursive: true })
    if (typeof content === 'object' && !Buffer.isBuffer(content)) await symlink(content.symlink, full)
    else await writeFile(full, content)
  }
  return cwd
}

const MD5_OF_NOTHING = 'd41d8cd98f00b204e9800998ecf8427e'

describe('requirements: sha1 of bytes.strip()', () => {
  test.each([
    ['plain', 'pandas==2.2.2\nnumpy>=1.26\n', 'fd5b8c53137f3eff8ab0abed7dc10798324866ec'],
    [
      'ASCII whitespace around it',
      '\n\n  pandas==2.2.2\nnumpy>=1.26\n\n\t \x0b\x0c\r\n',
      'fd5b8c53137f3eff8ab0abed7dc10798324866ec',
    ],
    [
      'a byte order mark is not whitespace',
      '\ufeffpandas==2.2.2\nnumpy>=1.26\n',
      'a3c32df5971050b91c91b24c55476c4e913e0308',
    ],
    [
      'nor is a no-break space',
      '\u00a0pandas==2.2.2\nnumpy>=1.26\n',
      'dcc46a3f041025deedf97eda062e0978370c249b',
    ],
    ['CRLF inside is kept', 'pandas==2.2.2\r\nnumpy>=1.26\r\n', '18e82b2af0a6926eafe291e5771db4c1bf4ee615'],
    ['empty', '', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
    ['only whitespace', ' \n\t', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
  ])('%s', async (_why, content, expected) => {
    const cwd = await makeTree({ 'requirements.txt': content })
    expect(await requirementsDigest(path.join(cwd, 'requirements.txt'))).toBe(expected)
  })

  test('strips exactly the six ASCII whitespace bytes', () => {
    const bytes = Buffer.from([0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c, 0x41, 0x1c, 0x0c])
    expect(Buffer.from(stripAsciiWhitespace(bytes))).toEqual(Buffer.from([0x41, 0x1c]))
  })
})

describe('copy: compute_digest(list)', () => {
  const COPY_TREE: Tree = {
    'a.txt': 'hello\n',
    'b.txt': 'world\n',
    'sub/a.txt': 'hello\n',
    'data/x.csv': '1,2\n',
    'data/B.txt': 'B\n',
    'data/a.txt': 'a\n',
    'data/nested/deep/y.txt': 'y\n',
    'link.txt': { symlink: 'a.txt' },
    dangling: { symlink: 'missing-target' },
  }

  test.each([
    ['files', ['a.txt', 'b.txt'], 'a20a647ccdefd6ad159ddef21274ee99'],
    ['the same files in the other order', ['b.txt', 'a.txt'], 'f05930d2ed39db8d72d2f87ec23df5ed'],
    ['a file in a subdirectory hashes its basename only', ['sub/a.txt'], '0c77199d163d69d17cf185a263725bc4'],
    ['the same content and basename at the top', ['a.txt'], '0c77199d163d69d17cf185a263725bc4'],
    [
      'a directory: sorted names per directory, paths relative to it',
      ['data'],
      '7743b561fceaa95fdbcf254f4e553fbf',
    ],
    ['a trailing slash changes nothing', ['data/'], '7743b561fceaa95fdbcf254f4e553fbf'],
    ['missing paths are skipped', ['missing', 'nope/x'], MD5_OF_NOTHING],
    [
      'a symlink hashes its target content under its own name',
      ['link.txt'],
      'faa800b72c760543ae1de631bc8d1b34',
    ],
    ['a dangling symlink is skipped', ['dangling', 'a.txt'], '0c77199d163d69d17cf185a263725bc4'],
    [
      'directory, file and missing path together',
      ['data', 'a.txt', 'missing'],
      'dcdeb4434318f9e24bd8b900c4d22447',
    ],
  ])('%s', async (_why, paths, expected) => {
    const cwd = await makeTree(COPY_TREE)
    expect(await copyDigest(paths, cwd)).toBe(expected)
  })
})

describe('source_root: ls_files(ALL) with the git, .dockerignore and standard ignores', () => {
  const SOURCE_TREE: Tree = {
    'proj/main.py': "print('hi')\n",
    'proj/pkg/__init__.py': '',
    'proj/pkg/mod.py': 'X = 1\n',
    'proj/pkg-a/x.py': 'A = 1\n',
    'proj/pkg/mod.pyc': 'junk',
    'proj/__pycache__/main.cpython-311.pyc': 'junk',
    'proj/sub/__pycache__/m.cpython-311.pyc': 'junk',
    'proj/.cache/c': 'junk',
    'proj/app.log': 'log',
    'proj/logs/deep.log': 'log',
    'proj/keep.log': 'keep',
    'proj/build/out.bin': 'bin',
    'proj/docs/a.md': '# a',
    'proj/docs/sub/b.md': '# b',
    'proj/README.md': '# readme',
    'proj/\uff26.txt': 'fullwidth',
    'proj/\u{1f600}.txt': 'emoji',
    'proj/x.tmp': 't',
    'proj/sub/y.tmp': 't',
    'proj/spaced.txt': 's',
    'proj/.dockerignore': '# comment\n*.log\n!keep.log\n**/*.tmp\nbuild\ndocs/*.md\n  spaced.txt  \n',
  }

  test('relative root: ignore rules see proj/... paths, so only unanchored patterns apply', async () => {
    const cwd = await makeTree(SOURCE_TREE)
    const { files, digest } = await lsFilesAll('proj', cwd)
    // Code point order: '-' < '/', and U+FF26 < U+1F600 (UTF-16 order would swap the last two).
    expect(files).toEqual([
      'proj/.cache/c',
      'proj/.dockerignore',
      'proj/README.md',
      'proj/app.log',
      'proj/build/out.bin',
      'proj/docs/a.md',
      'proj/docs/sub/b.md',
      'proj/keep.log',
      'proj/logs/deep.log',
      'proj/main.py',
      'proj/pkg-a/x.py',
      'proj/pkg/__init__.py',
      'proj/pkg/mod.py',
      'proj/spaced.txt',
      'proj/\uff26.txt',
      'proj/\u{1f600}.txt',
    ])
    expect(digest).toBe('62e9bf7813e85ab0b37749043b1380d5')
  })

  test('absolute root: every pattern applies to root-relative paths', async () => {
    const cwd = await makeTree(SOURCE_TREE)
    const { files, digest } = await lsFilesAll(path.join(cwd, 'proj'), cwd)
    expect(files.map((f) => path.relative(cwd, f))).toEqual([
      'proj/.dockerignore',
      'proj/README.md',
      'proj/docs/sub/b.md',
      'proj/keep.log',
      'proj/logs/deep.log',
      'proj/main.py',
      'proj/pkg-a/x.py',
      'proj/pkg/__init__.py',
      'proj/pkg/mod.py',
      'proj/\uff26.txt',
      'proj/\u{1f600}.txt',
    ])
    expect(digest).toBe('d54a8414966258d34c242c855951375a')
  })

  const GIT_TREE: Tree = {
    'repo/.gitignore': '*.log\nbuild/\n',
    'repo/main.py': 'x\n',
    'repo/app.log': 'log',
    'repo/build/out.bin': 'bin',
    'repo/src/x.log': 'log',
    'repo/src/keep.txt': 'keep',
  }

  async function gitTree(): Promise<string> {
    const cwd = await makeTree(GIT_TREE)
    execFileSync('git', ['init', '-q', 'repo'], { cwd })
    return cwd
  }

  test('.gitignore applies to an absolute root (and .git is never walked)', async () => {
    const cwd = await gitTree()
    const { files, digest } = await lsFilesAll(path.join(cwd, 'repo'), cwd)
    expect(files.map((f) => path.relative(cwd, f))).toEqual([
      'repo/.gitignore',
      'repo/main.py',
      'repo/src/keep.txt',
    ])
    expect(digest).toBe('e00c6716934be8290289f6c8f9f70ce7')
  })

  test('.gitignore never matches under a relative root', async () => {
    const cwd = await gitTree()
    const { files, digest } = await lsFilesAll('repo', cwd)
    expect(files).toEqual([
      'repo/.gitignore',
      'repo/app.log',
      'repo/build/out.bin',
      'repo/main.py',
      'repo/src/keep.txt',
      'repo/src/x.log',
    ])
    expect(digest).toBe('45e15f7ce85f466ce3f56c90192a41db')
  })

  test('symlinks: a file link is hashed, a directory link is not entered, a dangling link is skipped', async () => {
    const cwd = await makeTree({
      'links/real.txt': 'real\n',
      'links/link.txt': { symlink: 'real.txt' },
      'links/sub/inner.txt': 'inner\n',
      'links/dirlink': { symlink: 'sub' },
      'links/dangling': { symlink: 'nowhere' },
    })
    const { files, digest } = await lsFilesAll('links', cwd)
    expect(files).toEqual(['links/link.txt', 'links/real.txt', 'links/sub/inner.txt'])
    expect(digest).toBe('8baacc12532ea79812ace64cd06f032d')
  })

  test('a socket is skipped', async () => {
    const cwd = await makeTree({ 'sock/a.txt': 'a' })
    const before = await sourceRootDigest('sock', cwd)
    const server: Server = createServer()
    await new Promise<void>((resolve) => server.listen(path.join(cwd, 'sock/s.sock'), resolve))
    try {
      expect(await sourceRootDigest('sock', cwd)).toBe(before)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  test('a missing root hashes nothing', async () => {
    const cwd = await makeTree({})
    expect(await sourceRootDigest('nope', cwd)).toBe(MD5_OF_NOTHING)
  })
})
