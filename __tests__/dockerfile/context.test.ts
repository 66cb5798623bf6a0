import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { writeBuildContext, type ContextOptions } from '../../src/dockerfile/context.js'
import { SpecError } from '../../src/errors.js'
import { constructImageSpec } from '../../src/spec/construct.js'
import type { ImageSpec } from '../../src/spec/model.js'
import { computeTag } from '../../src/tag/tag.js'

let cwd: string
let out: string

beforeEach(() => {
  cwd = mkdtempSync(path.join(tmpdir(), 'imagespec-ctx-cwd-'))
  out = path.join(mkdtempSync(path.join(tmpdir(), 'imagespec-ctx-out-')), 'context')
})
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true })
  rmSync(path.dirname(out), { recursive: true, force: true })
})

function put(rel: string, content: string): void {
  mkdirSync(path.dirname(path.join(cwd, rel)), { recursive: true })
  writeFileSync(path.join(cwd, rel), content)
}

const read = (rel: string): string => readFileSync(path.join(out, rel), 'utf8')

/** Every file under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  return (
    readdirSync(dir, { recursive: true, withFileTypes: true }) as {
      isFile(): boolean
      parentPath: string
      name: string
    }[]
  )
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort()
}

const OPTS: ContextOptions = {
  installer: 'uv',
  flytekitRequirement: 'flytekit==1.16.24',
  specId: 'id1',
  defaultPythonVersion: '3.11',
}
const spec = (fields: Partial<ImageSpec>): ImageSpec => ({
  name: 'app',
  platform: 'linux/amd64',
  python_version: '3.11',
  ...fields,
})

async function specIssues(p: Promise<unknown>): Promise<{ path: string; message: string }[]> {
  try {
    await p
  } catch (err) {
    if (err instanceof SpecError) return err.issues.map(({ path, message }) => ({ path, message }))
    throw err
  }
  throw new Error('expected a SpecError')
}

describe('writeBuildContext', () => {
  test('requirements file, packages, copy entries and secrets', async () => {
    put('reqs/requirements.txt', '  numpy>=1.26 \r\n# pinned\n\npandas\n')
    put('data/a.csv', 'a')
    put('data/sub/b.csv', 'b')
    put('conf/app.yaml', 'k: v')
    const ctx = await writeBuildContext(
      spec({
        requirements: 'reqs/requirements.txt',
        packages: ['scikit-learn'],
        copy: ['data', 'conf/app.yaml'],
        pip_secret_mounts: [['secrets/.netrc', '/root/.netrc']],
      }),
      OPTS,
      cwd,
      out,
    )
    expect(ctx).toEqual({
      dockerfile: path.join(out, 'Dockerfile'),
      contextDir: out,
      secrets: [{ id: 'secret_0', src: path.join(cwd, 'secrets/.netrc') }],
    })
    expect(tree(out)).toEqual([
      'Dockerfile',
      'copy/conf/app.yaml',
      'copy/data/a.csv',
      'copy/data/sub/b.csv',
      'requirements_uv.txt',
    ])
    expect(read('requirements_uv.txt')).toBe(
      'numpy>=1.26\n# pinned\n\npandas\nscikit-learn\nflytekit==1.16.24',
    )
    expect(read('copy/data/sub/b.csv')).toBe('b')
    expect(read('Dockerfile')).toContain(
      '\nCOPY --chown=flytekit ["copy/data", "/root/data"]\nCOPY --chown=flytekit ["copy/conf/app.yaml", "/root/conf/app.yaml"]\n',
    )
    expect(read('Dockerfile')).toContain('--mount=type=secret,id=secret_0,target=/root/.netrc')
  })

  test('copy entries named like generated files do not replace them', async () => {
    put('pyproject.toml', '[project]\nname = "mine"\n')
    put('Dockerfile', 'FROM evil')
    put('src/pkg/mod.py', 'x = 1')
    await writeBuildContext(spec({ copy: ['pyproject.toml', 'Dockerfile', 'src'] }), OPTS, cwd, out)
    expect(read('Dockerfile')).toMatch(/^FROM ghcr\.io\/astral-sh\/uv/)
    expect(read('copy/Dockerfile')).toBe('FROM evil')
    expect(read('copy/src/pkg/mod.py')).toBe('x = 1')
    expect(existsSync(path.join(out, 'src'))).toBe(false)
  })

  test('symlinks in a copied folder are followed, as shutil.copytree does', async () => {
    put('real.txt', 'real')
    mkdirSync(path.join(cwd, 'd'))
    symlinkSync(path.join(cwd, 'real.txt'), path.join(cwd, 'd/link.txt'))
    await writeBuildContext(spec({ copy: ['d'] }), OPTS, cwd, out)
    expect(read('copy/d/link.txt')).toBe('real')
    expect(statSync(path.join(out, 'copy/d/link.txt')).isFile()).toBe(true)
  })

  test("copy '.' with the context folder inside the working directory does not copy the context into itself", async () => {
    put('a.txt', 'a')
    const inside = path.join(cwd, 'build', 'context')
    await writeBuildContext(spec({ copy: ['.'] }), OPTS, cwd, inside)
    expect(tree(inside)).toEqual(['Dockerfile', 'copy/a.txt', 'requirements_uv.txt'])
    expect(readFileSync(path.join(inside, 'Dockerfile'), 'utf8')).toContain(
      'COPY --chown=flytekit ["copy", "/root"]',
    )
  })

  test('missing copy entries are SpecErrors, before anything is written', async () => {
    put('here.txt', '')
    const issues = await specIssues(
      writeBuildContext(spec({ copy: ['here.txt', 'gone', 'also/gone.txt'] }), OPTS, cwd, out),
    )
    expect(issues.map((i) => i.path)).toEqual(['copy[1]', 'copy[2]'])
    expect(issues[0]?.message).toMatch(/"gone" does not exist/)
    expect(existsSync(out)).toBe(false)
  })

  test('a spec the generator refuses writes nothing', async () => {
    await expect(writeBuildContext(spec({ cuda: '12' }), OPTS, cwd, out)).rejects.toThrow(SpecError)
    expect(existsSync(out)).toBe(false)
  })

  test('a missing requirements file is a SpecError on requirements', async () => {
    const issues = await specIssues(writeBuildContext(spec({ requirements: 'nope.txt' }), OPTS, cwd, out))
    expect(issues).toEqual([
      { path: 'requirements', message: expect.stringMatching(/nope\.txt.*cannot be read/) },
    ])
  })

  test('uv.lock with installer uv: the lock and its pyproject.toml', async () => {
    put('proj/uv.lock', 'version = 1\n')
    put('proj/pyproject.toml', '[project]\nname = "p"\n')
    await writeBuildContext(spec({ requirements: 'proj/uv.lock' }), OPTS, cwd, out)
    expect(tree(out)).toEqual(['Dockerfile', 'pyproject.toml', 'uv.lock'])
    expect(read('uv.lock')).toBe('version = 1\n')
  })

  test('poetry.lock with installer pip: requirements and constraints derived from it', async () => {
    put('poetry.lock', '[[package]]\nname = "numpy"\nversion = "1.26.4"\n')
    put('pyproject.toml', '[tool.poetry.dependencies]\npython = "^3.10"\nnumpy = "^1.26"\n')
    await writeBuildContext(spec({ requirements: 'poetry.lock' }), { ...OPTS, installer: 'pip' }, cwd, out)
    expect(tree(out)).toEqual(['Dockerfile', 'constraints.txt', 'requirements_uv.txt'])
    expect(read('requirements_uv.txt')).toBe('numpy>=1.26,<2')
    expect(read('constraints.txt')).toBe('numpy==1.26.4')
  })

  test('a lock file without pyproject.toml next to it is a SpecError', async () => {
    put('uv.lock', '')
    const issues = await specIssues(writeBuildContext(spec({ requirements: 'uv.lock' }), OPTS, cwd, out))
    expect(issues[0]).toMatchObject({
      path: 'requirements',
      message: expect.stringMatching(/pyproject\.toml/),
    })
  })

  test('source_root files under src/, listed with source_root as the spec has it', async () => {
    put('proj/pkg/mod.py', 'print(1)')
    put('proj/top.py', 'top')
    const roots: string[] = []
    const listSourceFiles = async (root: string): Promise<string[]> => {
      roots.push(root)
      return ['proj/pkg/mod.py', path.join(cwd, 'proj/top.py')]
    }
    await writeBuildContext(
      spec({ source_root: 'proj', source_copy_mode: 'ALL' }),
      { ...OPTS, listSourceFiles },
      cwd,
      out,
    )
    expect(roots).toEqual(['proj'])
    expect(tree(out)).toEqual(['Dockerfile', 'requirements_uv.txt', 'src/pkg/mod.py', 'src/top.py'])
    expect(read('src/pkg/mod.py')).toBe('print(1)')
    expect(read('Dockerfile')).toContain('\nCOPY --chown=flytekit ./src /root\n')
  })

  test('a listed file outside source_root is refused', async () => {
    put('proj/a.py', '')
    put('other.py', '')
    const listSourceFiles = async (): Promise<string[]> => ['other.py']
    await expect(
      writeBuildContext(
        spec({ source_root: 'proj', source_copy_mode: 'ALL' }),
        { ...OPTS, listSourceFiles },
        cwd,
        out,
      ),
    ).rejects.toThrow(/outside/)
  })

  test('the context folder must be empty', async () => {
    mkdirSync(out, { recursive: true })
    writeFileSync(path.join(out, 'stale'), '')
    await expect(writeBuildContext(spec({}), OPTS, cwd, out)).rejects.toThrow(/not empty/)
  })

  test('the flytekit requirement must be one line', async () => {
    await expect(
      writeBuildContext(spec({}), { ...OPTS, flytekitRequirement: 'flytekit\n--index-url x' }, cwd, out),
    ).rejects.toThrow(/single requirement line/)
  })
})

describe('writeBuildContext copy edge cases', () => {
  test('a symlink loop in a copied folder is an error, not an endless copy', async () => {
    mkdirSync(path.join(cwd, 'd'))
    symlinkSync(path.join(cwd, 'd'), path.join(cwd, 'd/loop'))
    await expect(writeBuildContext(spec({ copy: ['d'] }), OPTS, cwd, out)).rejects.toThrow(/symlink loop/)
  })

  test('file modes are kept', async () => {
    put('run.sh', '#!/bin/sh\n')
    chmodSync(path.join(cwd, 'run.sh'), 0o755)
    await writeBuildContext(spec({ copy: ['run.sh'] }), OPTS, cwd, out)
    expect(statSync(path.join(out, 'copy/run.sh')).mode & 0o777).toBe(0o755)
  })
})

/*
 * A pyproject.toml as requirements. Expected files are written by hand from the project files below: installer uv
 * gets the file as it is plus flytekit's requirements_uv.txt (packages, then the pin), installer pip the
 * dependencies in the requirement file's place.
 */
describe('writeBuildContext with a pyproject.toml as requirements', () => {
  const PYPROJECT =
    '[project]\nname = "app"\nversion = "1.0"\ndependencies = ["numpy>=1.26", "requests ; python_version >= \'3.8\'"]\n'
  const UV_MOUNTS =
    '--mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/uv,id=uv --mount=from=uv,source=/uv,target=/usr/bin/uv'
  const BIND = (f: string): string => `--mount=type=bind,target=${f},src=${f}`
  const UV_RUN = `\nRUN ${UV_MOUNTS} ${BIND('requirements_uv.txt')} ${BIND('pyproject.toml')} uv pip install --requirement requirements_uv.txt --requirement pyproject.toml\n`
  const PIP_RUN =
    '\nRUN --mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/pip,id=pip --mount=type=bind,target=requirements_uv.txt,src=requirements_uv.txt python3 -m venv --system-site-packages --without-pip /root/.venv && SOURCE_DATE_EPOCH=0 /root/.venv/bin/python -m pip install --disable-pip-version-check --requirement requirements_uv.txt && chown -R flytekit /root/.venv\n'

  test.each<
    [string, ContextOptions['installer'], string, Partial<ImageSpec>, Record<string, string>, string]
  >([
    [
      'uv: the file as it is, packages and the pin beside it',
      'uv',
      PYPROJECT,
      { packages: ['pandas'] },
      { 'pyproject.toml': PYPROJECT, 'requirements_uv.txt': 'pandas\nflytekit==1.16.24' },
      UV_RUN,
    ],
    [
      'pip: the dependencies, then packages, then the pin',
      'pip',
      PYPROJECT,
      { packages: ['pandas'] },
      {
        'requirements_uv.txt': "numpy>=1.26\nrequests ; python_version >= '3.8'\npandas\nflytekit==1.16.24",
      },
      PIP_RUN,
    ],
    [
      'uv: no pin when the project depends on flytekit; no packages leaves the list empty',
      'uv',
      '[project]\nname = "app"\ndependencies = ["flytekit>=1.16"]\n',
      {},
      {
        'pyproject.toml': '[project]\nname = "app"\ndependencies = ["flytekit>=1.16"]\n',
        'requirements_uv.txt': '',
      },
      UV_RUN,
    ],
    [
      'pip: no pin when the project depends on flytekit',
      'pip',
      '[project]\nname = "app"\ndependencies = ["flytekit>=1.16"]\n',
      { packages: ['pandas'] },
      { 'requirements_uv.txt': 'flytekit>=1.16\npandas' },
      PIP_RUN,
    ],
    [
      'pip: a poetry project without a lock',
      'pip',
      '[tool.poetry.dependencies]\npython = "^3.11"\nsix = "^1.16"\n',
      {},
      { 'requirements_uv.txt': 'six>=1.16,<2\nflytekit==1.16.24' },
      PIP_RUN,
    ],
  ])('%s', async (_name, installer, pyproject, fields, files, run) => {
    put('app/pyproject.toml', pyproject)
    put('app/src/app/__init__.py', '')
    await writeBuildContext(
      spec({ requirements: 'app/pyproject.toml', ...fields }),
      { ...OPTS, installer },
      cwd,
      out,
    )
    expect(tree(out)).toEqual(['Dockerfile', ...Object.keys(files)].sort())
    for (const [name, content] of Object.entries(files)) expect([name, read(name)]).toEqual([name, content])
    expect(read('Dockerfile')).toContain(run)
  })

  test('the file goes into the context byte for byte (a BOM, CRLF and non-ASCII kept)', async () => {
    const bytes = Buffer.from('\ufeff[project]\r\nname = "café"\r\ndependencies = ["six"]\r\n', 'utf8')
    mkdirSync(path.join(cwd, 'app'))
    writeFileSync(path.join(cwd, 'app/pyproject.toml'), bytes)
    await writeBuildContext(spec({ requirements: 'app/pyproject.toml' }), OPTS, cwd, out)
    expect(readFileSync(path.join(out, 'pyproject.toml')).equals(bytes)).toBe(true)
  })

  test.each<[string, ContextOptions['installer'], string | Buffer, RegExp]>([
    [
      'invalid TOML: the parser message and position',
      'pip',
      '[project]\ndependencies = ["six"\n',
      /^requirements file "app\/pyproject\.toml" is not valid TOML: expected comma or end of structure \(line 3, column 1\)$/,
    ],
    [
      'invalid TOML with installer uv too (uv would fail on it later)',
      'uv',
      'dependencies = six\n',
      /^requirements file "app\/pyproject\.toml" is not valid TOML: /,
    ],
    [
      'not UTF-8',
      'uv',
      Buffer.from([0x5b, 0x70, 0xff, 0x5d, 0x0a]),
      /^requirements file "app\/pyproject\.toml" is not UTF-8 text/,
    ],
    [
      'dynamic dependencies',
      'pip',
      '[project]\nname = "app"\ndynamic = ["dependencies"]\n',
      /^requirements file "app\/pyproject\.toml" declares its dependencies dynamic/,
    ],
    [
      'only poetry dependencies with installer uv',
      'uv',
      '[tool.poetry.dependencies]\nsix = "^1.16"\n',
      /^requirements file "app\/pyproject\.toml" lists its dependencies under \[tool\.poetry\.dependencies\]/,
    ],
  ])('%s is a SpecError on requirements naming the file', async (_name, installer, content, message) => {
    mkdirSync(path.join(cwd, 'app'))
    writeFileSync(path.join(cwd, 'app/pyproject.toml'), content)
    const issues = await specIssues(
      writeBuildContext(spec({ requirements: 'app/pyproject.toml' }), { ...OPTS, installer }, cwd, out),
    )
    expect(issues).toEqual([{ path: 'requirements', message: expect.stringMatching(message) }])
  })

  test('a missing pyproject.toml is a SpecError on requirements', async () => {
    const issues = await specIssues(
      writeBuildContext(spec({ requirements: 'pyproject.toml' }), OPTS, cwd, out),
    )
    expect(issues).toEqual([
      { path: 'requirements', message: expect.stringMatching(/pyproject\.toml.*cannot be read/) },
    ])
  })
})

/*
 * The golden vector `requirements_pyproject_toml` (flytekit v1.16.24's own tag code): the spec keeps flytekit's tag,
 * and its build context installs the project's one dependency, `six` (the vector's pyproject.toml has
 * `dependencies = ["six"]`).
 */
describe('the requirements_pyproject_toml tag vector', () => {
  interface Vector {
    id: string
    spec: Record<string, string>
    files: Record<string, string>
    expected_tag: string
  }
  const fixture = JSON.parse(
    readFileSync(
      path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/flytekit-tag-vectors.json'),
      'utf8',
    ),
  ) as { vectors: Vector[] }
  const vector = fixture.vectors.find((v) => v.id === 'requirements_pyproject_toml') as Vector
  const vectorSpec = (): ImageSpec =>
    constructImageSpec(new Map(Object.entries(vector.spec)), { hostArch: 'x64' })

  beforeEach(() => {
    for (const [rel, content] of Object.entries(vector.files)) put(rel, content)
  })

  test('the vector is the one described here', () => {
    expect(vector.spec).toEqual({ requirements: 'pyproject.toml' })
    expect(vector.files['pyproject.toml']).toContain('dependencies = ["six"]')
  })

  test("the tag is flytekit's", async () => {
    expect((await computeTag(vectorSpec(), cwd)).tag).toBe('8sbjX6Ko155cQdW4HYxyrg')
  })

  test('installer uv: uv installs six from the pyproject.toml in the context', async () => {
    await writeBuildContext(vectorSpec(), OPTS, cwd, out)
    expect(tree(out)).toEqual(['Dockerfile', 'pyproject.toml', 'requirements_uv.txt'])
    expect(read('pyproject.toml')).toBe(
      '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.11"\ndependencies = ["six"]\n',
    )
    expect(read('requirements_uv.txt')).toBe('flytekit==1.16.24')
    expect(read('Dockerfile')).toContain(
      ' uv pip install --requirement requirements_uv.txt --requirement pyproject.toml\n',
    )
  })

  test('installer pip: six is a line of requirements_uv.txt', async () => {
    await writeBuildContext(vectorSpec(), { ...OPTS, installer: 'pip' }, cwd, out)
    expect(tree(out)).toEqual(['Dockerfile', 'requirements_uv.txt'])
    expect(read('requirements_uv.txt')).toBe('six\nflytekit==1.16.24')
    expect(read('Dockerfile')).toContain(
      ' SOURCE_DATE_EPOCH=0 /root/.venv/bin/python -m pip install --disable-pip-version-check --requirement requirements_uv.txt && ',
    )
  })
})
