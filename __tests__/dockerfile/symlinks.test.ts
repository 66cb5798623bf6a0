/**
 * Symbolic links in the paths the build context takes (copy, source_root, requirements and the files beside a lock
 * file): one that leads outside the working directory, or would make the copy endless, is refused with the path
 * and where it leads, by the tag (before any registry is asked) and again by the context writer, which then writes
 * nothing. Links inside the tree are allowed and hashed exactly as flytekit hashes them.
 *
 * Each test builds a real tree: `<runner>/work` is the working directory, `<runner>/outside` the runner's own files
 * (a docker config.json holding a marker secret, a folder). The expected digests of the allowed trees were derived
 * by hand (md5sum of the bytes flytekit's hasher is fed) and checked with a Python re-implementation of flytekit's
 * compute_digest and ls_files (os.walk without followlinks, os.path.exists and open following links) run on the
 * same trees; the expected tags were computed by Python's own repr and hashlib.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { writeBuildContext, type ContextOptions } from '../../src/dockerfile/context.js'
import { SpecError } from '../../src/errors.js'
import type { ImageSpec } from '../../src/spec/model.js'
import { copyDigest } from '../../src/tag/copy-digest.js'
import { requirementsDigest } from '../../src/tag/requirements-digest.js'
import { lsFilesAll, sourceRootDigest } from '../../src/tag/source-root-digest.js'
import { computeTag } from '../../src/tag/tag.js'

const MARKER = 'marker-secret-7f3a9c1e'

let runner: string
let outside: string
let cwd: string
let out: string

beforeEach(() => {
  runner = realpathSync(mkdtempSync(path.join(tmpdir(), 'imagespec-links-')))
  outside = path.join(runner, 'outside')
  cwd = path.join(runner, 'work')
  out = path.join(runner, 'temp', 'context')
  mkdirSync(path.join(outside, 'dir'), { recursive: true })
  mkdirSync(cwd)
  writeFileSync(path.join(outside, 'config.json'), `{"auths":{"ghcr.io":{"auth":"${MARKER}"}}}`)
  writeFileSync(path.join(outside, 'dir', 'id_rsa'), MARKER)
  writeFileSync(path.join(outside, 'pyproject.toml'), `[project]\nname = "${MARKER}"\n`)
})
afterEach(() => rmSync(runner, { recursive: true, force: true }))

function put(rel: string, content: string): void {
  mkdirSync(path.dirname(path.join(cwd, rel)), { recursive: true })
  writeFileSync(path.join(cwd, rel), content)
}

/** A symbolic link at `rel` (inside the working directory) with the target written as given. */
function link(target: string, rel: string): void {
  mkdirSync(path.dirname(path.join(cwd, rel)), { recursive: true })
  symlinkSync(target, path.join(cwd, rel))
}

const spec = (fields: Partial<ImageSpec>): ImageSpec => ({
  name: 'app',
  platform: 'linux/amd64',
  ...fields,
})

const OPTS: ContextOptions = {
  installer: 'uv',
  flytekitRequirement: 'flytekit==1.16.24',
  specId: 'id1',
  defaultPythonVersion: '3.11',
  listSourceFiles: async (root) => (await lsFilesAll(root, cwd)).files,
}

type Issue = { path: string; message: string }

async function issuesOf(p: Promise<unknown>): Promise<Issue[]> {
  try {
    await p
  } catch (err) {
    if (err instanceof SpecError) return err.issues.map(({ path, message }) => ({ path, message }))
    throw err
  }
  throw new Error('expected a SpecError')
}

/** The writer's refusal; it must have written nothing (not even the context folder). */
async function contextIssues(s: ImageSpec, opts: ContextOptions = OPTS): Promise<Issue[]> {
  const issues = await issuesOf(writeBuildContext(s, opts, cwd, out))
  expect(existsSync(out)).toBe(false)
  return issues
}

/** Every file under `dir` (links followed, as a copy holds them), relative, sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((rel) => statSync(path.join(dir, rel)).isFile())
    .sort()
}

/** The refusal as source_root gives it: its own fix follows. */
const outsideBase = (): string =>
  `outside the working directory ${cwd}; only files inside it can go into the image`
const outsideEnd = (): string =>
  `outside the working directory ${cwd}; only files inside it can go into the image: remove the link, or put a copy of what it points to inside the working directory`

describe('copy: a link that leads outside the working directory, or round in circles, is refused', () => {
  const cases: { name: string; setup: () => void; copy: string[]; issues: () => Issue[] }[] = [
    {
      name: 'a link to a file outside',
      setup: () => link(path.join(outside, 'config.json'), 'data/link'),
      copy: ['data/link'],
      issues: () => [
        {
          path: 'copy[0]',
          message: `'data/link' is a symbolic link to ${outside}/config.json, ${outsideEnd()}`,
        },
      ],
    },
    {
      name: 'a link to a folder outside, inside a copied folder',
      setup: () => {
        put('data/a.txt', 'a')
        link(path.join(outside, 'dir'), 'data/dirlink')
      },
      copy: ['data'],
      issues: () => [
        { path: 'copy[0]', message: `'data/dirlink' is a symbolic link to ${outside}/dir, ${outsideEnd()}` },
      ],
    },
    {
      name: 'a relative link that climbs out',
      setup: () => link('../../outside/config.json', 'data/rel'),
      copy: ['data/rel'],
      issues: () => [
        {
          path: 'copy[0]',
          message: `'data/rel' is a symbolic link to ${outside}/config.json, ${outsideEnd()}`,
        },
      ],
    },
    {
      name: "a link to '..' given as the entry: the folder above the working directory",
      setup: () => link('..', 'up'),
      copy: ['up'],
      issues: () => [{ path: 'copy[0]', message: `'up' is a symbolic link to ${runner}, ${outsideEnd()}` }],
    },
    {
      name: "a link to '..' inside a copied folder: the folder holding it, an endless copy",
      setup: () => {
        put('data/a.txt', 'a')
        link('..', 'data/up')
      },
      copy: ['data'],
      issues: () => [
        {
          path: 'copy[0]',
          message: `'data/up' is a symbolic link to ${cwd}, a folder that contains it, so copying it would never end (a symlink loop); remove the link`,
        },
      ],
    },
    {
      name: "a link to '.' inside a copied folder",
      setup: () => link('.', 'data/self'),
      copy: ['data'],
      issues: () => [
        {
          path: 'copy[0]',
          message: `'data/self' is a symbolic link to ${cwd}/data, a folder that contains it, so copying it would never end (a symlink loop); remove the link`,
        },
      ],
    },
    {
      name: 'two folders linking to each other',
      setup: () => {
        link('../e', 'd/to-e')
        link('../d', 'e/to-d')
      },
      copy: ['d'],
      issues: () => [
        {
          path: 'copy[0]',
          message: `'d/to-e/to-d' is a symbolic link to ${cwd}/d, a folder that contains it, so copying it would never end (a symlink loop); remove the link`,
        },
      ],
    },
    {
      name: 'a loop of links that never resolves',
      setup: () => {
        link('b', 'data/a')
        link('a', 'data/b')
      },
      copy: ['data'],
      issues: () => [
        {
          path: 'copy[0]',
          message: `'data/a' never resolves: its symbolic links lead to one another (a symlink loop); remove the link`,
        },
        {
          path: 'copy[0]',
          message: `'data/b' never resolves: its symbolic links lead to one another (a symlink loop); remove the link`,
        },
      ],
    },
    {
      name: 'a chain of links ending outside: the final target is named',
      setup: () => {
        link('second', 'data/first')
        link('../hop', 'data/second')
        link(path.join(outside, 'config.json'), 'hop')
      },
      copy: ['data/first'],
      issues: () => [
        {
          path: 'copy[0]',
          message: `'data/first' is a symbolic link to ${outside}/config.json, ${outsideEnd()}`,
        },
      ],
    },
    {
      name: 'a folder on the way is a link outside',
      setup: () => link(outside, 'cfg'),
      copy: ['cfg/config.json'],
      issues: () => [
        {
          path: 'copy[0]',
          message: `'cfg/config.json' leads through the symbolic link 'cfg' to ${outside}/config.json, ${outsideEnd()}`,
        },
      ],
    },
    {
      name: 'a dangling link outside (a file docker login writes later) is refused all the same',
      setup: () => {
        put('data/a.txt', 'a')
        link(path.join(outside, 'later.json'), 'data/later')
      },
      copy: ['data'],
      issues: () => [
        {
          path: 'copy[0]',
          message: `'data/later' is a symbolic link to ${outside}/later.json, ${outsideEnd()}`,
        },
      ],
    },
    {
      name: 'a link outside inside a folder that an inside link leads to',
      setup: () => {
        put('other/x.txt', 'x')
        link(path.join(outside, 'config.json'), 'other/creds')
        link('../other', 'data/other')
      },
      copy: ['data'],
      issues: () => [
        {
          path: 'copy[0]',
          message: `'data/other/creds' is a symbolic link to ${outside}/config.json, ${outsideEnd()}`,
        },
      ],
    },
    {
      name: 'a dangling link inside a copied folder (the copy cannot follow it)',
      setup: () => link('nowhere', 'data/dead'),
      copy: ['data'],
      issues: () => [
        {
          path: 'copy[0]',
          message: `'data/dead' is a symbolic link to ${cwd}/data/nowhere, which does not exist, so the folder cannot be copied (flytekit's copy fails on it too); remove the link or create its target`,
        },
      ],
    },
    {
      name: 'each entry under its own index, all reported together',
      setup: () => {
        put('ok.txt', 'ok')
        link(path.join(outside, 'config.json'), 'one')
        link(path.join(outside, 'dir'), 'two')
      },
      copy: ['ok.txt', 'one', 'two'],
      issues: () => [
        { path: 'copy[1]', message: `'one' is a symbolic link to ${outside}/config.json, ${outsideEnd()}` },
        { path: 'copy[2]', message: `'two' is a symbolic link to ${outside}/dir, ${outsideEnd()}` },
      ],
    },
  ]

  test.each(cases)('$name: refused by the tag', async ({ setup, copy, issues }) => {
    setup()
    expect(await issuesOf(computeTag(spec({ copy }), cwd))).toEqual(issues())
  })

  test.each(cases)(
    '$name: refused by the context writer, which writes nothing',
    async ({ setup, copy, issues }) => {
      setup()
      expect(await contextIssues(spec({ copy }))).toEqual(issues())
    },
  )

  test("a nested base spec's link is reported under base_image.", async () => {
    link(path.join(outside, 'config.json'), 'data/link')
    const s = spec({ base_image: spec({ name: 'base', copy: ['data/link'] }) })
    expect(await issuesOf(computeTag(s, cwd))).toEqual([
      {
        path: 'base_image.copy[0]',
        message: `'data/link' is a symbolic link to ${outside}/config.json, ${outsideEnd()}`,
      },
    ])
  })

  test('a link name with a line break is shown escaped: it cannot forge a line of the job log', async () => {
    link(path.join(outside, 'config.json'), 'data/x\n::error::forged')
    const [issue] = await issuesOf(computeTag(spec({ copy: ['data'] }), cwd))
    expect(issue?.message).toBe(
      `"data/x\\n::error::forged" is a symbolic link to ${outside}/config.json, ${outsideEnd()}`,
    )
  })
})

describe('source_root (mode ALL): the files it copies must resolve inside', () => {
  const HINT = ' (remove the link, or leave it out with a .dockerignore pattern)'
  const ALL = { source_copy_mode: 'ALL' as const }

  test('a file link outside is refused by the tag and by the lister the writer uses', async () => {
    put('proj/main.py', 'print(1)\n')
    link(path.join(outside, 'config.json'), 'proj/creds.json')
    const expected = [
      {
        path: 'source_root',
        message: `'proj/creds.json' is a symbolic link to ${outside}/config.json, ${outsideBase()}${HINT}`,
      },
    ]
    expect(await issuesOf(computeTag(spec({ source_root: 'proj', ...ALL }), cwd))).toEqual(expected)
    expect(await contextIssues(spec({ source_root: 'proj', ...ALL }))).toEqual(expected)
  })

  test('the writer checks every listed file itself, whatever the lister lets through', async () => {
    put('proj/main.py', 'print(1)\n')
    link(path.join(outside, 'config.json'), 'proj/creds.json')
    const naive = { ...OPTS, listSourceFiles: () => Promise.resolve(['proj/creds.json', 'proj/main.py']) }
    expect(await contextIssues(spec({ source_root: 'proj', ...ALL }), naive)).toEqual([
      {
        path: 'source_root',
        message: `'proj/creds.json' is a symbolic link to ${outside}/config.json, ${outsideEnd()}`,
      },
    ])
  })

  test('an absolute source_root inside names its files relative to the working directory', async () => {
    put('proj/main.py', 'print(1)\n')
    link(path.join(outside, 'config.json'), 'proj/creds.json')
    expect(await issuesOf(computeTag(spec({ source_root: path.join(cwd, 'proj'), ...ALL }), cwd))).toEqual([
      {
        path: 'source_root',
        message: `'proj/creds.json' is a symbolic link to ${outside}/config.json, ${outsideBase()}${HINT}`,
      },
    ])
  })

  test('a dangling link outside is refused (its target may exist when the context is written)', async () => {
    put('proj/main.py', 'print(1)\n')
    link(path.join(outside, 'later.json'), 'proj/later.json')
    expect(await issuesOf(computeTag(spec({ source_root: 'proj', ...ALL }), cwd))).toEqual([
      {
        path: 'source_root',
        message: `'proj/later.json' is a symbolic link to ${outside}/later.json, ${outsideBase()}${HINT}`,
      },
    ])
  })

  test('source_root itself a link outside, or an absolute path outside', async () => {
    link(path.join(outside, 'dir'), 'ext')
    expect(await issuesOf(computeTag(spec({ source_root: 'ext', ...ALL }), cwd))).toEqual([
      { path: 'source_root', message: `'ext' is a symbolic link to ${outside}/dir, ${outsideBase()}${HINT}` },
    ])
    expect(await contextIssues(spec({ source_root: 'ext', ...ALL }))).toEqual([
      { path: 'source_root', message: `'ext' is a symbolic link to ${outside}/dir, ${outsideEnd()}` },
    ])
    expect(await issuesOf(computeTag(spec({ source_root: outside, ...ALL }), cwd))).toEqual([
      { path: 'source_root', message: `'${outside}' is ${outsideBase()}${HINT}` },
    ])
  })

  test('a link an ignore rule drops is neither hashed nor copied, so it is not refused', async () => {
    put('proj/main.py', 'print(1)\n')
    const without = await sourceRootDigest('proj', cwd)
    // StandardIgnore's `*.pyc` (fnmatch, `*` crosses `/`) drops it.
    link(path.join(outside, 'config.json'), 'proj/creds.pyc')
    expect(await sourceRootDigest('proj', cwd)).toBe(without)
    // md5(b"print(1)\n" + b"main.py")
    expect(without).toBe('13164aad67360d377c32433a5f57ae8f')
  })

  test('NO_COPY copies and hashes nothing of source_root, so nothing is refused', async () => {
    link(path.join(outside, 'config.json'), 'proj/creds.json')
    const tagged = await computeTag(spec({ source_root: 'proj', source_copy_mode: 'NO_COPY' }), cwd)
    expect(tagged.hashInput).toContain("'source_root': 'proj'")
  })
})

describe('requirements, lock files and the pyproject.toml beside them', () => {
  const cases: { name: string; setup: () => void; requirements: () => string; issues: () => Issue[] }[] = [
    {
      name: 'a requirements file that is a link outside',
      setup: () => link(path.join(outside, 'config.json'), 'requirements.txt'),
      requirements: () => 'requirements.txt',
      issues: () => [
        {
          path: 'requirements',
          message: `'requirements.txt' is a symbolic link to ${outside}/config.json, ${outsideEnd()}`,
        },
      ],
    },
    {
      name: 'a uv.lock that is a link outside',
      setup: () => {
        link(path.join(outside, 'config.json'), 'deps/uv.lock')
        put('deps/pyproject.toml', '[project]\nname = "app"\n')
      },
      requirements: () => 'deps/uv.lock',
      issues: () => [
        {
          path: 'requirements',
          message: `'deps/uv.lock' is a symbolic link to ${outside}/config.json, ${outsideEnd()}`,
        },
      ],
    },
    {
      name: 'the pyproject.toml beside a uv.lock, a link outside (not hashed, but copied)',
      setup: () => {
        put('deps/uv.lock', 'version = 1\n')
        link(path.join(outside, 'pyproject.toml'), 'deps/pyproject.toml')
      },
      requirements: () => 'deps/uv.lock',
      issues: () => [
        {
          path: 'requirements',
          message: `'deps/pyproject.toml' (the pyproject.toml beside uv.lock) is a symbolic link to ${outside}/pyproject.toml, ${outsideEnd()}`,
        },
      ],
    },
    {
      name: 'a poetry.lock and its pyproject.toml, both links outside',
      setup: () => {
        link(path.join(outside, 'config.json'), 'poetry.lock')
        link('../outside/pyproject.toml', 'pyproject.toml')
      },
      requirements: () => 'poetry.lock',
      issues: () => [
        {
          path: 'requirements',
          message: `'poetry.lock' is a symbolic link to ${outside}/config.json, ${outsideEnd()}`,
        },
        {
          path: 'requirements',
          message: `'pyproject.toml' (the pyproject.toml beside poetry.lock) is a symbolic link to ${outside}/pyproject.toml, ${outsideEnd()}`,
        },
      ],
    },
    {
      name: 'requirements: pyproject.toml, a link outside',
      setup: () => link(path.join(outside, 'pyproject.toml'), 'pyproject.toml'),
      requirements: () => 'pyproject.toml',
      issues: () => [
        {
          path: 'requirements',
          message: `'pyproject.toml' is a symbolic link to ${outside}/pyproject.toml, ${outsideEnd()}`,
        },
      ],
    },
    {
      name: 'an absolute path outside',
      setup: () => undefined,
      requirements: () => path.join(outside, 'config.json'),
      issues: () => [{ path: 'requirements', message: `'${outside}/config.json' is ${outsideEnd()}` }],
    },
  ]

  test.each(cases)('$name: refused by the digest', async ({ setup, requirements, issues }) => {
    setup()
    expect(await issuesOf(requirementsDigest(requirements(), cwd))).toEqual(issues())
  })

  test.each(cases)('$name: refused by the tag', async ({ setup, requirements, issues }) => {
    setup()
    expect(await issuesOf(computeTag(spec({ requirements: requirements() }), cwd))).toEqual(issues())
  })

  test.each(cases)('$name: refused by the context writer', async ({ setup, requirements, issues }) => {
    setup()
    expect(await contextIssues(spec({ requirements: requirements() }))).toEqual(issues())
  })

  test('a requirements file linked inside the tree is read through the link', async () => {
    put('reqs/real.txt', 'pandas==2.2.2\nnumpy>=1.26\n')
    link('reqs/real.txt', 'requirements.txt')
    // sha1(b"pandas==2.2.2\nnumpy>=1.26"), as in digests.test.ts.
    expect(await requirementsDigest('requirements.txt', cwd)).toBe('fd5b8c53137f3eff8ab0abed7dc10798324866ec')
  })
})

describe('links inside the working directory: allowed, hashed as flytekit hashes them, copied with their content', () => {
  function copyTree(): void {
    put('data/a.txt', 'A\n')
    link('a.txt', 'data/link.txt')
    put('data/sub/b.txt', 'B\n')
    link('sub', 'data/sublink')
    link('data/a.txt', 'top-link.txt')
    link('data', 'datalink')
  }

  test('copy: a file link is hashed with its content under its own name; a folder link is not walked', async () => {
    copyTree()
    // md5(b"A\na.txt" b"A\nlink.txt" b"B\nsubb.txt" b"A\ntop-link.txt"): os.walk lists data/sublink among the
    // folders and does not enter it.
    expect(await copyDigest(['data', 'top-link.txt'], cwd)).toBe('1be221f0513a39c417a5d7fe5e526c3e')
    // A link given as the entry is walked as the folder it leads to (os.path.isdir and os.walk follow it).
    expect(await copyDigest(['datalink'], cwd)).toBe('e721ff5a9ec8b379b4e15992846d29ad')
    const tagged = await computeTag(spec({ copy: ['data', 'top-link.txt'] }), cwd)
    expect(tagged.tag).toBe('OEIeZ3Bp099w94_XE77C7Q')
  })

  test('copy: the context holds the links as the files and folders they lead to, as shutil.copytree copies', async () => {
    copyTree()
    await writeBuildContext(spec({ copy: ['data', 'top-link.txt'] }), OPTS, cwd, out)
    expect(filesUnder(path.join(out, 'copy'))).toEqual([
      'data/a.txt',
      'data/link.txt',
      'data/sub/b.txt',
      'data/sublink/b.txt',
      'top-link.txt',
    ])
    expect(readFileSync(path.join(out, 'copy/data/sublink/b.txt'), 'utf8')).toBe('B\n')
    expect(readFileSync(path.join(out, 'copy/top-link.txt'), 'utf8')).toBe('A\n')
  })

  function sourceTree(): void {
    put('proj/main.py', 'print(1)\n')
    link('main.py', 'proj/alias.py')
    put('proj/pkg/mod.py', 'x = 1\n')
    link('pkg', 'proj/pkglink')
    // Folder links are not entered by os.walk, so neither hashed nor copied: not even '..' or one outside.
    link('..', 'proj/up')
    link(path.join(outside, 'dir'), 'proj/outdir')
  }

  test('source_root: file links hashed, folder links (to .., or outside) not entered', async () => {
    sourceTree()
    const { files, digest } = await lsFilesAll('proj', cwd)
    expect(files).toEqual(['proj/alias.py', 'proj/main.py', 'proj/pkg/mod.py'])
    // md5(b"print(1)\nalias.py" b"print(1)\nmain.py" b"x = 1\npkgmod.py")
    expect(digest).toBe('009571e085a6be9008d61de438debd25')
    const tagged = await computeTag(spec({ source_root: 'proj', source_copy_mode: 'ALL' }), cwd)
    expect(tagged.tag).toBe('TGipp9I6vk_ZFaDJIqt9vw')
  })

  test('source_root: the context holds the listed files only, and nothing of the runner', async () => {
    sourceTree()
    await writeBuildContext(spec({ source_root: 'proj', source_copy_mode: 'ALL' }), OPTS, cwd, out)
    expect(filesUnder(path.join(out, 'src'))).toEqual(['alias.py', 'main.py', 'pkg/mod.py'])
    for (const file of filesUnder(out)) {
      expect(readFileSync(path.join(out, file), 'utf8')).not.toContain(MARKER)
    }
  })
})
