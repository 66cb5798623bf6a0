import { describe, expect, test } from '@jest/globals'
import { pipInputFromPoetryLock, pipInputFromUvLock } from '../../src/dockerfile/lockfile.js'
import { poetryConstraint, pythonMarker } from '../../src/dockerfile/poetry-constraint.js'
import { SpecError } from '../../src/errors.js'

const INDEX = 'https://idx.example.invalid/simple'
const COMMIT = '0123456789abcdef0123456789abcdef01234567'

const UV_PYPROJECT = `
[project]
name = "myproj"
version = "0.1.0"
dependencies = ["numpy>=1.26", "requests[socks]>=2 ; python_version >= '3.8'", "MyLib", "direct @ https://files.example.invalid/direct-1.0.tar.gz"]

[dependency-groups]
dev = ["pytest>=8"]

[tool.uv.sources]
mylib = { git = "https://git.example.invalid/org/mylib", rev = "main" }
`

const UV_LOCK = `
version = 1
requires-python = ">=3.10"
resolution-markers = [
    "python_full_version >= '3.12'",
    "python_full_version < '3.12'",
]

[[package]]
name = "myproj"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "numpy", version = "1.26.4", source = { registry = "${INDEX}" }, marker = "python_full_version < '3.12'" },
    { name = "numpy", version = "2.1.0", source = { registry = "${INDEX}" }, marker = "python_full_version >= '3.12'" },
    { name = "requests", extra = ["socks"] },
    { name = "mylib" },
]

[package.dev-dependencies]
dev = [{ name = "pytest" }]

[[package]]
name = "numpy"
version = "1.26.4"
source = { registry = "${INDEX}" }
resolution-markers = ["python_full_version < '3.12'"]

[[package]]
name = "numpy"
version = "2.1.0"
source = { registry = "${INDEX}" }
resolution-markers = ["python_full_version >= '3.12'"]

[[package]]
name = "requests"
version = "2.32.3"
source = { registry = "${INDEX}" }

[[package]]
name = "Charset_Normalizer"
version = "3.4.0"
source = { registry = "${INDEX}" }

[[package]]
name = "mylib"
version = "0.3.0"
source = { git = "https://git.example.invalid/org/mylib?subdirectory=py&rev=main#${COMMIT}" }

[[package]]
name = "direct"
version = "1.0"
source = { url = "https://files.example.invalid/direct-1.0.tar.gz" }

[[package]]
name = "pytest"
version = "8.3.3"
source = { registry = "${INDEX}" }
`

describe('pipInputFromUvLock', () => {
  test('[project].dependencies as requirements, every indexed version as a constraint', () => {
    expect(pipInputFromUvLock(UV_LOCK, UV_PYPROJECT)).toEqual({
      requirements: [
        'numpy>=1.26',
        "requests[socks]>=2 ; python_version >= '3.8'",
        `MyLib @ git+https://git.example.invalid/org/mylib@${COMMIT}#subdirectory=py`,
        'direct @ https://files.example.invalid/direct-1.0.tar.gz',
      ],
      constraints: [
        "numpy==1.26.4 ; python_full_version < '3.12'",
        "numpy==2.1.0 ; python_full_version >= '3.12'",
        'requests==2.32.3',
        'Charset_Normalizer==3.4.0',
        'pytest==8.3.3',
      ],
    })
  })

  test('several locked versions without markers to tell them apart are left unconstrained', () => {
    const lock = `
[[package]]
name = "a"
version = "1"
source = { registry = "${INDEX}" }
[[package]]
name = "a"
version = "2"
source = { registry = "${INDEX}" }
`
    expect(pipInputFromUvLock(lock, '[project]\nname = "p"\ndependencies = ["a"]').constraints).toEqual([])
  })

  test('a project without dependencies installs nothing', () => {
    expect(pipInputFromUvLock('version = 1', '[project]\nname = "p"')).toEqual({
      requirements: [],
      constraints: [],
    })
  })

  test('a local path dependency cannot be installed from the build context', () => {
    const lock = '[[package]]\nname = "loc"\nversion = "1"\nsource = { editable = "../loc" }\n'
    expect(() => pipInputFromUvLock(lock, '[project]\nname = "p"\ndependencies = ["loc"]')).toThrow(
      /local path \.\.\/loc/,
    )
  })

  test('invalid TOML is a SpecError on requirements', () => {
    let caught: unknown
    try {
      pipInputFromUvLock('[[package]\n', '')
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(SpecError)
    expect((caught as SpecError).issues[0]).toMatchObject({
      path: 'requirements',
      message: expect.stringMatching(/^uv\.lock is not valid TOML/),
    })
  })
})

const POETRY_PYPROJECT = `
[tool.poetry]
name = "myproj"
version = "0.1.0"

[tool.poetry.dependencies]
python = "^3.10"
numpy = "^1.26"
pandas = { version = ">=2.0,<3", extras = ["performance"] }
tomli = { version = "^2.0", python = "<3.11" }
mylib = { git = "https://git.example.invalid/org/mylib.git", branch = "main" }
boto3 = { version = "*", optional = true }
colorama = { version = "~0.4", markers = "sys_platform == 'win32'" }
both = [
    { version = "<2", python = "<3.11" },
    { version = ">=2", python = ">=3.11" },
]

[tool.poetry.group.dev.dependencies]
pytest = "^8"
`

const POETRY_LOCK = `
[[package]]
name = "numpy"
version = "1.26.4"
description = ""
optional = false
python-versions = ">=3.9"
files = []

[[package]]
name = "mylib"
version = "0.3.0"
optional = false
python-versions = "*"
files = []
develop = false

[package.source]
type = "git"
url = "https://git.example.invalid/org/mylib.git"
reference = "main"
resolved_reference = "${COMMIT}"

[[package]]
name = "pandas"
version = "2.2.3"
optional = false
python-versions = ">=3.9"
files = []

[[package]]
name = "private-pkg"
version = "1.0"
optional = false
python-versions = "*"
files = []

[package.source]
type = "legacy"
url = "${INDEX}"
reference = "private"

[[package]]
name = "both"
version = "1.5"
optional = false
python-versions = "*"
markers = "python_version < \\"3.11\\""
files = []

[[package]]
name = "both"
version = "2.1"
optional = false
python-versions = "*"
markers = { main = "python_version >= \\"3.11\\"" }
files = []

[metadata]
lock-version = "2.1"
`

describe('pipInputFromPoetryLock', () => {
  test('[tool.poetry.dependencies] minus python and optional ones, versions from the lock', () => {
    expect(pipInputFromPoetryLock(POETRY_LOCK, POETRY_PYPROJECT)).toEqual({
      requirements: [
        'numpy>=1.26,<2',
        'pandas[performance]>=2.0,<3',
        'tomli>=2.0,<3 ; python_full_version < "3.11"',
        `mylib @ git+https://git.example.invalid/org/mylib.git@${COMMIT}`,
        "colorama>=0.4,<0.5 ; sys_platform == 'win32'",
        'both ; (python_full_version < "3.11") or (python_full_version >= "3.11")',
      ],
      constraints: [
        'numpy==1.26.4',
        'pandas==2.2.3',
        'private-pkg==1.0',
        'both==1.5 ; python_version < "3.11"',
        'both==2.1 ; python_version >= "3.11"',
      ],
    })
  })

  test('Poetry 2 projects with [project].dependencies use those', () => {
    const pyproject =
      '[project]\nname = "p"\ndependencies = ["numpy (>=1.26)"]\n[tool.poetry]\npackage-mode = false\n'
    expect(pipInputFromPoetryLock(POETRY_LOCK, pyproject).requirements).toEqual(['numpy (>=1.26)'])
  })

  test('a path dependency cannot be installed from the build context', () => {
    const lock =
      '[[package]]\nname = "loc"\nversion = "1"\n[package.source]\ntype = "directory"\nurl = "../loc"\n'
    const pyproject = '[tool.poetry.dependencies]\nloc = { path = "../loc" }\n'
    expect(() => pipInputFromPoetryLock(lock, pyproject)).toThrow(SpecError)
  })
})

describe('poetryConstraint', () => {
  test.each<[string, string[][] | undefined]>([
    ['*', [[]]],
    ['^1.2.3', [['>=1.2.3', '<2']]],
    ['^0.2.3', [['>=0.2.3', '<0.3']]],
    ['^0.0.3', [['>=0.0.3', '<0.0.4']]],
    ['^0', [['>=0', '<1']]],
    ['~1.2.3', [['>=1.2.3', '<1.3']]],
    ['~1', [['>=1', '<2']]],
    ['~=1.4', [['~=1.4']]],
    ['>=1.2,<2', [['>=1.2', '<2']]],
    ['>= 1.2, < 2', [['>=1.2', '<2']]],
    ['>=1.2 <2', [['>=1.2', '<2']]],
    ['1.2.*', [['==1.2.*']]],
    ['1.2', [['==1.2']]],
    ['!=1.5', [['!=1.5']]],
    ['1.2 || ^2.0', [['==1.2'], ['>=2.0', '<3']]],
    ['latest', undefined],
    ['>=1.2.*', undefined],
  ])('%j', (constraint, expected) => {
    expect(poetryConstraint(constraint)).toEqual(expected)
  })
})

describe('pythonMarker', () => {
  test.each<[string, string | undefined]>([
    ['*', ''],
    ['3.8', 'python_full_version == "3.8.*"'],
    ['>=3.9,<3.13', 'python_full_version >= "3.9" and python_full_version < "3.13"'],
    ['^3.10', 'python_full_version >= "3.10" and python_full_version < "4"'],
    ['<3.8 || >=3.11', '(python_full_version < "3.8") or (python_full_version >= "3.11")'],
    ['py3', undefined],
  ])('%j', (constraint, expected) => {
    expect(pythonMarker(constraint)).toBe(expected)
  })
})
