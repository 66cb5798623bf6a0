/**
 * The bad-input catalogue's machinery: one small workspace per case (spec files in YAML or Python, other files,
 * symbolic links, files outside it), the placeholders cases write instead of this machine's registry and base
 * image, the error text of a step as the runner shows it, and the looks before and after a run that tell whether
 * the action wrote or pushed anything it must not have.
 *
 * Cases are data (__tests__/e2e/bad-input-catalogue.test.ts); docs/errors.md is written from them.
 */
import {
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'

export type Area =
  | 'inputs'
  | 'registries and login'
  | 'inline fields'
  | 'spec fields'
  | 'base_image'
  | 'names and characters'
  | 'paths and symbolic links'
  | 'spec files'
  | 'spec lines'
  | 'Python sources'
  | 'the image graph'

/**
 * A file of a case's workspace. Text is written as UTF-8 after its placeholders are filled in; `encoding` writes
 * it in another encoding (with `bom`, the byte order mark first); `link` makes a symbolic link (to a path with
 * placeholders, e.g. `{OUTSIDE}/secret.txt`, or a relative one).
 */
export type FileBody =
  string | { text: string; encoding: 'utf16le' | 'latin1'; bom?: boolean } | { link: string }

export interface CatalogueCase {
  /** Unique, lower-case, digits and '-': names the test (and the row of docs/errors.md). */
  id: string
  area: Area
  /** What is wrong, in a few words (the errors table's second column). */
  what: string
  /** The workspace: path -> body. */
  files?: Record<string, FileBody>
  /** The inputs the workflow sets (the runner adds action.yml's defaults). Placeholders are filled in. */
  inputs: Record<string, string>
  /** Extra environment of the step. */
  env?: Record<string, string>
  /** The exit code; 1 when not given. */
  exit?: number
  /** The input or field the message must name (for spec files with `file:line`). */
  names: RegExp
  /** How the message says to fix it. */
  fix: RegExp
  /** More the message must say. */
  also?: RegExp[]
}

/** What the placeholders of one case stand for. */
export interface CaseContext {
  /** `{REGISTRY}`: this case's own path in the open registry, where a push would land. */
  registry: string
  /** `{E2E_REGISTRY}`: the open registry's host:port. */
  host: string
  /** `{BASE}`: the local Python base image. */
  base: string
  /** `{OUTSIDE}`: a folder next to the workspace, outside it, holding `secret.txt`, `data/`, `project/`. */
  outside: string
}

export function fill(text: string, ctx: CaseContext): string {
  return text
    .replaceAll('{REGISTRY}', ctx.registry)
    .replaceAll('{E2E_REGISTRY}', ctx.host)
    .replaceAll('{BASE}', ctx.base)
    .replaceAll('{OUTSIDE}', ctx.outside)
}

export function fillAll(values: Record<string, string>, ctx: CaseContext): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, fill(v, ctx)]))
}

/** A spec file's text: one line per argument, each ending in a newline. */
export function lines(...text: string[]): string {
  return text.map((l) => `${l}\n`).join('')
}

/**
 * Files outside the workspace that links of a case point at. `secret.txt` stands for the runner's own files
 * (a docker config, a key): a case whose link leads there must be refused.
 */
export function writeOutside(dir: string): void {
  mkdirSync(path.join(dir, 'data'), { recursive: true })
  mkdirSync(path.join(dir, 'project'), { recursive: true })
  writeFileSync(path.join(dir, 'secret.txt'), 'outside-the-workspace\n')
  writeFileSync(path.join(dir, 'data', 'notes.txt'), 'outside-the-workspace\n')
  writeFileSync(path.join(dir, 'requirements.txt'), 'ispec-demo-a\n')
  writeFileSync(
    path.join(dir, 'project', 'pyproject.toml'),
    '[project]\nname = "outside"\nversion = "0.1.0"\ndependencies = []\n',
  )
}

/**
 * The step's HOME: a runner's `~/.docker/config.json` with a login to another registry. The action copies the
 * runner's logins into a Docker config of the job under RUNNER_TEMP and must never write here. A HOME of the
 * case's own, rather than the machine's, is what makes "unchanged" mean "the action did not touch it": other
 * tests on the machine run buildx, which writes its activity into the machine's ~/.docker/buildx.
 */
export function writeHome(dir: string, marker: string): void {
  mkdirSync(path.join(dir, '.docker'), { recursive: true })
  const auth = Buffer.from('runner:not-for-this-step').toString('base64')
  // HttpHeaders travel with every copy of the config, so a copy written where it must not be can be told apart.
  const config = { auths: { 'registry.example.com': { auth } }, HttpHeaders: { 'X-Catalogue-Case': marker } }
  writeFileSync(path.join(dir, '.docker', 'config.json'), JSON.stringify(config, null, 2))
}

export function writeWorkspace(dir: string, files: Record<string, FileBody>, ctx: CaseContext): void {
  mkdirSync(dir, { recursive: true })
  for (const [rel, body] of Object.entries(files)) {
    const full = path.join(dir, rel)
    mkdirSync(path.dirname(full), { recursive: true })
    if (typeof body === 'string') writeFileSync(full, fill(body, ctx))
    else if ('link' in body) symlinkSync(fill(body.link, ctx), full)
    else {
      const text = (body.bom ? '\ufeff' : '') + fill(body.text, ctx)
      writeFileSync(full, Buffer.from(text, body.encoding))
    }
  }
}

// ---------------------------------------------------------------------------------------------- hostile files

/**
 * "Billion laughs": ten levels, each a list of ten aliases of the level before, so that the last one stands for
 * 10^10 strings when expanded. PyYAML shares the nodes; anything that walks the value as a tree never ends.
 */
export function aliasBomb(): string {
  const levels = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]']
  for (let i = 1; i <= 10; i++) {
    const prev = `*a${i - 1}`
    levels.push(`a${i}: &a${i} [${Array(10).fill(prev).join(', ')}]`)
  }
  return lines(
    'name: app',
    'registry: {REGISTRY}',
    'base_image: {BASE}',
    'builder_options:',
    ...levels.map((l) => `  ${l}`),
  )
}

/** `depth` nested flow lists as the value of one field (`packages: [[[[...]]]]`). */
export function nestedBrackets(depth: number): string {
  return lines(
    'name: app',
    'registry: {REGISTRY}',
    'base_image: {BASE}',
    `packages: ${'['.repeat(depth)}${']'.repeat(depth)}`,
  )
}

// ---------------------------------------------------------------------------------------------- the job log

/**
 * The text of every `::error::` command in a job log, decoded as the runner decodes it (`%0A` is a line break):
 * what the user reads in the annotation and the failed step.
 */
export function errorText(log: string): string {
  return log
    .split('\n')
    .filter((l) => l.startsWith('::error'))
    .map((l) =>
      l
        .replace(/^::error[^:]*::/, '')
        .replaceAll('%0D', '\r')
        .replaceAll('%0A', '\n')
        .replaceAll('%25', '%'),
    )
    .join('\n')
}

// ---------------------------------------------------------------------------------------------- snapshots

/** Every entry below `dir` (folders, files, links), with what would show a change: type, size, mtime, target. */
export function snapshotTree(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  let names: string[]
  try {
    names = readdirSync(dir, { recursive: true }).map(String)
  } catch {
    return out // missing: an empty map, so that a folder created by the run shows up as new entries
  }
  for (const rel of names.sort()) {
    const full = path.join(dir, rel)
    try {
      const st = lstatSync(full)
      const kind = st.isSymbolicLink() ? `link->${readlinkSync(full)}` : st.isDirectory() ? 'dir' : 'file'
      out.set(rel, `${kind} ${st.isDirectory() ? '' : st.size} ${st.mtimeMs}`)
    } catch {
      out.set(rel, 'gone')
    }
  }
  return out
}

/** What differs between two snapshots: `+ new`, `- removed`, `~ changed`. */
export function treeChanges(before: Map<string, string>, after: Map<string, string>): string[] {
  const changes: string[] = []
  for (const [rel, state] of after) {
    const was = before.get(rel)
    if (was === undefined) changes.push(`+ ${rel}`)
    else if (was !== state) changes.push(`~ ${rel} (${was} -> ${state})`)
  }
  for (const rel of before.keys()) if (!after.has(rel)) changes.push(`- ${rel}`)
  return changes
}

export function topLevelEntries(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir))
  } catch {
    return new Set()
  }
}

/**
 * New entries of the machine's /tmp (`dir`) that the action made. Other processes share /tmp (this repository's other
 * tests, the Docker engine's containerd mounts, people's own folders), so a new entry counts only when it is the
 * case's: its name, or the text of a file in it, holds one of the case's `markers` (its registry path, its
 * folder, the marker in its HOME's Docker config), which is what a file the action wrote there would hold (a
 * Dockerfile context, a spec file, a Docker config, a log). The action runs with TMPDIR set to a folder of the
 * case, which is checked on its own and catches anything written through the temporary-folder API; this
 * catches /tmp written to by name.
 */
export function newEntriesOfCase(
  dir: string,
  before: Set<string>,
  after: Set<string>,
  markers: string[],
): string[] {
  const budget = { files: 2000 }
  return [...after]
    .filter((name) => !before.has(name) && !ELSEWHERE.test(name))
    .filter(
      (name) => markers.some((m) => name.includes(m)) || holdsMarker(path.join(dir, name), markers, budget),
    )
    .sort()
}

/** Entries known to come from other processes, too large to read: the engine's mounts and the helper's step folders. */
const ELSEWHERE = /^(?:containerd-mount|step-|catalogue-|bash_jobs)/

function holdsMarker(entry: string, markers: string[], budget: { files: number }): boolean {
  let st
  try {
    st = lstatSync(entry)
  } catch {
    return false // gone already: not the action's (its step has ended)
  }
  if (st.isSymbolicLink()) return markers.some((m) => safeReadlink(entry).includes(m))
  if (st.isFile()) {
    if (--budget.files < 0 || st.size > 1 << 20) return false
    try {
      const text = readFileSync(entry, 'latin1')
      return markers.some((m) => text.includes(m))
    } catch {
      return false
    }
  }
  if (!st.isDirectory()) return false
  let names: string[]
  try {
    names = readdirSync(entry)
  } catch {
    return false
  }
  return names.some(
    (n) =>
      markers.some((m) => n.includes(m)) ||
      (budget.files > 0 && holdsMarker(path.join(entry, n), markers, budget)),
  )
}

function safeReadlink(p: string): string {
  try {
    return readlinkSync(p)
  } catch {
    return ''
  }
}

// ---------------------------------------------------------------------------------------------- the registry

/** Repositories of the open registry at or below `prefix`, from every page of its catalog. */
export async function repositoriesUnder(registry: string, prefix: string): Promise<string[]> {
  const found: string[] = []
  let last = ''
  for (let page = 0; page < 1000; page++) {
    const res = await fetch(
      `http://${registry}/v2/_catalog?n=1000${last ? `&last=${encodeURIComponent(last)}` : ''}`,
    )
    if (res.status !== 200) throw new Error(`GET /v2/_catalog on ${registry}: HTTP ${res.status}`)
    const names = ((await res.json()) as { repositories?: string[] }).repositories ?? []
    found.push(...names.filter((r) => r === prefix || r.startsWith(`${prefix}/`)))
    if (!res.headers.get('link') || names.length === 0) return found
    last = names[names.length - 1] as string
  }
  throw new Error(`the catalog of ${registry} did not end after 1000 pages`)
}
