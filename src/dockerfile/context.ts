import { constants } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { SpecError, type SpecIssue } from '../errors.js'
import type { ImageSpec } from '../spec/model.js'
import { generateDockerfile, type DockerfileOptions } from './generate.js'
import { Issues, shown } from './issues.js'
import { pipInputFromPoetryLock, pipInputFromUvLock } from './lockfile.js'
import { pyprojectDependencies } from './pyproject.js'
import {
  CONSTRAINTS_FILE,
  providesFlytekit,
  PYPROJECT_FILE,
  REQUIREMENTS_FILE,
  requirementFileLines,
  requirementsMode,
  requirementsText,
} from './requirements.js'
import { copyEntries, sourceCopyEnabled, type CopyEntry } from './validate.js'
import {
  copyEscapes,
  escapeIssues,
  fenceAround,
  isInside,
  judge,
  resolveLinks,
  shownRelative,
  type Fence,
} from '../tag/os-path.js'
import { requirementsEscapes } from '../tag/requirements-digest.js'

/**
 * The files of a source_root to copy (what flytekit hashes for mode ALL), given source_root as the spec has it;
 * each absolute, or relative to the working directory (as os.walk gives them for a relative root).
 */
export type ListSourceFiles = (sourceRoot: string) => Promise<string[]>

export interface ContextOptions extends DockerfileOptions {
  /** Needed when the spec copies source_root (source_copy_mode ALL). */
  listSourceFiles?: ListSourceFiles
}

export interface BuildContext {
  /** Path of the Dockerfile (inside contextDir). */
  dockerfile: string
  contextDir: string
  /** `docker build --secret id=<id>,src=<src>` for each pip_secret_mounts entry (src made absolute). */
  secrets: { id: string; src: string }[]
}

/**
 * Writes the build context into `outDir` (created; must be empty): the Dockerfile, the package list (plus a
 * pyproject.toml given as requirements, for installer uv; or the lock file and its pyproject.toml), `src/` with the
 * source_root files and `copy/<path>` for each copy entry. flytekit mirrors copy entries at the context root,
 * where an entry named `src`, `pyproject.toml` or `Dockerfile` overwrites a generated file; a folder of their own
 * keeps them apart, and the image is the same (the COPY lines say where).
 * Relative spec paths resolve against `cwd`, as pyflyte resolves them.
 *
 * Nothing from outside `cwd` goes in: every path the context takes (copy entries and what they hold, the
 * requirements or lock file and the pyproject.toml beside it, source_root and its files) is resolved, symbolic
 * links followed, and one that leads outside is a SpecError raised before anything is written. The tag's digests
 * refuse the same paths earlier, before any registry is asked; this is the second line.
 */
export async function writeBuildContext(
  spec: ImageSpec,
  opts: ContextOptions,
  cwd: string,
  outDir: string,
): Promise<BuildContext> {
  if (opts.flytekitRequirement !== null && /[\r\n]/.test(opts.flytekitRequirement)) {
    throw new Error('flytekitRequirement must be a single requirement line')
  }
  const dockerfileText = generateDockerfile(spec, opts)
  const fence = await fenceAround(cwd)
  const copies = await checkedCopies(spec, fence)
  const sources = await sourceFiles(spec, opts, fence)
  await prepareOutDir(outDir)
  await writePackages(spec, opts, cwd, outDir)
  await writeSources(sources, outDir)
  await writeCopies(copies, fence, outDir)
  const dockerfile = path.join(outDir, 'Dockerfile')
  await fs.writeFile(dockerfile, dockerfileText)
  const secrets = (spec.pip_secret_mounts ?? []).map(([src], i) => ({
    id: `secret_${i}`,
    src: path.resolve(cwd, src),
  }))
  return { dockerfile, contextDir: outDir, secrets }
}

async function prepareOutDir(outDir: string): Promise<void> {
  await fs.mkdir(outDir, { recursive: true })
  // Left-over files would be sent with the context and could be merged into copy/ folders.
  if ((await fs.readdir(outDir)).length > 0) throw new Error(`build context folder ${outDir} is not empty`)
}

function specError(issue: SpecIssue): SpecError {
  return new SpecError([issue])
}

async function readSpecFile(file: string, field: string, what: string): Promise<string>
async function readSpecFile(file: string, field: string, what: string, raw: true): Promise<Buffer>
async function readSpecFile(
  file: string,
  field: string,
  what: string,
  raw = false,
): Promise<string | Buffer> {
  try {
    return raw ? await fs.readFile(file) : await fs.readFile(file, 'utf8')
  } catch {
    throw specError({
      path: field,
      message: `${what} ${shown(file)} cannot be read; check the path (relative to the working directory)`,
    })
  }
}

/** requirements_uv.txt as flytekit writes it, or the lock file and its pyproject.toml. */
async function writePackages(
  spec: ImageSpec,
  opts: ContextOptions,
  cwd: string,
  outDir: string,
): Promise<void> {
  const mode = requirementsMode(spec)
  const file = spec.requirements ? path.resolve(cwd, spec.requirements) : undefined
  if (mode === 'pyproject.toml' && file !== undefined) {
    await writePyproject(spec, opts, file, outDir)
    return
  }
  if (mode === 'requirements' || file === undefined) {
    const lines =
      file === undefined
        ? []
        : requirementFileLines(await readSpecFile(file, 'requirements', 'requirements file'))
    await fs.writeFile(
      path.join(outDir, REQUIREMENTS_FILE),
      requirementsText(lines, spec.packages, opts.flytekitRequirement),
    )
    return
  }
  const lock = await readSpecFile(file, 'requirements', mode)
  const pyprojectPath = path.join(path.dirname(file), 'pyproject.toml')
  const pyproject = await fs.readFile(pyprojectPath, 'utf8').catch(() => {
    throw specError({
      path: 'requirements',
      message: `${mode} needs a pyproject.toml in the same folder (${shown(pyprojectPath)} is missing)`,
    })
  })
  if (opts.installer === 'uv') {
    await fs.writeFile(path.join(outDir, mode), lock)
    await fs.writeFile(path.join(outDir, 'pyproject.toml'), pyproject)
    return
  }
  const derived =
    mode === 'uv.lock' ? pipInputFromUvLock(lock, pyproject) : pipInputFromPoetryLock(lock, pyproject)
  await fs.writeFile(path.join(outDir, REQUIREMENTS_FILE), derived.requirements.join('\n'))
  await fs.writeFile(path.join(outDir, CONSTRAINTS_FILE), derived.constraints.join('\n'))
}

/**
 * A pyproject.toml as `requirements` (see pyproject.ts). Installer uv: the file as it is beside
 * requirements_uv.txt, which holds `packages` and the flytekit pin as flytekit writes them (no pin when a
 * dependency of the project already names flytekit). Installer pip: the dependencies take the requirement file's
 * place in requirements_uv.txt.
 */
async function writePyproject(
  spec: ImageSpec,
  opts: ContextOptions,
  file: string,
  outDir: string,
): Promise<void> {
  const label = `requirements file ${shown(spec.requirements as string)}`
  const bytes = await readSpecFile(file, 'requirements', 'requirements file', true)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw specError({ path: 'requirements', message: `${label} is not UTF-8 text, which TOML must be` })
  }
  const dependencies = pyprojectDependencies(text, label, opts.installer)
  if (opts.installer === 'pip') {
    await fs.writeFile(
      path.join(outDir, REQUIREMENTS_FILE),
      requirementsText(dependencies, spec.packages, opts.flytekitRequirement),
    )
    return
  }
  const pin = dependencies.some(providesFlytekit) ? null : opts.flytekitRequirement
  await fs.writeFile(path.join(outDir, REQUIREMENTS_FILE), requirementsText([], spec.packages, pin))
  await fs.writeFile(path.join(outDir, PYPROJECT_FILE), bytes)
}

/** A source_root file to copy: where it is, and where it goes under `src/`. */
interface SourceFile {
  from: string
  rel: string
}

/**
 * source_root's files: the files flytekit's ls_files lists (and hashes into the tag) for mode ALL, each checked
 * to resolve inside the working directory before anything is written.
 * The lister gets source_root as the spec has it, because flytekit lists with the path as given: with a relative
 * root its ignore rules see `root/...` paths and match differently than with an absolute one.
 */
async function sourceFiles(spec: ImageSpec, opts: ContextOptions, fence: Fence): Promise<SourceFile[]> {
  if (!sourceCopyEnabled(spec, new Issues()) || !spec.source_root) return []
  if (opts.listSourceFiles === undefined) throw new Error('listSourceFiles is needed to copy source_root')
  const rootEscape = judge(spec.source_root, await resolveLinks(spec.source_root, fence), fence)
  if (rootEscape !== undefined) throw new SpecError(escapeIssues('source_root', [rootEscape], fence))
  const root = path.resolve(fence.cwd, spec.source_root)
  const files: SourceFile[] = []
  const outside: SpecIssue[] = []
  for (const file of await opts.listSourceFiles(spec.source_root)) {
    const from = path.resolve(fence.cwd, file)
    const rel = path.relative(root, from)
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel))
      throw new Error(`listed source file ${file} is outside ${root}`)
    const escape = judge(shownRelative(file, fence), await resolveLinks(from, fence), fence)
    if (escape !== undefined) outside.push(...escapeIssues('source_root', [escape], fence))
    files.push({ from, rel })
  }
  if (outside.length > 0) throw new SpecError(outside)
  return files
}

/** source_root's files under `src/`. */
async function writeSources(files: SourceFile[], outDir: string): Promise<void> {
  if (files.length === 0) return
  const srcDir = path.join(outDir, 'src')
  await fs.mkdir(srcDir, { recursive: true })
  for (const { from, rel } of files) {
    const target = path.join(srcDir, rel)
    await fs.mkdir(path.dirname(target), { recursive: true })
    // Like shutil.copy: follows a symlink to its content, keeps the mode.
    await fs.copyFile(from, target, constants.COPYFILE_EXCL)
  }
}

/**
 * The copy entries, once each is known to exist (flytekit fails on a missing one too) and, with the requirements
 * file and the pyproject.toml beside a lock file, to stay inside the working directory. All problems together.
 */
async function checkedCopies(spec: ImageSpec, fence: Fence): Promise<CopyEntry[]> {
  const entries = copyEntries(spec, new Issues())
  const issues: SpecIssue[] = []
  for (const entry of entries) {
    const raw = (spec.copy as string[])[entry.index] as string
    const escapes = await copyEscapes(raw, fence)
    issues.push(...escapeIssues(`copy[${entry.index}]`, escapes, fence))
    if (escapes.length === 0 && !(await exists(path.resolve(fence.cwd, entry.relPath)))) {
      issues.push({
        path: `copy[${entry.index}]`,
        message: `${shown(entry.relPath)} does not exist (relative to ${fence.cwd})`,
      })
    }
  }
  if (spec.requirements) {
    issues.push(...escapeIssues('requirements', await requirementsEscapes(spec.requirements, fence), fence))
  }
  if (issues.length > 0) throw new SpecError(issues)
  return entries
}

/** Each copy entry under `copy/<path>`. */
async function writeCopies(entries: CopyEntry[], fence: Fence, outDir: string): Promise<void> {
  for (const entry of entries) {
    await fs.mkdir(path.dirname(path.join(outDir, entry.contextPath)), { recursive: true })
    await copyTree(
      path.resolve(fence.cwd, entry.relPath),
      path.join(outDir, entry.contextPath),
      { skip: path.resolve(outDir), fence },
      [],
    )
  }
}

/**
 * shutil.copytree / shutil.copy2 as flytekit uses them: symlinks are followed, contents, modes and modification
 * times copied. The context folder itself is skipped when it lies inside a copied folder (`copy: ['.']`), and
 * anything but files and folders (sockets, FIFOs) is left out. checkedCopies has refused links that lead outside
 * the working directory or to a folder holding them; should one appear meanwhile, the copy stops rather than
 * follow it.
 */
async function copyTree(
  from: string,
  to: string,
  bounds: { skip: string; fence: Fence },
  ancestors: string[],
): Promise<void> {
  if (path.resolve(from) === bounds.skip) return
  const real = await fs.realpath(from)
  if (!isInside(real, bounds.fence.real))
    throw new Error(`copy: ${from} leads to ${real}, outside the working directory ${bounds.fence.cwd}`)
  const stat = await fs.stat(real)
  if (stat.isFile()) {
    await fs.copyFile(real, to)
    await fs.utimes(to, stat.atime, stat.mtime)
    return
  }
  if (!stat.isDirectory()) return
  if (ancestors.some((dir) => isInside(dir, real))) throw new Error(`copy: ${from} is a symlink loop`)
  await fs.mkdir(to, { recursive: true })
  for (const name of (await fs.readdir(real)).sort()) {
    await copyTree(path.join(from, name), path.join(to, name), bounds, [...ancestors, real])
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.stat(p)
    return true
  } catch {
    return false
  }
}
