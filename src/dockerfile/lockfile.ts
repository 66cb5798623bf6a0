import { parse, TomlError, type TomlTable, type TomlValue } from 'smol-toml'
import { SpecError } from '../errors.js'
import { poetryConstraint, pythonMarker } from './poetry-constraint.js'

/**
 * Installer pip with a uv.lock or poetry.lock: the project's main dependencies become the requirements, and every
 * version the lock pins becomes a pip constraint (`-c`), so pip installs the versions uv sync / poetry install
 * would. Like `uv sync --no-dev --no-install-project` and `poetry install --no-root`, neither the project itself
 * nor dev groups or optional extras are installed. Index URLs recorded in the lock are not added: pip uses
 * pip_index and pip_extra_index_url, as the uv and poetry installs in flytekit's template do.
 */
export interface PipLockInput {
  requirements: string[]
  constraints: string[]
}

export type Table = TomlTable

/** PEP 503 name normalisation. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-')
}

/** A package's origin in the lock, reduced to what pip can be told. */
type Origin =
  | { kind: 'registry' }
  | { kind: 'direct'; url: string } // git commit or archive URL: installed as `name @ url`
  | { kind: 'local'; path: string } // a path on the building machine, not in the build context
  | { kind: 'project' } // the project itself

interface Locked {
  name: string
  version: string
  origin: Origin
  /** PEP 508 marker saying where this version applies, when the lock has several versions of one package. */
  marker?: string
}

/** A SpecError on `requirements`. */
export function fail(message: string): never {
  throw new SpecError([{ path: 'requirements', message }])
}

/** The parsed file, or a SpecError naming `file` with the parser's message and where it stopped. */
export function parseToml(text: string, file: string): Table {
  try {
    return parse(text)
  } catch (err) {
    const message = err instanceof Error ? (err.message.split('\n')[0] as string) : String(err)
    const at = err instanceof TomlError ? ` (line ${err.line}, column ${err.column})` : ''
    return fail(`${file} is not valid TOML: ${message.replace(/^Invalid TOML document: /, '')}${at}`)
  }
}

export const isTable = (v: TomlValue | undefined): v is Table =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)
export const str = (v: TomlValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined)
const tables = (v: TomlValue | undefined): Table[] => (Array.isArray(v) ? v.filter(isTable) : [])
const strings = (v: TomlValue | undefined): string[] =>
  Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []

/** `[project].dependencies` (PEP 621), or undefined when pyproject.toml has none. */
function projectDependencies(pyproject: Table): string[] | undefined {
  const project = pyproject['project']
  return isTable(project) && Array.isArray(project['dependencies'])
    ? strings(project['dependencies'])
    : undefined
}

export function pipInputFromUvLock(lockText: string, pyprojectText: string): PipLockInput {
  const lock = parseToml(lockText, 'uv.lock')
  const pyproject = parseToml(pyprojectText, 'pyproject.toml')
  const locked = tables(lock['package']).map(uvLocked)
  return {
    requirements: pinDirect(projectDependencies(pyproject) ?? [], locked),
    constraints: constraints(locked),
  }
}

function uvLocked(pkg: Table): Locked {
  const name = str(pkg['name']) ?? fail('uv.lock has a [[package]] without a name')
  const markers = strings(pkg['resolution-markers'])
  return {
    name,
    version: str(pkg['version']) ?? '',
    origin: uvOrigin(isTable(pkg['source']) ? pkg['source'] : {}),
    marker: markers.length > 0 ? anyOf(markers) : undefined,
  }
}

function uvOrigin(source: Table): Origin {
  const git = str(source['git'])
  if (git !== undefined) return { kind: 'direct', url: uvGitUrl(git) }
  const url = str(source['url'])
  if (url !== undefined) return { kind: 'direct', url }
  const local =
    str(source['editable']) ?? str(source['directory']) ?? str(source['path']) ?? str(source['virtual'])
  if (local !== undefined) return local === '.' ? { kind: 'project' } : { kind: 'local', path: local }
  return { kind: 'registry' }
}

/** uv records `https://host/repo?subdirectory=x&rev=main#<commit>`; pip wants `git+https://host/repo@<commit>`. */
function uvGitUrl(recorded: string): string {
  const [beforeFragment = '', commit = ''] = recorded.split('#', 2)
  const [base = '', query = ''] = beforeFragment.split('?', 2)
  const subdirectory = new URLSearchParams(query).get('subdirectory')
  return `git+${base}@${commit}${subdirectory ? `#subdirectory=${subdirectory}` : ''}`
}

export function pipInputFromPoetryLock(lockText: string, pyprojectText: string): PipLockInput {
  const lock = parseToml(lockText, 'poetry.lock')
  const pyproject = parseToml(pyprojectText, 'pyproject.toml')
  const locked = tables(lock['package']).map(poetryLocked)
  const requirements = projectDependencies(pyproject) ?? poetryDependencies(pyproject)
  return { requirements: pinDirect(requirements, locked), constraints: constraints(locked) }
}

function poetryLocked(pkg: Table): Locked {
  const name = str(pkg['name']) ?? fail('poetry.lock has a [[package]] without a name')
  const markers = pkg['markers']
  // Lock format 2.1 keeps a marker per package, either one string or one per dependency group.
  const marker = str(markers) ?? (isTable(markers) ? str(markers['main']) : undefined)
  return {
    name,
    version: str(pkg['version']) ?? '',
    origin: poetryOrigin(isTable(pkg['source']) ? pkg['source'] : {}),
    marker,
  }
}

function poetryOrigin(source: Table): Origin {
  const type = str(source['type'])
  const url = str(source['url']) ?? ''
  if (type === 'git') {
    const sub = str(source['subdirectory'])
    const commit = str(source['resolved_reference']) ?? str(source['reference']) ?? ''
    return { kind: 'direct', url: `git+${url}@${commit}${sub ? `#subdirectory=${sub}` : ''}` }
  }
  if (type === 'url') return { kind: 'direct', url }
  if (type === 'file' || type === 'directory')
    return url === '.' ? { kind: 'project' } : { kind: 'local', path: url }
  return { kind: 'registry' }
}

/** `[tool.poetry.dependencies]`, when pyproject.toml has that table. */
export function poetryDependencyTable(pyproject: Table): Table | undefined {
  const tool = pyproject['tool']
  const poetry = isTable(tool) ? tool['poetry'] : undefined
  const deps = isTable(poetry) ? poetry['dependencies'] : undefined
  return isTable(deps) ? deps : undefined
}

/**
 * `[tool.poetry.dependencies]` (minus `python`) as PEP 508 requirements. With a lock the lock decides versions
 * and sources (see pinDirect and constraints); without one (`unlocked`) each requirement has to say it all
 * itself: see unlockedPoetryRequirements.
 */
export function poetryDependencies(
  pyproject: Table,
  { unlocked = false, file = 'pyproject.toml' }: { unlocked?: boolean; file?: string } = {},
): string[] {
  return Object.entries(poetryDependencyTable(pyproject) ?? {}).flatMap(([name, spec]) => {
    if (name.toLowerCase() === 'python') return []
    return unlocked ? unlockedPoetryRequirements(name, spec, file) : poetryRequirement(name, spec)
  })
}

/**
 * One poetry dependency without a lock: one requirement per alternative that is not optional, each with its own
 * version range and environment marker (poetry's alternatives have markers that tell them apart). A git or URL
 * dependency becomes a direct reference; a local path is not in the build context, and a range PEP 440 cannot
 * spell (`a || b`) would drop the bound, so both are SpecErrors rather than a different package.
 */
function unlockedPoetryRequirements(name: string, spec: TomlValue, file: string): string[] {
  if (typeof spec === 'string') return [unlockedVersion(name, name, spec, file)]
  const alternatives = Array.isArray(spec) ? spec.filter(isTable) : isTable(spec) ? [spec] : []
  return alternatives
    .filter((alt) => alt['optional'] !== true)
    .map((alt) => {
      const extras = strings(alt['extras'])
      const head = extras.length > 0 ? `${name}[${extras.join(',')}]` : name
      const requirement =
        poetryDirectReference(name, head, alt, file) ??
        unlockedVersion(name, head, str(alt['version']) ?? '*', file)
      const marker = alternativeMarker(name, alt, file)
      return marker === undefined ? requirement : `${requirement} ; ${marker}`
    })
}

function poetryDirectReference(name: string, head: string, alt: Table, file: string): string | undefined {
  const git = str(alt['git'])
  if (git !== undefined) {
    const ref = str(alt['rev']) ?? str(alt['tag']) ?? str(alt['branch'])
    const sub = str(alt['subdirectory'])
    return `${head} @ git+${git}${ref ? `@${ref}` : ''}${sub ? `#subdirectory=${sub}` : ''}`
  }
  const url = str(alt['url'])
  if (url !== undefined) return `${head} @ ${url}`
  const local = str(alt['path'])
  if (local !== undefined) {
    fail(
      `${file}: dependency ${name} comes from the local path ${local}, which is not in the build context; publish it to an index or use a git or URL source`,
    )
  }
  return undefined
}

function unlockedVersion(name: string, head: string, constraint: string, file: string): string {
  const specifiers = poetryConstraint(constraint)
  if (specifiers === undefined || specifiers.length !== 1) {
    fail(
      `${file}: version "${constraint}" of dependency ${name} has no PEP 440 spelling; write it as one range (e.g. ">=1.2,<2"), or point requirements at the poetry.lock`,
    )
  }
  return `${head}${(specifiers[0] as string[]).join(',')}`
}

/**
 * One poetry dependency. The version range is kept where PEP 440 can say it (the constraint pins the version
 * anyway); `python` and `markers` become an environment marker; optional dependencies belong to extras, which
 * `poetry install` leaves out too.
 */
function poetryRequirement(name: string, spec: TomlValue): string[] {
  if (typeof spec === 'string') return [withVersion(name, spec)]
  const alternatives = Array.isArray(spec) ? spec.filter(isTable) : isTable(spec) ? [spec] : []
  if (alternatives.length === 0 || alternatives.every((a) => a['optional'] === true)) return []
  const first = alternatives[0] as Table
  const extras = strings(first['extras'])
  const head = extras.length > 0 ? `${name}[${extras.join(',')}]` : name
  const versioned = alternatives.length === 1 ? withVersion(head, str(first['version']) ?? '*') : head
  const markers = alternatives.map((a) => alternativeMarker(name, a))
  const marker = markers.every((m) => m !== undefined) ? anyOf(markers as string[]) : undefined
  return [marker === undefined ? versioned : `${versioned} ; ${marker}`]
}

function withVersion(head: string, constraint: string): string {
  const specifiers = poetryConstraint(constraint)
  // An `a || b` range has no PEP 440 spelling; the locked version (a constraint) still applies.
  return specifiers !== undefined && specifiers.length === 1
    ? `${head}${(specifiers[0] as string[]).join(',')}`
    : head
}

function alternativeMarker(name: string, alt: Table, file = 'pyproject.toml'): string | undefined {
  const parts: string[] = []
  const python = str(alt['python'])
  if (python !== undefined) {
    const m = pythonMarker(python)
    if (m === undefined)
      fail(
        `${file}: python = "${python}" of dependency ${name} is not a constraint this action can translate for pip`,
      )
    if (m !== '') parts.push(m)
  }
  const markers = str(alt['markers'])
  if (markers !== undefined) parts.push(markers)
  return parts.length === 0 ? undefined : combine(parts, 'and')
}

/** Markers joined with `or` / `and`, each in parentheses when there is more than one. */
function combine(markers: string[], op: 'and' | 'or'): string {
  return markers.length === 1 ? (markers[0] as string) : markers.map((m) => `(${m})`).join(` ${op} `)
}

const anyOf = (markers: string[]): string => combine(markers, 'or')

export const REQUIREMENT_HEAD = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$/s

/**
 * The requirements, with packages the lock takes from git or a URL rewritten to that exact source (pip would
 * otherwise look them up on the index). Local path packages cannot be installed: only the lock and
 * pyproject.toml are in the build context (the same holds for flytekit's uv sync and poetry install).
 */
function pinDirect(requirements: string[], locked: Locked[]): string[] {
  const byName = new Map(locked.map((l) => [normalizeName(l.name), l]))
  return requirements.map((req) => {
    const m = REQUIREMENT_HEAD.exec(req)
    if (!m) return req
    const [, name = '', extras = '', rest = ''] = m
    const origin = byName.get(normalizeName(name))?.origin
    if (origin?.kind === 'local') {
      fail(
        `dependency ${name} comes from the local path ${origin.path}, which is not in the build context; installer pip cannot install it`,
      )
    }
    if (origin?.kind !== 'direct' || rest.startsWith('@')) return req
    const semicolon = rest.indexOf(';')
    const marker = semicolon >= 0 ? ` ${rest.slice(semicolon)}` : ''
    return `${name}${extras} @ ${origin.url}${marker}`
  })
}

/**
 * `name==version` for every package from an index. A package locked at several versions (one per Python
 * version or platform) gets one line per version with the lock's marker; without markers to tell them apart it
 * is left unconstrained rather than given contradictory pins.
 */
function constraints(locked: Locked[]): string[] {
  const groups = new Map<string, Locked[]>()
  for (const l of locked) {
    if (l.origin.kind !== 'registry' || l.version === '') continue
    const key = normalizeName(l.name)
    groups.set(key, [...(groups.get(key) ?? []), l])
  }
  return [...groups.values()].flatMap((group) => {
    if (group.length === 1) return [`${(group[0] as Locked).name}==${(group[0] as Locked).version}`]
    if (group.some((l) => l.marker === undefined)) return []
    return group.map((l) => `${l.name}==${l.version} ; ${l.marker}`)
  })
}
