import { describe, expect, test } from '@jest/globals'
import type { Installer } from '../../src/dockerfile/install.js'
import { pyprojectDependencies } from '../../src/dockerfile/pyproject.js'
import { SpecError } from '../../src/errors.js'

/*
 * What a pyproject.toml given as `requirements` installs. Expected requirements are written by hand from the
 * files below: PEP 621 lists them as they are; poetry's ranges follow poetry's documented meaning (`^1.26` is
 * >=1.26,<2, `~0.4` is >=0.4,<0.5, a `python` restriction a python_full_version marker).
 */
const FILE = 'requirements file "app/pyproject.toml"'
const toml = (...lines: string[]): string => `${lines.join('\n')}\n`

const PEP621 = toml(
  '[project]',
  'name = "demo"',
  'version = "0.1.0"',
  'requires-python = ">=3.10"',
  'dependencies = [',
  '  "numpy>=1.26",',
  `  "requests[socks]>=2 ; python_version >= '3.8'",`,
  '  "  six  ",',
  '  "direct @ https://files.example.invalid/direct-1.0.tar.gz",',
  ']',
  '',
  '[project.optional-dependencies]',
  'dev = ["pytest>=8"]',
  '',
  '[build-system]',
  'requires = ["hatchling"]',
  'build-backend = "hatchling.build"',
)
const PEP621_DEPENDENCIES = [
  'numpy>=1.26',
  "requests[socks]>=2 ; python_version >= '3.8'",
  'six',
  'direct @ https://files.example.invalid/direct-1.0.tar.gz',
]

const POETRY = toml(
  '[tool.poetry]',
  'name = "demo"',
  'version = "0.1.0"',
  '',
  '[tool.poetry.dependencies]',
  'python = "^3.10"',
  'numpy = "^1.26"',
  'pandas = { version = ">=2.0,<3", extras = ["performance"] }',
  'tomli = { version = "^2.0", python = "<3.11" }',
  'colorama = { version = "~0.4", markers = "sys_platform == \'win32\'" }',
  'mylib = { git = "https://git.example.invalid/org/mylib.git", branch = "main", subdirectory = "py" }',
  'dl = { url = "https://files.example.invalid/dl-1.0.tar.gz" }',
  'boto3 = { version = "*", optional = true }',
  'both = [',
  '  { version = "<2", python = "<3.11" },',
  '  { version = ">=2", python = ">=3.11" },',
  ']',
  '',
  '[tool.poetry.group.dev.dependencies]',
  'pytest = "^8"',
)
const POETRY_REQUIREMENTS = [
  'numpy>=1.26,<2',
  'pandas[performance]>=2.0,<3',
  'tomli>=2.0,<3 ; python_full_version < "3.11"',
  "colorama>=0.4,<0.5 ; sys_platform == 'win32'",
  'mylib @ git+https://git.example.invalid/org/mylib.git@main#subdirectory=py',
  'dl @ https://files.example.invalid/dl-1.0.tar.gz',
  'both<2 ; python_full_version < "3.11"',
  'both>=2 ; python_full_version >= "3.11"',
]

describe('pyprojectDependencies', () => {
  test.each<[string, string, Installer, string[]]>([
    ['PEP 621 dependencies, extras left out (uv)', PEP621, 'uv', PEP621_DEPENDENCIES],
    ['PEP 621 dependencies, extras left out (pip)', PEP621, 'pip', PEP621_DEPENDENCIES],
    ['a [project] without dependencies has none (uv)', toml('[project]', 'name = "p"'), 'uv', []],
    ['a [project] without dependencies has none (pip)', toml('[project]', 'name = "p"'), 'pip', []],
    ['an empty list', toml('[project]', 'name = "p"', 'dependencies = []'), 'uv', []],
    ['pip does not need the name', toml('[project]', 'dependencies = ["six"]'), 'pip', ['six']],
    ['pip: [tool.poetry.dependencies] without a lock', POETRY, 'pip', POETRY_REQUIREMENTS],
    [
      'pip: Poetry 2, dependencies dynamic and given under [tool.poetry.dependencies]',
      toml(
        '[project]',
        'name = "p"',
        'dynamic = ["dependencies"]',
        '[tool.poetry.dependencies]',
        'six = "1.16.0"',
      ),
      'pip',
      ['six==1.16.0'],
    ],
    [
      'uv follows [tool.uv.sources] itself',
      toml(
        '[project]',
        'name = "p"',
        'dependencies = ["mylib"]',
        '[tool.uv.sources]',
        'mylib = { git = "https://git.example.invalid/org/mylib" }',
      ),
      'uv',
      ['mylib'],
    ],
    [
      'pip: a uv source for a package that is not a dependency does not matter',
      toml('[project]', 'dependencies = ["six"]', '[tool.uv.sources]', 'other = { path = "../other" }'),
      'pip',
      ['six'],
    ],
    [
      'uv: dynamic version and a [tool.poetry] table beside [project].dependencies',
      toml(
        '[project]',
        'name = "p"',
        'dynamic = ["version"]',
        'dependencies = ["six"]',
        '[tool.poetry]',
        'package-mode = false',
      ),
      'uv',
      ['six'],
    ],
  ])('%s', (_name, text, installer, expected) => {
    expect(pyprojectDependencies(text, FILE, installer)).toEqual(expected)
  })
})

function issueOf(text: string, installer: Installer): { path: string; message: string } {
  try {
    pyprojectDependencies(text, FILE, installer)
  } catch (err) {
    if (err instanceof SpecError && err.issues.length === 1) {
      const [{ path, message }] = err.issues as [{ path: string; message: string }]
      return { path, message }
    }
    throw err
  }
  throw new Error('expected a SpecError')
}

describe('pyprojectDependencies refuses, on requirements and naming the file', () => {
  test.each<[string, string, Installer[], RegExp]>([
    [
      'invalid TOML, with the parser message and position',
      toml('[project', 'name = "p"'),
      ['uv', 'pip'],
      /is not valid TOML: illegal character in key \(line 1, column 9\)$/,
    ],
    [
      'dependencies declared dynamic',
      toml('[project]', 'name = "p"', 'dynamic = ["version", "dependencies"]'),
      ['uv', 'pip'],
      /declares its dependencies dynamic .*list them in \[project\]\.dependencies/,
    ],
    [
      'dependencies both listed and dynamic',
      toml('[project]', 'name = "p"', 'dynamic = ["dependencies"]', 'dependencies = ["six"]'),
      ['uv', 'pip'],
      /also declares them dynamic/,
    ],
    [
      'no [project] and no poetry dependencies',
      toml('[build-system]', 'requires = ["setuptools"]'),
      ['uv', 'pip'],
      /has neither \[project\]\.dependencies \(PEP 621\) nor \[tool\.poetry\.dependencies\]/,
    ],
    [
      'dependencies that are not a list',
      toml('[project]', 'name = "p"', 'dependencies = "six"'),
      ['uv', 'pip'],
      /\[project\]\.dependencies must be a list of requirement strings/,
    ],
    [
      'a dependency that is not a string',
      toml('[project]', 'name = "p"', 'dependencies = ["six", 1]'),
      ['uv', 'pip'],
      /\[project\]\.dependencies\[1\] is not a string/,
    ],
    [
      'a dependency that is a pip option',
      toml('[project]', 'name = "p"', 'dependencies = ["--index-url https://evil.example.invalid"]'),
      ['uv', 'pip'],
      /\[project\]\.dependencies\[0\] "--index-url https:\/\/evil\.example\.invalid" is not a requirement/,
    ],
    [
      'a dependency with a line break',
      toml('[project]', 'name = "p"', 'dependencies = ["six\\n-r other.txt"]'),
      ['uv', 'pip'],
      /\[project\]\.dependencies\[0\] "six\\n-r other\.txt" is not a requirement/,
    ],
    [
      'a dependency ending in a line continuation',
      toml('[project]', 'name = "p"', 'dependencies = ["six \\\\"]'),
      ['uv', 'pip'],
      /\[project\]\.dependencies\[0\] "six \\\\" is not a requirement/,
    ],
    [
      'a git source only poetry reads, beside [project].dependencies',
      toml(
        '[project]',
        'name = "p"',
        'dependencies = ["MyLib"]',
        '[tool.poetry.dependencies]',
        'mylib = { git = "https://git.example.invalid/org/mylib" }',
      ),
      ['uv', 'pip'],
      /\[tool\.poetry\.dependencies\] gives dependency mylib a git source, which only poetry reads/,
    ],
    [
      'uv: poetry dependencies only',
      POETRY,
      ['uv'],
      /lists its dependencies under \[tool\.poetry\.dependencies\], which uv does not read.*installer 'pip'/,
    ],
    [
      'uv: no [project].name',
      toml('[project]', 'dependencies = ["six"]'),
      ['uv'],
      /has no \[project\]\.name, which PEP 621 requires and uv needs/,
    ],
    [
      'uv: optional dependencies declared dynamic',
      toml('[project]', 'name = "p"', 'dependencies = ["six"]', 'dynamic = ["optional-dependencies"]'),
      ['uv'],
      /declares \[project\]\.optional-dependencies dynamic, so uv would run the project's build backend/,
    ],
    [
      'uv: a [tool.poetry] table and no [project].dependencies',
      toml('[project]', 'name = "p"', '[tool.poetry]', 'package-mode = false'),
      ['uv'],
      /has a \[tool\.poetry\] table and no \[project\]\.dependencies, so uv would run/,
    ],
    [
      'uv: a path source, not in the build context',
      toml(
        '[project]',
        'name = "p"',
        'dependencies = ["loc"]',
        '[tool.uv.sources]',
        'loc = { path = "../loc", editable = true }',
      ),
      ['uv'],
      /\[tool\.uv\.sources\] takes dependency loc from a local path or the workspace, which is not in the build context/,
    ],
    [
      'pip: a source only uv reads',
      toml(
        '[project]',
        'name = "p"',
        'dependencies = ["mylib>=1"]',
        '[tool.uv.sources]',
        'mylib = [{ git = "https://git.example.invalid/org/mylib", marker = "sys_platform == \'linux\'" }]',
      ),
      ['pip'],
      /\[tool\.uv\.sources\] gives dependency mylib a source of its own, which only uv reads/,
    ],
    [
      'pip: a poetry range PEP 440 cannot spell',
      toml('[tool.poetry.dependencies]', 'six = "^1.15 || ^2.0"'),
      ['pip'],
      /version "\^1\.15 \|\| \^2\.0" of dependency six has no PEP 440 spelling/,
    ],
    [
      'pip: a poetry path dependency',
      toml('[tool.poetry.dependencies]', 'loc = { path = "../loc" }'),
      ['pip'],
      /dependency loc comes from the local path \.\.\/loc, which is not in the build context/,
    ],
    [
      'pip: a poetry dependency name that would be a pip option',
      toml('[tool.poetry.dependencies]', '"-r other.txt" = "*"'),
      ['pip'],
      /a dependency "-r other\.txt" is not a requirement/,
    ],
  ])('%s', (_name, text, installers, message) => {
    for (const installer of installers) {
      const issue = issueOf(text, installer)
      expect(issue.path).toBe('requirements')
      expect(issue.message.startsWith(FILE)).toBe(true)
      expect(issue.message).toMatch(message)
    }
  })
})
