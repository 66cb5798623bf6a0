import type { TomlValue } from 'smol-toml'
import { firstUnsafeChar } from './escape.js'
import type { Installer } from './install.js'
import {
  fail,
  isTable,
  normalizeName,
  parseToml,
  poetryDependencies,
  poetryDependencyTable,
  REQUIREMENT_HEAD,
  str,
  type Table,
} from './lockfile.js'

/**
 * A pyproject.toml given as `requirements` (flytekit's builder reads it as requirements.txt lines and fails): the
 * project's main dependencies are installed, no optional extras, not the project itself.
 *
 * - Installer uv gets the file itself (`uv pip install --requirement pyproject.toml`), which uv reads statically
 *   only when `[project]` names the project and lists its dependencies; otherwise uv would run the project's build
 *   backend, which needs source files the build context does not have. Those cases are SpecErrors here.
 * - Installer pip cannot read the file, so the dependencies are written as requirement lines: `[project]
 *   .dependencies` (PEP 621), else `[tool.poetry.dependencies]` translated to PEP 508.
 *
 * Returns the requirements installed from the file: for uv as listed (they decide whether the flytekit pin is
 * added), for pip the lines to write. `file` names the file in messages (every problem is a SpecError on
 * `requirements`).
 */
export function pyprojectDependencies(text: string, file: string, installer: Installer): string[] {
  const pyproject = parseToml(text, file)
  const project = isTable(pyproject['project']) ? pyproject['project'] : undefined
  const dynamic = stringList(project?.['dynamic'])
  const listed = project?.['dependencies']
  if (listed !== undefined) {
    if (dynamic.includes('dependencies'))
      fail(
        `${file} lists [project].dependencies and also declares them dynamic; remove "dependencies" from [project].dynamic`,
      )
    const dependencies = requirementLines(listed, file)
    checkSources(pyproject, dependencies, file, installer)
    if (installer === 'uv') checkUvReadable(pyproject, project as Table, dynamic, file)
    return dependencies
  }
  if (poetryDependencyTable(pyproject) !== undefined) {
    if (installer === 'uv')
      fail(
        `${file} lists its dependencies under [tool.poetry.dependencies], which uv does not read from a pyproject.toml; move them to [project].dependencies, use installer 'pip' (which translates them), or point requirements at the poetry.lock`,
      )
    return checked(poetryDependencies(pyproject, { unlocked: true, file }), file)
  }
  if (dynamic.includes('dependencies'))
    fail(
      `${file} declares its dependencies dynamic (the build backend computes them), so they cannot be read from the file; list them in [project].dependencies, or point requirements at a requirements.txt or lock file`,
    )
  if (project === undefined)
    fail(
      `${file} has neither [project].dependencies (PEP 621) nor [tool.poetry.dependencies], so it names nothing to install; list the dependencies in [project].dependencies`,
    )
  // A [project] without dependencies (and not dynamic) has none, by PEP 621.
  if (installer === 'uv') checkUvReadable(pyproject, project, dynamic, file)
  return []
}

const stringList = (v: TomlValue | undefined): string[] =>
  Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []

/** `[project].dependencies`, each checked to be a requirement (stripped, as flytekit strips requirement lines). */
function requirementLines(listed: TomlValue, file: string): string[] {
  if (!Array.isArray(listed)) fail(`${file}: [project].dependencies must be a list of requirement strings`)
  return listed.map((dep, i) => {
    if (typeof dep !== 'string')
      fail(`${file}: [project].dependencies[${i}] is not a string; write each requirement as a string`)
    return checkedLine(dep.trim(), `[project].dependencies[${i}]`, file)
  })
}

function checked(lines: string[], file: string): string[] {
  return lines.map((line) => checkedLine(line, 'a dependency', file))
}

/**
 * A requirement that stays one requirement in a requirements file: it starts with a project name (a line
 * starting with `-` would be a pip option, such as `-r` or `--index-url`), has no line break, and does not end
 * in the `\` that joins the next line.
 */
function checkedLine(line: string, where: string, file: string): string {
  if (/^[A-Za-z0-9]/.test(line) && firstUnsafeChar(line) === undefined && !line.endsWith('\\')) return line
  return fail(
    `${file}: ${where} ${JSON.stringify(line)} is not a requirement; write it as PEP 508 says, e.g. "numpy>=1.26"`,
  )
}

/** The entries of a `[tool.x.sources]`-style value: one table, or a list of them (one per marker). */
const alternatives = (v: TomlValue): Table[] => (Array.isArray(v) ? v.filter(isTable) : isTable(v) ? [v] : [])

/**
 * Sources given beside `[project].dependencies` that the installer would not follow, so that it would install a
 * different package of the same name from the index: `[tool.uv.sources]` (only uv reads them, and only ones
 * outside the project folder make sense in a build context holding just pyproject.toml) and git, URL or path
 * entries of `[tool.poetry.dependencies]` (only poetry reads them).
 */
function checkSources(pyproject: Table, dependencies: string[], file: string, installer: Installer): void {
  const names = new Set(dependencies.map((d) => normalizeName(REQUIREMENT_HEAD.exec(d)?.[1] ?? d)))
  const tool = isTable(pyproject['tool']) ? pyproject['tool'] : {}
  const uv = isTable(tool['uv']) ? tool['uv'] : {}
  const uvSources = isTable(uv['sources']) ? uv['sources'] : {}
  for (const [name, value] of Object.entries(uvSources)) {
    if (!names.has(normalizeName(name))) continue
    if (installer === 'pip')
      fail(
        `${file}: [tool.uv.sources] gives dependency ${name} a source of its own, which only uv reads (pip would take ${name} from the package index); use installer 'uv', or write the source into the requirement ("${name} @ <url>")`,
      )
    if (alternatives(value).some((a) => a['path'] !== undefined || a['workspace'] !== undefined))
      fail(
        `${file}: [tool.uv.sources] takes dependency ${name} from a local path or the workspace, which is not in the build context (only pyproject.toml is); publish it to an index or use a git or URL source`,
      )
  }
  for (const [name, value] of Object.entries(poetryDependencyTable(pyproject) ?? {})) {
    if (!names.has(normalizeName(name))) continue
    const kind = ['git', 'url', 'path'].find((k) => alternatives(value).some((a) => a[k] !== undefined))
    if (kind !== undefined)
      fail(
        `${file}: [tool.poetry.dependencies] gives dependency ${name} a ${kind} source, which only poetry reads; write it into [project].dependencies ("${name} @ <url>"), or point requirements at the poetry.lock`,
      )
  }
}

/**
 * What uv needs to take the dependencies from the file without building the project: `[project].name` (PEP 621
 * requires it; uv refuses the file without it), static optional dependencies too, and `[project].dependencies`
 * when the file has a `[tool.poetry]` table (uv takes such a file for a poetry project whose dependencies only
 * poetry's build backend knows).
 */
function checkUvReadable(pyproject: Table, project: Table, dynamic: string[], file: string): void {
  if (str(project['name']) === undefined)
    fail(`${file} has no [project].name, which PEP 621 requires and uv needs to read the file; add the name`)
  const tool = pyproject['tool']
  const why = dynamic.includes('optional-dependencies')
    ? 'declares [project].optional-dependencies dynamic'
    : project['dependencies'] === undefined && isTable(tool) && tool['poetry'] !== undefined
      ? 'has a [tool.poetry] table and no [project].dependencies'
      : undefined
  if (why !== undefined)
    fail(
      `${file} ${why}, so uv would run the project's build backend, which needs the project's source files (only pyproject.toml is in the build context); list them statically in [project] or use installer 'pip'`,
    )
}
