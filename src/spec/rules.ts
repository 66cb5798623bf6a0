import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import { isPyDict, PyEnum, type PyValue } from '../pyvalues/values.js'
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
  if (!existsSync(full) || !statSync(full).isFile()) {
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
    if (!existsSync(path.resolve(ctx.cwd, p))) {
      return [{ path: ['copy', i], message: `'${p}' does not exist (relative to ${ctx.cwd})` }]
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
    if (!existsSync(full) || !statSync(full).isDirectory()) {
      issues.push({ path: ['source_root'], message: `folder '${root}' not found (relative to ${ctx.cwd})` })
    }
    if (modeName === undefined || (mode instanceof PyEnum && modeName === 'LOADED_MODULES')) {
      issues.push({
        path: ['source_copy_mode'],
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

const envRule: Rule = (ctx) => {
  const env = ctx.fields.get('env')
  if (!isPyDict(env)) return []
  const issues: RuleIssue[] = []
  for (const key of env.keys()) {
    if (typeof key !== 'string') {
      issues.push({ path: ['env'], message: `key ${String(key)} must be a string variable name; quote it` })
    }
  }
  return issues
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
]

export function runRules(ctx: RuleContext): RuleIssue[] {
  return RULES.flatMap((rule) => rule(ctx))
}
