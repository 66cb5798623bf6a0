/**
 * The `spec` lines -> spec files, on real folders. Every expected list is written out by hand from the rules
 * (files by extension, folders mean Python, globs relative to cwd, what walks leave out, git's .gitignore
 * precedence, everything inside cwd, each file once), not copied from the code's output.
 */
import { afterAll, describe, expect, test } from '@jest/globals'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { expandSpecLines, type ExpandResult } from '../../src/sources/expand.js'
import { TempDirs } from '../support/temp-dirs.js'

const dirs = new TempDirs()
afterAll(() => dirs.removeAll())

/** Paths relative to the temporary root: 'x/' a folder, { link } a symlink, a string a file's text. */
type Tree = Record<string, string | { link: string }>

interface Case {
  name: string
  tree: Tree
  lines: string[]
  /** The working directory, relative to the temporary root; 'ws' unless given. */
  cwd?: string
  /** `kind path <- line`. */
  files: string[]
  /** `line: message`, with <cwd> and <root> for the temporary folders. */
  errors?: string[]
}

async function make(tree: Tree): Promise<string> {
  const root = await dirs.make('imagespec-expand-')
  for (const [rel, entry] of Object.entries(tree)) {
    const full = path.join(root, rel)
    if (rel.endsWith('/')) {
      await mkdir(full, { recursive: true })
      continue
    }
    await mkdir(path.dirname(full), { recursive: true })
    if (typeof entry === 'string') await writeFile(full, entry)
    else await symlink(entry.link, full)
  }
  return root
}

/** Makes the tree, expands the lines (where <cwd> and <root> name the temporary folders) and writes back. */
async function run(c: Case): Promise<{ files: string[]; errors: string[] }> {
  const root = await make({ 'ws/': '', ...c.tree })
  const cwd = path.join(root, c.cwd ?? 'ws')
  const lines = c.lines.map((l) => l.replace('<cwd>', cwd).replace('<root>', root))
  const result: ExpandResult = await expandSpecLines(lines, cwd)
  const placeholders = (s: string) => s.split(cwd).join('<cwd>').split(root).join('<root>')
  return {
    files: result.files.map((f) => placeholders(`${f.kind} ${f.path} <- ${f.line}`)),
    errors: result.errors.map((e) => placeholders(`${e.line}: ${e.message}`)),
  }
}

const PY = '# flytekit\n'

const cases: Case[] = [
  {
    name: 'files: .py is Python, every other file is YAML',
    tree: {
      'ws/imagespec.yaml': '',
      'ws/images/serving.yml': '',
      'ws/workflows/train.py': PY,
      'ws/spec.txt': '',
      'ws/IMAGESPEC': '',
    },
    lines: ['imagespec.yaml', 'images/serving.yml', 'workflows/train.py', 'spec.txt', 'IMAGESPEC'],
    files: [
      'yaml imagespec.yaml <- imagespec.yaml',
      'yaml images/serving.yml <- images/serving.yml',
      'python workflows/train.py <- workflows/train.py',
      'yaml spec.txt <- spec.txt',
      'yaml IMAGESPEC <- IMAGESPEC',
    ],
  },
  {
    name: 'files: ./ prefixes, .. inside cwd and absolute paths inside cwd are shown relative to cwd',
    tree: { 'ws/a/b.yaml': '', 'ws/c.py': PY },
    lines: ['./a/b.yaml', 'a/../c.py'],
    files: ['yaml a/b.yaml <- ./a/b.yaml', 'python c.py <- a/../c.py'],
  },
  {
    name: 'a folder: every .py below it, sorted by path; YAML and other files are not picked up',
    tree: {
      'ws/flows/train.py': PY,
      'ws/flows/a.py': PY,
      'ws/flows/a/x.py': PY,
      'ws/flows/a-b/x.py': PY,
      'ws/flows/pkg/__init__.py': '',
      'ws/flows/pkg/sub/deep/tasks.py': PY,
      'ws/flows/Z.py': PY,
      'ws/flows/images.yaml': '',
      'ws/flows/notes.txt': '',
      'ws/flows/compiled.pyc': '',
      'ws/flows/stub.pyi': '',
      'ws/flows/empty/': '',
    },
    lines: ['flows'],
    // Code-point order of the whole path: 'Z' < 'a', '-' < '.' < '/'.
    files: [
      'python flows/Z.py <- flows',
      'python flows/a-b/x.py <- flows',
      'python flows/a.py <- flows',
      'python flows/a/x.py <- flows',
      'python flows/pkg/__init__.py <- flows',
      'python flows/pkg/sub/deep/tasks.py <- flows',
      'python flows/train.py <- flows',
    ],
  },
  {
    name: 'a folder: sorted by code point, not by UTF-16 unit',
    tree: { 'ws/f/\u{1F600}.py': PY, 'ws/f/\uFB00.py': PY, 'ws/f/\u00E9.py': PY, 'ws/f/z.py': PY },
    lines: ['f/'],
    files: [
      'python f/z.py <- f/',
      'python f/\u00E9.py <- f/',
      'python f/\uFB00.py <- f/',
      'python f/\u{1F600}.py <- f/',
    ],
  },
  {
    name: 'a folder: hidden folders, __pycache__, node_modules, site-packages and virtual environments are skipped',
    tree: {
      'ws/proj/main.py': PY,
      'ws/proj/.hidden/h.py': PY,
      'ws/proj/.venv/pyvenv.cfg': '',
      'ws/proj/.venv/lib/v.py': PY,
      'ws/proj/__pycache__/main.cpython-311.py': PY,
      'ws/proj/node_modules/pkg/n.py': PY,
      'ws/proj/tools/lib/python3.11/site-packages/dep/d.py': PY,
      'ws/proj/tools/lib/python3.11/helper.py': PY,
      'ws/proj/myenv/pyvenv.cfg': 'home = /usr/bin\n',
      'ws/proj/myenv/bin/activate.py': PY,
      // Named like a venv, but no pyvenv.cfg: the project's own package.
      'ws/proj/env/settings.py': PY,
      'ws/proj/venv/config.py': PY,
      'ws/proj/.flyte.py': PY,
    },
    lines: ['proj'],
    files: [
      'python proj/.flyte.py <- proj',
      'python proj/env/settings.py <- proj',
      'python proj/main.py <- proj',
      'python proj/tools/lib/python3.11/helper.py <- proj',
      'python proj/venv/config.py <- proj',
    ],
  },
  {
    name: 'a folder named on the line is walked whatever its name; the skips apply below it',
    tree: {
      'ws/.flyte/specs.py': PY,
      'ws/.flyte/__pycache__/specs.py': PY,
      'ws/.flyte/.cache/c.py': PY,
    },
    lines: ['.flyte'],
    files: ['python .flyte/specs.py <- .flyte'],
  },
  {
    name: '.gitignore in the walked folder: files, folders (not descended into), negation',
    tree: {
      'ws/flows/.gitignore': 'build/\n*_gen.py\n!keep_gen.py\n# comment\nscratch*\n',
      'ws/flows/main.py': PY,
      'ws/flows/a_gen.py': PY,
      'ws/flows/keep_gen.py': PY,
      'ws/flows/build/out.py': PY,
      'ws/flows/build/.gitignore': '!out.py\n',
      'ws/flows/scratch/s.py': PY,
      'ws/flows/scratchpad.py': PY,
      'ws/flows/pkg/b_gen.py': PY,
      'ws/flows/pkg/keep_gen.py': PY,
      'ws/flows/pkg/build.py': PY,
    },
    lines: ['flows'],
    files: [
      'python flows/keep_gen.py <- flows',
      'python flows/main.py <- flows',
      'python flows/pkg/build.py <- flows',
      'python flows/pkg/keep_gen.py <- flows',
    ],
  },
  {
    name: '.gitignore: a deeper file overrides a shallower one, each relative to its own folder',
    tree: {
      'ws/.git/': '',
      'ws/.gitignore': 'generated_*.py\n/flows/local.py\n',
      'ws/flows/local.py': PY,
      'ws/flows/generated_a.py': PY,
      'ws/flows/generated_keep.py': PY,
      'ws/flows/main.py': PY,
      'ws/flows/.gitignore': '!generated_keep.py\n/main.py\n',
      'ws/flows/sub/main.py': PY,
      'ws/flows/sub/local.py': PY,
      'ws/flows/sub/generated_keep.py': PY,
    },
    lines: ['flows'],
    files: [
      'python flows/generated_keep.py <- flows',
      'python flows/sub/generated_keep.py <- flows',
      'python flows/sub/local.py <- flows',
      'python flows/sub/main.py <- flows',
    ],
  },
  {
    name: ".gitignore in parent folders applies up to the repository root ('.git' folder), not above it",
    tree: {
      '.gitignore': '*.py\n',
      'ws/.git/': '',
      'ws/.gitignore': 'ignored_dir/\n/src/app/secret.py\n',
      'ws/src/.gitignore': 'tmp_*.py\n',
      'ws/src/app/main.py': PY,
      'ws/src/app/secret.py': PY,
      'ws/src/app/tmp_x.py': PY,
      'ws/src/app/ignored_dir/i.py': PY,
    },
    lines: ['src/app'],
    files: ['python src/app/main.py <- src/app'],
  },
  {
    name: "the repository root may be above cwd, and '.git' may be a file (worktrees, submodules)",
    tree: {
      '.git': 'gitdir: /elsewhere\n',
      '.gitignore': 'secret/\n',
      'ws/project/main.py': PY,
      'ws/project/secret/s.py': PY,
    },
    lines: ['.'],
    cwd: 'ws/project',
    files: ['python main.py <- .'],
  },
  {
    name: 'without a repository only the walked folder and below count: a parent .gitignore does not apply',
    tree: {
      'ws/.gitignore': 'skip.py\n',
      'ws/pkg/skip.py': PY,
      'ws/pkg/.gitignore': 'local.py\n',
      'ws/pkg/local.py': PY,
      'ws/pkg/sub/local.py': PY,
    },
    lines: ['pkg'],
    files: ['python pkg/skip.py <- pkg'],
  },
  {
    name: '.gitignore patterns are case-sensitive, as git reads them on Linux',
    tree: { 'ws/flows/.gitignore': 'OLD/\nDraft.py\n', 'ws/flows/old/x.py': PY, 'ws/flows/draft.py': PY },
    lines: ['flows'],
    files: ['python flows/draft.py <- flows', 'python flows/old/x.py <- flows'],
  },
  {
    name: 'a folder .gitignore excludes is still walked when a line names it',
    tree: {
      'ws/.git/': '',
      'ws/.gitignore': 'generated/\n',
      'ws/generated/specs.py': PY,
      'ws/generated/.gitignore': 'old.py\n',
      'ws/generated/old.py': PY,
    },
    lines: ['generated'],
    files: ['python generated/specs.py <- generated'],
  },
  {
    name: 'a nested repository starts its own .gitignore rules',
    tree: {
      'ws/.git/': '',
      'ws/.gitignore': 'shared.py\n',
      'ws/flows/shared.py': PY,
      'ws/flows/vendored/.git': 'gitdir: ../../.git/modules/vendored\n',
      'ws/flows/vendored/shared.py': PY,
    },
    lines: ['flows'],
    files: ['python flows/vendored/shared.py <- flows'],
  },
  {
    name: 'globs: YAML and Python by extension, relative to cwd, files only, sorted',
    tree: {
      'ws/specs/b.yaml': '',
      'ws/specs/a.yaml': '',
      'ws/specs/c.yml': '',
      'ws/specs/.hidden.yaml': '',
      'ws/specs/dir.yaml/x.yaml': '',
      'ws/specs/notes.md': '',
      'ws/flows/x.py': PY,
      'ws/flows/y.py': PY,
    },
    lines: ['specs/*.yaml', 'specs/*.{yml,md}', 'flows/?.py'],
    files: [
      'yaml specs/a.yaml <- specs/*.yaml',
      'yaml specs/b.yaml <- specs/*.yaml',
      'yaml specs/c.yml <- specs/*.{yml,md}',
      'yaml specs/notes.md <- specs/*.{yml,md}',
      'python flows/x.py <- flows/?.py',
      'python flows/y.py <- flows/?.py',
    ],
  },
  {
    name: 'globs: Python files found through ** get the folder skips and .gitignore',
    tree: {
      'ws/.git/': '',
      'ws/.gitignore': 'dist/\n',
      'ws/flows/.gitignore': 'draft_*.py\n!draft_ok.py\n',
      'ws/flows/a.py': PY,
      'ws/flows/draft_x.py': PY,
      'ws/flows/draft_ok.py': PY,
      'ws/flows/pkg/b.py': PY,
      'ws/flows/pkg/draft_y.py': PY,
      'ws/flows/dist/d.py': PY,
      'ws/flows/node_modules/n.py': PY,
      'ws/flows/__pycache__/p.py': PY,
      'ws/flows/lib/site-packages/s.py': PY,
      'ws/flows/tools/pyvenv.cfg': '',
      'ws/flows/tools/t.py': PY,
      'ws/flows/.hidden/h.py': PY,
      'ws/flows/pkg/spec.yaml': '',
    },
    lines: ['flows/**/*.py', 'flows/**/*.yaml'],
    files: [
      'python flows/a.py <- flows/**/*.py',
      'python flows/draft_ok.py <- flows/**/*.py',
      'python flows/pkg/b.py <- flows/**/*.py',
      'yaml flows/pkg/spec.yaml <- flows/**/*.yaml',
    ],
  },
  {
    name: 'globs: a single * is not filtered; a glob from cwd honours .gitignore from the repository root',
    tree: {
      '.git/': '',
      '.gitignore': 'gen_*.py\n',
      'ws/gen_a.py': PY,
      'ws/main.py': PY,
      'ws/sub/gen_b.py': PY,
      'ws/sub/main.py': PY,
    },
    lines: ['gen_*.py', '**/main.py', '**/gen_*.py'],
    files: [
      'python gen_a.py <- gen_*.py',
      'python main.py <- **/main.py',
      'python sub/main.py <- **/main.py',
    ],
    errors: [
      "**/gen_*.py: no file matches '**/gen_*.py' (relative to <cwd>); check the pattern and that the files are checked out",
    ],
  },
  {
    name: 'globs: a glob that matches nothing, or only folders, is an error',
    tree: { 'ws/specs/': '', 'ws/flows/pkg/': '' },
    lines: ['specs/*.yaml', 'flows/*', 'nowhere/**/*.py'],
    files: [],
    errors: [
      "specs/*.yaml: no file matches 'specs/*.yaml' (relative to <cwd>); check the pattern and that the files are checked out",
      "flows/*: no file matches 'flows/*' (relative to <cwd>); check the pattern and that the files are checked out",
      "nowhere/**/*.py: no file matches 'nowhere/**/*.py' (relative to <cwd>); check the pattern and that the files are checked out",
    ],
  },
  {
    name: 'globs do not follow symlinks',
    tree: {
      'ws/flows/real.py': PY,
      'ws/flows/alias.py': { link: 'real.py' },
      'ws/flows/linked/': { link: '../other' },
      'ws/other/o.py': PY,
    },
    lines: ['flows/**/*.py'],
    files: ['python flows/real.py <- flows/**/*.py'],
  },
  {
    name: 'a file whose name has glob characters is read as that file',
    tree: { 'ws/specs/a[1].yaml': '', 'ws/specs/a1.yaml': '' },
    lines: ['specs/a[1].yaml'],
    files: ['yaml specs/a[1].yaml <- specs/a[1].yaml'],
  },
  {
    name: 'the same file from several lines appears once, where it first appears',
    tree: { 'ws/flows/a.py': PY, 'ws/flows/b.py': PY, 'ws/flows/sub/c.py': PY, 'ws/x.yaml': '' },
    lines: ['flows/b.py', 'flows', './flows/b.py', 'flows/*.py', 'x.yaml', 'flows/sub/c.py', 'x.yaml'],
    files: [
      'python flows/b.py <- flows/b.py',
      'python flows/a.py <- flows',
      'python flows/sub/c.py <- flows',
      'yaml x.yaml <- x.yaml',
    ],
  },
  {
    name: 'missing paths, empty folders and folders without Python files are errors; the good lines still count',
    tree: { 'ws/a.yaml': '', 'ws/empty/': '', 'ws/yamls/s.yaml': '', 'ws/cache/__pycache__/x.py': PY },
    lines: ['missing.yaml', 'a.yaml', 'empty', 'yamls', 'gone/', 'cache'],
    files: ['yaml a.yaml <- a.yaml'],
    errors: [
      "missing.yaml: file or folder 'missing.yaml' not found (relative to <cwd>); check the 'spec' input and that it is checked out",
      "empty: folder 'empty' has no Python files; name the folder that holds your workflows' .py files, or list the spec files themselves",
      "yamls: folder 'yamls' has no Python files; name the folder that holds your workflows' .py files, or list the spec files themselves",
      "gone/: file or folder 'gone/' not found (relative to <cwd>); check the 'spec' input and that it is checked out",
      "cache: folder 'cache' has no Python files; name the folder that holds your workflows' .py files, or list the spec files themselves",
    ],
  },
  {
    name: "a path the file system refuses is that line's error; the other lines still count",
    tree: { 'ws/a.yaml': '' },
    lines: [`${'x'.repeat(300)}.yaml`, 'a.yaml'],
    files: ['yaml a.yaml <- a.yaml'],
    errors: [
      `${'x'.repeat(300)}.yaml: cannot read what '${'x'.repeat(300)}.yaml' names: ` +
        `ENAMETOOLONG: name too long, stat '<cwd>/${'x'.repeat(300)}.yaml'`,
    ],
  },
  {
    name: 'lines outside cwd are errors, existing or not',
    tree: { 'other/o.yaml': '', 'other/flows/f.py': PY, 'ws/in.yaml': '' },
    lines: [
      '../other/o.yaml',
      '../other',
      '../missing.yaml',
      '<root>/other/o.yaml',
      '../other/*.yaml',
      'in.yaml',
    ],
    files: ['yaml in.yaml <- in.yaml'],
    errors: [
      '../other/o.yaml: ' +
        "'../other/o.yaml' resolves to <root>/other/o.yaml, outside the working directory <cwd>; specs must be inside the working directory",
      "../other: '../other' resolves to <root>/other, outside the working directory <cwd>; specs must be inside the working directory",
      '../missing.yaml: ' +
        "'../missing.yaml' resolves to <root>/missing.yaml, outside the working directory <cwd>; specs must be inside the working directory",
      '<root>/other/o.yaml: ' +
        "'<root>/other/o.yaml' resolves to <root>/other/o.yaml, outside the working directory <cwd>; specs must be inside the working directory",
      '../other/*.yaml: ' +
        "'../other/*.yaml' resolves to <root>/other, outside the working directory <cwd>; specs must be inside the working directory",
    ],
  },
  {
    name: 'an absolute path inside cwd is fine',
    tree: { 'ws/specs/a.yaml': '', 'ws/flows/f.py': PY },
    lines: ['<cwd>/specs/a.yaml', '<cwd>/flows', '<cwd>/specs/*.yaml'],
    files: ['yaml specs/a.yaml <- <cwd>/specs/a.yaml', 'python flows/f.py <- <cwd>/flows'],
  },
  {
    name: 'symlinks a line names are followed inside cwd, and refused when they lead outside',
    tree: {
      'outside/o.yaml': '',
      'outside/pkg/p.py': PY,
      'ws/specs/real.yaml': '',
      'ws/specs/alias.yaml': { link: 'real.yaml' },
      'ws/flows/f.py': PY,
      'ws/flows-link': { link: 'flows' },
      'ws/escape.yaml': { link: '../outside/o.yaml' },
      'ws/escape-dir': { link: '../outside/pkg' },
      'ws/escape-glob': { link: '../outside' },
      'ws/dangling.yaml': { link: 'nothing.yaml' },
    },
    lines: [
      'specs/alias.yaml',
      'specs/real.yaml',
      'flows-link',
      'flows',
      'escape.yaml',
      'escape-dir',
      'escape-glob/*.yaml',
      'dangling.yaml',
    ],
    // alias.yaml and real.yaml are one file, as are flows-link/f.py and flows/f.py: the first name is kept.
    files: ['yaml specs/alias.yaml <- specs/alias.yaml', 'python flows-link/f.py <- flows-link'],
    errors: [
      "escape.yaml: 'escape.yaml' resolves to <root>/outside/o.yaml, outside the working directory <cwd>; specs must be inside the working directory",
      "escape-dir: 'escape-dir' resolves to <root>/outside/pkg, outside the working directory <cwd>; specs must be inside the working directory",
      'escape-glob/*.yaml: ' +
        "'escape-glob/*.yaml' resolves to <root>/outside, outside the working directory <cwd>; specs must be inside the working directory",
      "dangling.yaml: file or folder 'dangling.yaml' not found (relative to <cwd>); check the 'spec' input and that it is checked out",
    ],
  },
  {
    name: 'walks do not follow symlinks, to files or folders, inside cwd or out (no loops, no escapes)',
    tree: {
      'outside/o.py': PY,
      'ws/flows/main.py': PY,
      'ws/flows/alias.py': { link: 'main.py' },
      'ws/flows/out.py': { link: '../../outside/o.py' },
      'ws/flows/out-dir': { link: '../../outside' },
      'ws/flows/loop': { link: '.' },
      'ws/flows/pkg/p.py': PY,
      'ws/flows/pkg-link': { link: 'pkg' },
    },
    lines: ['flows'],
    files: ['python flows/main.py <- flows', 'python flows/pkg/p.py <- flows'],
  },
]

describe('expandSpecLines', () => {
  test.each(cases)('$name', async (c) => {
    const got = await run(c)
    expect(got.files).toEqual(c.files)
    expect(got.errors).toEqual(c.errors ?? [])
  })
})
