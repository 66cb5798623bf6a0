import { accessSync, constants, statSync } from 'node:fs'
import path from 'node:path'
import {
  REGISTRY_CACHE_TAG,
  registryCacheRef,
  type BuildPlan,
  type BuildSecret,
  type RegistryCacheSetting,
} from './buildx-args.js'
import { InputError } from '../errors.js'
import { registryProblem } from '../plan/reference.js'

/**
 * The parts of the buildx plan that come straight from action inputs (input values in, plan values out), and the
 * checks that refuse, before anything is built or pushed, values buildx would refuse (or silently misread) later.
 */
export interface BuildxInputs {
  network: string
  buildArgs: string[]
  secrets: string[]
  builder: string
  cacheFrom: string[]
  cacheTo: string[]
  provenance: string
  sbom: string
  labels: string[]
  noCache: boolean
  /** The `registry-cache` input as written ('' for the default, `auto`). */
  registryCache?: string
}

/** One line of a list input with its line number in the input's text (blank and `#` lines counted). */
export interface NumberedLine {
  line: number
  text: string
}

/** `KEY=VALUE` lines into a record; `input` names the input in the error. */
export function keyValues(lines: string[], input: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of lines) {
    const eq = line.indexOf('=')
    if (eq <= 0) throw new InputError(input, `'${line}' is not KEY=VALUE; write one per line`)
    out[line.slice(0, eq).trim()] = line.slice(eq + 1)
  }
  return out
}

/**
 * Every problem of a `KEY=VALUE` list (`build-args`, `labels`), by line. Values are never repeated: build
 * arguments often carry tokens, and a line without '=' may be one.
 */
export function keyValueProblems(lines: readonly NumberedLine[]): string[] {
  const problems: string[] = []
  const firstLine = new Map<string, number>()
  for (const { line, text } of lines) {
    const eq = text.indexOf('=')
    const key = eq < 0 ? '' : text.slice(0, eq).trim()
    if (eq < 0) {
      problems.push(`line ${line} has no '=': write one KEY=VALUE per line`)
    } else if (key === '') {
      problems.push(`line ${line} has no KEY before '=': write one KEY=VALUE per line`)
    } else if (/\s/.test(key)) {
      problems.push(`line ${line}: the key '${key}' has a space; keys are one word, e.g. PIP_INDEX_URL=...`)
    } else if (firstLine.has(key)) {
      problems.push(`line ${line} sets ${key} again (line ${firstLine.get(key)} set it): keep one`)
    } else {
      firstLine.set(key, line)
    }
  }
  return problems
}

/**
 * One CSV record as buildx reads `--secret`, `--provenance` and `--sbom` values (Go's encoding/csv): fields
 * split on ',', a field may be quoted with '"' (a '""' inside is one '"'). Undefined when it is not one record.
 */
export function csvFields(text: string): string[] | undefined {
  const fields: string[] = []
  let i = 0
  for (;;) {
    let field = ''
    if (text[i] === '"') {
      for (i++; ; i++) {
        if (i >= text.length) return undefined
        if (text[i] === '"') {
          if (text[i + 1] !== '"') break
          i++
        }
        field += text[i]
      }
      i++
      if (i < text.length && text[i] !== ',') return undefined
    } else {
      const comma = text.indexOf(',', i)
      field = text.slice(i, comma < 0 ? text.length : comma)
      if (field.includes('"')) return undefined
      i = comma < 0 ? text.length : comma
    }
    fields.push(field)
    if (i >= text.length) return fields
    i++
  }
}

/** Go's strconv.ParseBool, which buildx uses for attestation switches. */
const GO_BOOL = /^(?:1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/

const ATTESTATION_KEYS: Record<'provenance' | 'sbom', Record<string, (v: string) => string | undefined>> = {
  provenance: {
    mode: (v) => (v === 'min' || v === 'max' ? undefined : `mode is min or max, not '${v}'`),
    'builder-id': (v) => (v.trim() ? undefined : 'builder-id needs a value (a URI naming the builder)'),
    version: (v) => (v === 'v0.2' || v === 'v1' ? undefined : `version is v0.2 or v1, not '${v}'`),
    reproducible: goBool('reproducible'),
    'inline-only': goBool('inline-only'),
    disabled: goBool('disabled'),
  },
  sbom: {
    generator: (v) => (v.trim() ? undefined : 'generator needs a value (the scanner image)'),
    disabled: goBool('disabled'),
  },
}

function goBool(key: string): (v: string) => string | undefined {
  return (v) => (GO_BOOL.test(v) ? undefined : `${key} is true or false, not '${v}'`)
}

const ATTESTATION_EXAMPLES = {
  provenance: "true, false, mode=min, mode=max or a list such as 'mode=max,version=v1,builder-id=https://…'",
  sbom: "true, false or 'generator=IMAGE'",
}

/**
 * What buildx accepts for `--provenance` / `--sbom`: a boolean as Go reads it, or a CSV list of key=value
 * parameters of that attestation. Anything else fails the build after other images were pushed.
 */
export function attestationProblem(kind: 'provenance' | 'sbom', value: string): string | undefined {
  const text = value.trim()
  if (text === '' || GO_BOOL.test(text)) return undefined
  const fields = csvFields(text)
  const fix = `use ${ATTESTATION_EXAMPLES[kind]}`
  if (!fields) return `'${text}' is not a comma-separated key=value list (a stray '"'); ${fix}`
  const problems: string[] = []
  for (const field of fields) {
    const eq = field.indexOf('=')
    const key = field.slice(0, eq).trim().toLowerCase()
    const check = ATTESTATION_KEYS[kind][key]
    if (eq < 0) problems.push(`'${field}' is neither true/false nor key=value`)
    else if (!check)
      problems.push(
        `'${key}' is not ${kind === 'sbom' ? 'an SBOM' : 'a provenance'} parameter (${Object.keys(ATTESTATION_KEYS[kind]).join(', ')})`,
      )
    else {
      const issue = check(field.slice(eq + 1))
      if (issue) problems.push(issue)
    }
  }
  return problems.length > 0 ? `'${text}': ${problems.join('; ')}; ${fix}` : undefined
}

const SECRET_FIX = 'write id=NAME,src=FILE or id=NAME,env=VARIABLE'

type ParsedSecret = { ok: true; secret: BuildSecret } | { ok: false; problem: string }

/**
 * buildx's `--secret` syntax (util/buildflags/secrets.go): one CSV record of `type=file|env`, `id`, `src` (or
 * `source`) and `env`; with `type=env`, `src` names the variable. Field values other than the id, file and
 * variable name are never repeated in a problem: a misplaced token must not reach the log.
 */
function readSecret(text: string): ParsedSecret {
  const fields = csvFields(text)
  if (!fields) return { ok: false, problem: `is not one comma-separated record (a stray '"'); ${SECRET_FIX}` }
  const values = new Map<string, string>()
  for (const [i, field] of fields.entries()) {
    const eq = field.indexOf('=')
    if (eq < 0)
      return {
        ok: false,
        problem: `has a field without '=' (field ${i + 1}; fields are key=value); ${SECRET_FIX}`,
      }
    const key = field.slice(0, eq).trim().toLowerCase()
    const value = field.slice(eq + 1).trim()
    if (!['type', 'id', 'src', 'source', 'env'].includes(key)) {
      return {
        ok: false,
        problem: `has '${key}', which is not a secret field (type, id, src, env); ${SECRET_FIX}`,
      }
    }
    values.set(key === 'source' ? 'src' : key, value)
  }
  const type = values.get('type')
  if (type !== undefined && type !== 'file' && type !== 'env') {
    return { ok: false, problem: `has type=${type}; the type is file or env` }
  }
  const id = values.get('id')
  let src = values.get('src')
  let env = values.get('env')
  if (type === 'env' && !env) [env, src] = [src, undefined]
  if (!id) return { ok: false, problem: `has no id=; ${SECRET_FIX}` }
  if (!src && !env) return { ok: false, problem: `(id=${id}) names no source; ${SECRET_FIX}` }
  if (src && env) return { ok: false, problem: `(id=${id}) gives both src= and env=; keep one` }
  return { ok: true, secret: src ? { id, src } : { id, env: env as string } }
}

/** buildx `--secret` syntax into a BuildSecret; the first problem is thrown naming the input. */
export function parseSecret(text: string): BuildSecret {
  const parsed = readSecret(text)
  if (!parsed.ok) throw new InputError('secrets', `a secret ${parsed.problem}`)
  return parsed.secret
}

export interface SecretSources {
  /** Where buildx resolves a relative `src` (the action's working directory: buildx runs there). */
  cwd: string
  env: NodeJS.ProcessEnv
}

/**
 * Every problem of the `secrets` lines: the syntax, a repeated id, a `src` file that is missing, not a file or
 * not readable, an `env` variable that is not set in the step's environment. buildx would fail on each only
 * when it builds, after other images were pushed.
 */
export function secretProblems(lines: readonly NumberedLine[], sources: SecretSources): string[] {
  const problems: string[] = []
  const firstLine = new Map<string, number>()
  for (const { line, text } of lines) {
    const parsed = readSecret(text)
    if (!parsed.ok) {
      problems.push(`line ${line} ${parsed.problem}`)
      continue
    }
    const { secret } = parsed
    const known = firstLine.get(secret.id)
    if (known !== undefined) {
      problems.push(
        `line ${line} repeats id=${secret.id} of line ${known}: ids name one secret each; give each its own id, or remove one`,
      )
      continue
    }
    firstLine.set(secret.id, line)
    const issue = 'src' in secret ? fileProblem(secret.src, sources.cwd) : envProblem(secret.env, sources.env)
    if (issue) problems.push(`line ${line} (id=${secret.id}): ${issue}`)
  }
  return problems
}

function fileProblem(src: string, cwd: string): string | undefined {
  const full = path.resolve(cwd, src)
  const where = path.isAbsolute(src) ? '' : ` (relative to ${cwd})`
  let isFile: boolean
  try {
    isFile = statSync(full).isFile()
  } catch {
    return `the src file '${src}'${where} does not exist; create it in an earlier step or fix the path`
  }
  if (!isFile) return `src '${src}'${where} is not a file; a secret is read from one file`
  try {
    accessSync(full, constants.R_OK)
  } catch {
    return `the src file '${src}'${where} cannot be read by this step (permissions); make it readable`
  }
  return undefined
}

function envProblem(name: string, env: NodeJS.ProcessEnv): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    return 'env= takes the name of an environment variable (letters, digits, _), not its value'
  }
  if (env[name] === undefined) {
    return (
      `the environment variable ${name} is not set in this step; set it in the step's env: ` +
      `(${name}: \${{ secrets.${name} }})`
    )
  }
  return undefined
}

const REGISTRY_CACHE_FORMS =
  "use auto, false, a registry to keep the caches in (e.g. ghcr.io/my-org/cache, giving ghcr.io/my-org/cache/<name>:buildcache) or a reference template with {name} (e.g. '{registry}/{name}-cache:latest')"

/** A Docker tag: a word character first, then up to 127 of `[A-Za-z0-9_.-]`. */
const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/

/**
 * The `registry-cache` input: `auto` (or empty, `true`, `on`), `false` (`off`, `none`), a registry (`host[/path]`,
 * giving `<registry>/<name>:buildcache`), or a template with `{name}` and optionally `{registry}`, with or without a
 * tag (`:buildcache` when it has none). `{name}` is required: without it every image would write one cache and each
 * build would overwrite the last one's.
 */
export function parseRegistryCache(text: string): { setting: RegistryCacheSetting } | { problem: string } {
  const value = text.trim()
  if (/^(|auto|true|on|yes|1)$/i.test(value)) return { setting: { kind: 'auto' } }
  if (/^(false|off|none|no|0)$/i.test(value)) return { setting: { kind: 'off' } }
  if (!value.includes('{')) {
    const problem = registryProblem(value)
    if (problem) {
      const tagged = /:[^/]*$/.test(value) && !registryProblem(value.replace(/:[^:/]*$/, ''))
      return {
        problem: tagged
          ? `'${value}' has a tag; a registry gets <registry>/<name>:${REGISTRY_CACHE_TAG}, or write a template such as '${value.replace(/:[^:/]*$/, '')}/{name}:${value.slice(value.lastIndexOf(':') + 1)}'`
          : `${problem.replace(/^is empty; /, '')}; ${REGISTRY_CACHE_FORMS}`,
      }
    }
    return { setting: { kind: 'template', template: `${value.toLowerCase()}/{name}` } }
  }
  const unknown = [...value.matchAll(/\{([^{}]*)\}/g)]
    .map((m) => m[1])
    .find((n) => n !== 'name' && n !== 'registry')
  if (unknown !== undefined) {
    return { problem: `'${value}' uses {${unknown}}; the placeholders are {registry} and {name}` }
  }
  if (!value.includes('{name}')) {
    return {
      problem: `'${value}' has no {name}, so every image would share one cache and overwrite it; ${REGISTRY_CACHE_FORMS}`,
    }
  }
  const lastPart = value.slice(value.lastIndexOf('/') + 1)
  if (/:.*\{/.test(lastPart)) {
    return {
      problem: `'${value}': the tag cannot hold {name} or {registry}, which may contain /; put {name} in the path, e.g. 'ghcr.io/my-org/cache/{name}:buildcache'`,
    }
  }
  // Checked as it will be used, with a name that has a '/' as many do.
  const sample = registryCacheRef(
    { kind: 'template', template: value },
    { registry: 'registry.example/team', name: 'group/app' },
  ) as string
  const colon = sample.lastIndexOf(':')
  const [repository, tag] = [sample.slice(0, colon), sample.slice(colon + 1)]
  if (registryProblem(repository) || repository !== repository.toLowerCase() || !DOCKER_TAG.test(tag)) {
    return {
      problem: `'${value}' gives '${sample}' for the image group/app of registry.example/team, which is not an image reference (lower-case host/path[:tag]); ${REGISTRY_CACHE_FORMS}`,
    }
  }
  return { setting: { kind: 'template', template: value } }
}

export function buildPlanDefaults(
  inputs: BuildxInputs,
  labels: Record<string, string>,
): Omit<BuildPlan, 'context' | 'dockerfile' | 'tags' | 'platforms' | 'output' | 'metadataFile'> {
  return {
    labels: { ...labels, ...keyValues(inputs.labels, 'labels') },
    ...(inputs.network ? { network: inputs.network } : {}),
    buildArgs: keyValues(inputs.buildArgs, 'build-args'),
    secrets: inputs.secrets.map(parseSecret),
    ...(inputs.builder ? { builder: inputs.builder } : {}),
    cacheFrom: inputs.cacheFrom,
    cacheTo: inputs.cacheTo,
    provenance: inputs.provenance,
    sbom: inputs.sbom,
    noCache: inputs.noCache,
  }
}
