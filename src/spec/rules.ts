import { existsSync, lstatSync, statSync } from 'node:fs'
import path from 'node:path'
import { pyRepr, pyStr, strRepr } from '../pyvalues/repr.js'
import { isPyDict, PyDate, PyDateTime, PyDict, PyEnum, PyTuple, type PyValue } from '../pyvalues/values.js'
import {
  describeOddChars,
  invisibleChars,
  nonAsciiChars,
  redactUrls,
  requirementStrictRanges,
} from './characters.js'
import { REGISTRY_RE } from './construct.js'

/**
 * Semantic rules checked after the shape: the ones flytekit's `__post_init__`, its `tag` and its default builder
 * enforce, plus the few this action needs to build a working image. Each rule looks at one spec level and returns
 * issues with the field path; `validate.ts` adds where each value came from.
 */
export interface RuleIssue {
  path: (string | number)[]
  message: string
  /** Warnings are reported but do not stop the step. */
  severity?: 'error' | 'warning'
  /** The field whose line to show, when the field at fault is not written (a default). */
  at?: (string | number)[]
}

export interface RuleContext {
  fields: Map<string, PyValue>
  /** The folder relative paths are resolved against (the working directory, as pyflyte's). */
  cwd: string
}

type Rule = (ctx: RuleContext) => RuleIssue[]

const str = (ctx: RuleContext, key: string): string | undefined => {
  const val = ctx.fields.get(key)
  return typeof val === 'string' ? val : undefined
}
const list = (ctx: RuleContext, key: string): string[] | undefined => {
  const val = ctx.fields.get(key)
  return Array.isArray(val) && val.every((x) => typeof x === 'string') ? (val as string[]) : undefined
}
const isSet = (ctx: RuleContext, key: string): boolean => {
  const val = ctx.fields.get(key)
  return val !== undefined && val !== null
}

// What Docker accepts in a repository path (distribution's reference grammar), which flytekit does not check.
const DOCKER_PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/
const DOCKER_HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$/

const registryRule: Rule = (ctx) => {
  const registry = str(ctx, 'registry')
  if (!registry) return []
  const odd = lookAlike(registry, 'registry hosts and paths')
  if (odd) return [{ path: ['registry'], message: odd }]
  const lower = registry.toLowerCase()
  if (!REGISTRY_RE.test(lower)) {
    return [
      {
        path: ['registry'],
        message: `'${registry}' is not a registry flytekit accepts; use a host with an optional path, e.g. ghcr.io/my-org, 123456789012.dkr.ecr.us-east-1.amazonaws.com/team or localhost:30000`,
      },
    ]
  }
  const [host = '', ...rest] = lower.split('/')
  if (!DOCKER_HOST.test(host) || !rest.every((c) => DOCKER_PATH_COMPONENT.test(c))) {
    return [
      {
        path: ['registry'],
        message: `'${registry}' passes flytekit's check but Docker rejects it: path parts may hold only a-z, 0-9 and single separators (. _ __ -)`,
      },
    ]
  }
  return []
}

const nameRule: Rule = (ctx) => {
  const name = str(ctx, 'name')
  if (name === undefined) return []
  const odd = lookAlike(name, 'image names')
  if (odd) return [{ path: ['name'], message: odd }]
  const parts = name.toLowerCase().split('/')
  if (name === '' || !parts.every((c) => DOCKER_PATH_COMPONENT.test(c))) {
    return [
      {
        path: ['name'],
        message: `'${name}' is not a valid image repository name: use lower-case letters, digits and single separators (. _ __ -), with '/' between parts, e.g. my-team/train`,
      },
    ]
  }
  return []
}

const requirementsRule: Rule = (ctx) => {
  const req = str(ctx, 'requirements')
  if (req === undefined) return []
  if (req === '') return [] // falsy: flytekit ignores it
  const full = path.resolve(ctx.cwd, req)
  if (existsSync(full) && statSync(full).isDirectory()) {
    return [
      {
        path: ['requirements'],
        message: `'${req}' is a folder; point requirements at a file in it (requirements.txt, uv.lock, poetry.lock or pyproject.toml)`,
      },
    ]
  }
  if (!existsSync(full)) {
    // A link that resolves nowhere (a loop, a target outside) is reported with its target by the tag's check.
    if (isLink(full)) return []
    return [
      {
        path: ['requirements'],
        message: `file '${req}' not found (relative to ${ctx.cwd}); commit it or fix the path`,
      },
    ]
  }
  const base = path.basename(req)
  // A pyproject.toml is installed by its [project] dependencies (src/dockerfile/pyproject.ts), not read as lines.
  if (base !== 'uv.lock' && base !== 'poetry.lock') return []
  const issues: RuleIssue[] = []
  if (!existsSync(path.join(path.dirname(full), 'pyproject.toml'))) {
    issues.push({
      path: ['requirements'],
      message: `${base} needs a pyproject.toml in the same folder; add it next to '${req}'`,
    })
  }
  if (isSet(ctx, 'packages')) {
    issues.push({
      path: ['packages'],
      message: `packages cannot be combined with a ${base} requirements file (flytekit refuses it); add them to pyproject.toml and re-lock`,
    })
  }
  return issues
}

const copyRule: Rule = (ctx) => {
  const copy = list(ctx, 'copy')
  if (!copy) return []
  return copy.flatMap((p, i): RuleIssue[] => {
    if (path.isAbsolute(p) || p.split(/[\\/]/).includes('..')) {
      return [
        {
          path: ['copy', i],
          message: `'${p}' must be a path relative to the working directory, without '..'`,
        },
      ]
    }
    const full = path.resolve(ctx.cwd, p)
    // A link that resolves nowhere (a loop, a missing target) is reported with its target by the tag's check.
    if (!existsSync(full) && !isLink(full)) {
      return [
        {
          path: ['copy', i],
          message: `'${p}' does not exist (relative to ${ctx.cwd}); commit it, or fix or remove the entry`,
        },
      ]
    }
    return []
  })
}

/**
 * source_copy_mode arrives two ways. From a YAML file it is a plain string: flytekit never converts it to its
 * CopyFileDetection enum, so any string compares unequal to NO_COPY and LOADED_MODULES and flytekit hashes and
 * copies every file (the tag holds the string). From the `source-copy-mode` input it is the enum itself, as in a
 * Python ImageSpec. Only the enum LOADED_MODULES (also flytekit's default when source_root is set) is refused:
 * it hashes the modules a Python process imported, which nothing outside that process can reproduce.
 */
const sourceRootRule: Rule = (ctx) => {
  const root = str(ctx, 'source_root')
  const mode = ctx.fields.get('source_copy_mode')
  const modeName = mode instanceof PyEnum ? mode.name : typeof mode === 'string' ? mode : undefined
  const copies = modeName !== undefined && !(mode instanceof PyEnum && modeName === 'NO_COPY')
  const issues: RuleIssue[] = []
  if (root !== undefined) {
    const full = path.resolve(ctx.cwd, root)
    if (existsSync(full) && !statSync(full).isDirectory()) {
      issues.push({
        path: ['source_root'],
        message: `'${root}' is a file; source_root is the folder whose files are copied: name its folder (e.g. '.')`,
      })
    } else if (!existsSync(full) && !isLink(full)) {
      issues.push({
        path: ['source_root'],
        message: `folder '${root}' not found (relative to ${ctx.cwd}); commit it or fix the path`,
      })
    }
    if (modeName === undefined || (mode instanceof PyEnum && modeName === 'LOADED_MODULES')) {
      issues.push({
        path: ['source_copy_mode'],
        // When the mode is not written, the line shown is source_root's.
        ...(modeName === undefined ? { at: ['source_root'] } : {}),
        message: `${modeName === undefined ? 'with source_root set, flytekit defaults to LOADED_MODULES, which' : 'LOADED_MODULES'} hashes the modules a Python process imported and cannot be reproduced outside it; set source_copy_mode: ALL (copy every file that is not ignored) or NO_COPY`,
      })
    }
  } else if (copies) {
    issues.push({
      path: ['source_copy_mode'],
      message:
        'needs source_root (flytekit refuses to hash a copy mode without it): set the folder to copy, or remove source_copy_mode',
    })
  }
  if (typeof mode === 'string' && mode !== 'ALL') {
    issues.push({
      path: ['source_copy_mode'],
      severity: 'warning',
      message: `'${mode}' from a YAML file is a plain string to flytekit, which then copies and hashes every file of source_root, as with ALL; remove source_root to copy nothing`,
    })
  }
  return issues
}

const pythonExecRule: Rule = (ctx) =>
  isSet(ctx, 'python_exec') && (isSet(ctx, 'conda_packages') || isSet(ctx, 'conda_channels'))
    ? [
        {
          path: ['python_exec'],
          message:
            "cannot be combined with conda_packages or conda_channels (conda needs micromamba's Python); remove one of them",
        },
      ]
    : []

/** Builders other than flytekit's default one (envd installs CUDA; the others build elsewhere or not at all). */
const OTHER_BUILDERS = new Set(['envd', 'union', 'unionai', 'noop'])

const cudaRule: Rule = (ctx) =>
  (['cuda', 'cudnn'] as const)
    .filter((k) => isSet(ctx, k) && !OTHER_BUILDERS.has(String(ctx.fields.get('builder'))))
    .map((k) => ({
      path: [k],
      message: `flytekit's default builder cannot install ${k === 'cuda' ? 'CUDA' : 'cuDNN'}; remove it and use a CUDA base_image (e.g. nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04) instead`,
    }))

const pythonVersionRule: Rule = (ctx) => {
  const pv = ctx.fields.get('python_version')
  if (typeof pv !== 'number') return []
  // YAML 1.1 (and so flytekit) reads 3.10 as the float 3.1; flytekit then hashes 3.1 and installs python=3.1.
  const shown = Number.isInteger(pv) ? pv.toFixed(1) : String(pv)
  // 3.1 to 3.5 are what 3.10 to 3.50 become; no such Python is installable, so this is always a mistake.
  if (/^3\.[1-5]$/.test(shown)) {
    return [
      {
        path: ['python_version'],
        message: `YAML reads it as the number ${shown}, so flytekit would install Python ${shown}; quote it: python_version: "3.10"`,
      },
    ]
  }
  return [
    {
      path: ['python_version'],
      severity: 'warning',
      message: `is the number ${shown}, not a string; flytekit hashes it the same way, but quoting it ("${shown}") avoids surprises like 3.10 becoming 3.1`,
    },
  ]
}

const ignoredFieldsRule: Rule = (ctx) => {
  const notes: [string, string][] = [
    [
      'registry_config',
      'is only used by the envd builder and is ignored here (flytekit leaves it out of the tag too)',
    ],
    [
      'runtime_packages',
      'are installed by flytekit when a task starts, not at build time; the image needs pip for that',
    ],
  ]
  const builder = ctx.fields.get('builder')
  const issues: RuleIssue[] = notes
    .filter(([k]) => isSet(ctx, k))
    .map(([k, message]) => ({ path: [k], message, severity: 'warning' as const }))
  if (builder !== undefined && builder !== null && builder !== 'default') {
    issues.push({
      path: ['builder'],
      severity: 'warning',
      message: `'${String(builder)}' is ignored: this action builds the image itself, like flytekit's default builder (builder is not part of the tag)`,
    })
  }
  return issues
}

/**
 * What flytekit would write into the image but hardly anyone means. flytekit writes each variable as
 * `f"{k}={v}"`, so a YAML key `10:` (an int) names the variable 10 and a value left empty is the text None. The
 * image and the tag are flytekit's either way, so these are warnings; a name or value the Dockerfile cannot carry
 * is refused later, by the Dockerfile check, which says why.
 */
const envRule: Rule = (ctx) => {
  const env = ctx.fields.get('env')
  if (!isPyDict(env)) return []
  const issues: RuleIssue[] = []
  for (const [key, value] of env) {
    const name = pyStr(key)
    const path: (string | number)[] =
      typeof key === 'string' ? ['env', key] : typeof key === 'bigint' ? ['env', Number(key)] : ['env']
    if (typeof key !== 'string') {
      issues.push({
        path,
        severity: 'warning',
        message: `has the key ${pyRepr(key)}, which YAML reads as ${yamlTypeName(key)}, not a string: flytekit names the variable ${strRepr(name)} (and hashes the ${yamlTypeName(key, false)})${/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? '' : ', a name no shell can expand'}; quote the key if a string was meant`,
      })
    }
    const odd = oddEnvValue(value)
    if (odd) {
      const shown = truncate(`${name}=${pyStr(value)}`)
      issues.push({
        path,
        severity: 'warning',
        message: `${odd}: the image gets ${strRepr(shown)}${envValueFix(value, name)}`,
      })
    }
  }
  return issues
}

function oddEnvValue(value: PyValue): string | undefined {
  if (value === null)
    return 'is null (nothing after the colon, ~ or null in YAML), which flytekit writes as the text None'
  if (value instanceof PyDict) return 'is a mapping, which flytekit writes as its Python repr'
  if (Array.isArray(value) || value instanceof PyTuple)
    return 'is a list, which flytekit writes as its Python repr'
  return undefined
}

function envValueFix(value: PyValue, name: string): string {
  if (value === null) return `; write ${name}: "" for an empty value, or remove the variable`
  return '; quote the value if that text is meant'
}

function yamlTypeName(v: PyValue, article = true): string {
  const name =
    v === null
      ? 'None'
      : typeof v === 'boolean'
        ? 'bool'
        : typeof v === 'bigint'
          ? 'int'
          : typeof v === 'number'
            ? 'float'
            : v instanceof PyDateTime
              ? 'datetime'
              : v instanceof PyDate
                ? 'date'
                : 'value'
  if (!article || name === 'None') return name
  return `${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name}`
}

function truncate(text: string, max = 80): string {
  return [...text].length > max ? `${[...text].slice(0, max - 1).join('')}…` : text
}

// ---------------------------------------------------------------------------------------------- characters

/**
 * A message for a value whose grammar is ASCII (`what` names such values) but which holds another character,
 * invisible ones included; undefined when it is all ASCII. Only `strict` code point ranges count when given.
 */
function lookAlike(
  value: string,
  what: string,
  strict?: (text: string) => [number, number][],
): string | undefined {
  // Positions are counted in the text as shown, where a URL's password or token is `***`.
  const shown = redactUrls(value)
  const odd = nonAsciiChars(shown, strict?.(shown))
  if (odd.length === 0) return undefined
  return `${describeOddChars(shown, odd)}; ${what} are ASCII, so a character that only looks like a letter (or is not seen at all) is a mistake: retype it`
}

/** List fields of names, each item checked as a requirement (name and URL hosts ASCII) or wholly. */
const NAME_LISTS: [string, string, 'requirement' | 'whole'][] = [
  ['packages', 'package names', 'requirement'],
  ['runtime_packages', 'package names', 'requirement'],
  ['conda_packages', 'conda package names', 'requirement'],
  ['conda_channels', 'conda channel names', 'requirement'],
  ['apt_packages', 'Debian package names', 'whole'],
]

/** Fields whose values are names or URLs, checked strictly above or by their own rules. */
const STRICT_FIELDS = new Set([
  'name',
  'registry',
  'base_image',
  'platform',
  'pip_index',
  'pip_extra_index_url',
  ...NAME_LISTS.map(([f]) => f),
])

const lookAlikeRule: Rule = (ctx) => {
  const issues: RuleIssue[] = []
  const base = str(ctx, 'base_image')
  const odd = base === undefined ? undefined : lookAlike(base, 'image references')
  if (odd) issues.push({ path: ['base_image'], message: odd })
  for (const [field, what, how] of NAME_LISTS) {
    for (const [i, item] of (list(ctx, field) ?? []).entries()) {
      const message =
        how === 'whole'
          ? lookAlike(item, what)
          : (lookAlike(item, what, (t) => requirementStrictRanges(t).slice(0, 1)) ??
            lookAlike(item, 'URL hosts', (t) => requirementStrictRanges(t).slice(1)))
      if (message) issues.push({ path: [field, i], message })
    }
  }
  return issues
}

/**
 * Free text (env values, commands, paths, options) may hold any character, but an invisible one (zero-width,
 * bidi control) makes what is shown differ from what runs or is hashed: a warning, since flytekit keeps it.
 */
const invisibleRule: Rule = (ctx) => {
  const issues: RuleIssue[] = []
  for (const [field, value] of ctx.fields) {
    if (STRICT_FIELDS.has(field) || value === null) continue
    // env names: one with an invisible character cannot be written into the Dockerfile, which says so.
    walkStrings(value, [field], field !== 'env', (text, path) => {
      const odd = invisibleChars(text)
      if (odd.length === 0) return
      issues.push({
        path,
        severity: 'warning',
        message: `${describeOddChars(text, odd)}, an invisible character that makes the text show differently from what it is; flytekit keeps (and hashes) it as written, so remove it unless it is meant`,
      })
    })
  }
  return issues
}

/** Calls `visit` for each string in a value, with its path; mapping keys too when `keys` is set. */
function walkStrings(
  value: PyValue,
  path: (string | number)[],
  keys: boolean,
  visit: (text: string, path: (string | number)[]) => void,
): void {
  if (typeof value === 'string') visit(value, path)
  else if (Array.isArray(value)) value.forEach((item, i) => walkStrings(item, [...path, i], true, visit))
  else if (value instanceof PyTuple)
    value.items.forEach((item, i) => walkStrings(item, [...path, i], true, visit))
  else if (value instanceof PyDict) {
    for (const [k, v] of value) {
      const at = typeof k === 'string' ? [...path, k] : path
      if (keys && typeof k === 'string') visit(k, at)
      walkStrings(v, at, true, visit)
    }
  }
}

// ---------------------------------------------------------------------------------------------- URLs, platform

/**
 * pip_index and each pip_extra_index_url must be an index pip can read: http(s) with a host, or file. flytekit
 * passes them to pip unchecked, so a typo otherwise fails inside the build, after other images were pushed.
 * A falsy pip_index (`""`) is skipped, as flytekit's `if image_spec.pip_index:` skips it.
 */
const indexUrlRule: Rule = (ctx) => {
  const issues: RuleIssue[] = []
  const index = ctx.fields.get('pip_index')
  // Python-falsy values (None, '', 0, False) are what flytekit's `if image_spec.pip_index:` skips.
  const falsy =
    index === undefined || index === null || index === '' || index === false || index === 0n || index === 0
  if (!falsy) {
    const problem =
      typeof index === 'string' ? urlProblem(index) : `must be a URL, not ${pyRepr(index)}; quote it`
    if (problem) issues.push({ path: ['pip_index'], message: problem })
  }
  for (const [i, url] of (list(ctx, 'pip_extra_index_url') ?? []).entries()) {
    const problem = urlProblem(url)
    if (problem) issues.push({ path: ['pip_extra_index_url', i], message: problem })
  }
  return issues
}

const URL_EXAMPLE = 'e.g. https://pypi.example.com/simple'

function urlProblem(text: string): string | undefined {
  const shown = strRepr(redactUrls(text))
  const invisible = lookAlike(text, 'URLs', () => [])
  if (invisible) return invisible
  if (/[ \t\n\r\f\v]/.test(text)) return `${shown} has a blank; a URL has none (write a space as %20)`
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase()
  if (scheme === undefined) {
    return `${shown} is not a URL: start it with https://, http:// or file:// (${URL_EXAMPLE})`
  }
  if (!['http', 'https', 'file'].includes(scheme)) {
    return `${shown} uses ${scheme}:, but pip reads a package index only over http:// or https://, or from file://; ${URL_EXAMPLE}`
  }
  if (scheme !== 'file') {
    if (hostRange(text) === undefined) {
      return `${shown} has no host; write it as ${scheme}://<host>/<path>, ${URL_EXAMPLE}`
    }
    const odd = lookAlike(text, 'hosts', (t) => [hostRange(t) ?? [0, 0]])
    if (odd) return odd
  }
  if (!URL.canParse(text)) return `${shown} is not a valid URL; ${URL_EXAMPLE}`
  return undefined
}

/** The host of a `scheme://[user@]host[:port]/...` URL as a [start, end) code point range; undefined if empty. */
function hostRange(url: string): [number, number] | undefined {
  const m = /^([^:]+:\/\/)([^/?#]*)/.exec(url)
  const authority = m?.[2] ?? ''
  const hostStart = authority.lastIndexOf('@') + 1
  const host = authority.slice(hostStart).replace(/:\d*$/, '')
  if (host === '') return undefined
  const from = [...url.slice(0, (m?.[1] ?? '').length + hostStart)].length
  return [from, from + [...host].length]
}

/**
 * platform is passed to `docker buildx build --platform`: a comma-separated list of os/arch[/variant], each
 * linux (flytekit's builders build Linux images), without blanks, empty items or repeats.
 */
const platformRule: Rule = (ctx) => {
  const platform = str(ctx, 'platform')
  if (platform === undefined) return []
  const problems: string[] = []
  const seen = new Set<string>()
  for (const item of platform.split(',')) {
    const problem = platformItemProblem(item, seen)
    if (problem) problems.push(problem)
    seen.add(item.toLowerCase())
  }
  return problems.map((message) => ({ path: ['platform'], message }))
}

const PLATFORM_EXAMPLE = 'e.g. linux/amd64 or linux/amd64,linux/arm64'

function platformItemProblem(item: string, seen: Set<string>): string | undefined {
  if (item === '') return `has an empty item (a leading, trailing or doubled comma); ${PLATFORM_EXAMPLE}`
  const odd = lookAlike(item, 'platforms')
  if (odd) return odd
  if (/\s/.test(item))
    return `${strRepr(item)} has a blank; write the platforms without spaces, ${PLATFORM_EXAMPLE}`
  const parts = item.split('/')
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) {
    return `${strRepr(item)} is not os/arch[/variant]; ${PLATFORM_EXAMPLE}, linux/arm/v7`
  }
  const os = (parts[0] as string).toLowerCase()
  if (os !== 'linux') {
    return `${strRepr(item)} is not a Linux platform; flytekit's builders build Linux images: use linux/${parts[1]}`
  }
  if (seen.has(item.toLowerCase())) return `lists ${strRepr(item)} twice; remove one`
  return undefined
}

export const RULES: Rule[] = [
  nameRule,
  registryRule,
  requirementsRule,
  copyRule,
  sourceRootRule,
  pythonExecRule,
  cudaRule,
  pythonVersionRule,
  ignoredFieldsRule,
  envRule,
  lookAlikeRule,
  invisibleRule,
  indexUrlRule,
  platformRule,
]

export function runRules(ctx: RuleContext): RuleIssue[] {
  return RULES.flatMap((rule) => rule(ctx))
}

/** Whether `full` is a symbolic link itself (whatever it points at, if anything). */
function isLink(full: string): boolean {
  try {
    return lstatSync(full).isSymbolicLink()
  } catch {
    return false
  }
}
