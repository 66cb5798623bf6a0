/**
 * The copy and source_root digests over a generated tree of about 2,000 files (sizes from empty to over 1 MiB,
 * so both the whole-file reads and the streamed reads are used, nested folders, non-ASCII names), compared with
 * the digests Python computes on the same tree with its own implementation of flytekit's compute_digest and
 * ls_files(ALL), written below from flytekit's source (not from ours). No timing is asserted.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { copyDigest } from '../../src/tag/copy-digest.js'
import { lsFilesAll, sourceRootDigest } from '../../src/tag/source-root-digest.js'
import { TempDirs } from '../support/temp-dirs.js'

const dirs = new TempDirs()
afterAll(() => dirs.removeAll())

/** Deterministic bytes: md5 chained from a seed, so each file's content differs and can be regenerated. */
function bytesFor(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size)
  let block = createHash('md5').update(seed).digest()
  for (let at = 0; at < size; at += block.length) {
    block.copy(out, at)
    block = createHash('md5').update(block).digest()
  }
  return out
}

const NAMES = ['a', 'B', 'z', 'é', 'ü-file', '日本', 'émoji-😀', 'Z_upper', '_under', '~tilde']

/** About 2,000 files: 4 top folders × 5 sub-folders × 3 leaves × 33 files, plus files at every level. */
async function makeLargeTree(cwd: string): Promise<number> {
  let count = 0
  const put = async (rel: string, size: number): Promise<void> => {
    const full = path.join(cwd, rel)
    await mkdir(path.dirname(full), { recursive: true })
    await writeFile(full, bytesFor(rel, size))
    count++
  }
  const batch: Promise<void>[] = []
  for (let t = 0; t < 4; t++) {
    const top = `proj/${NAMES[t] as string}-top${t}`
    batch.push(put(`${top}/top-file-${t}.txt`, 100 + t))
    for (let s = 0; s < 5; s++) {
      const sub = `${top}/sub-${NAMES[(t + s) % NAMES.length] as string}${s}`
      for (let l = 0; l < 3; l++) {
        const leaf = `${sub}/leaf${l}-${NAMES[(s + l) % NAMES.length] as string}`
        for (let f = 0; f < 33; f++) {
          const i = ((t * 5 + s) * 3 + l) * 33 + f
          // Mostly small (0 to ~40 kB), a few exactly at and around the 1 MiB boundary, a few over it.
          const size =
            i % 397 === 0
              ? 1024 * 1024 + 1 + i
              : i % 499 === 1
                ? 1024 * 1024
                : i % 211 === 2
                  ? 1024 * 1024 - 1
                  : (i * 7919) % 40_000
          batch.push(put(`${leaf}/${NAMES[f % NAMES.length] as string}${f}.dat`, size))
        }
      }
    }
    await Promise.all(batch.splice(0))
  }
  await put('proj/root-file.py', 3_000_000)
  await put('proj/empty', 0)
  // StandardIgnore drops these from source_root (with an absolute root), not from copy.
  await put('proj/mod.pyc', 10)
  await put('proj/pkg/__pycache__/x.cpython-311.pyc', 20)
  await put('other/ä-single.txt', 1234)
  await put('big.bin', 2_500_000)
  return count
}

/**
 * flytekit's compute_digest (fast_registration.py) and ls_files(ALL) / list_all_files with the standard ignore
 * patterns (script_mode.py, ignore.py), outside any git repository and without a .dockerignore.
 */
const PYTHON = String.raw`
import fnmatch, hashlib, json, os, sys

def filehash_update(path, h):
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 16)
            if not chunk:
                break
            h.update(chunk)

def pathhash_update(path, h):
    h.update("".join(path.split(os.sep)).encode("utf-8"))

def compute_digest(sources):
    h = hashlib.md5()
    for source in sources:
        if os.path.isdir(source):
            for root, _, files in os.walk(source, topdown=True):
                files.sort()
                for fname in files:
                    abspath = os.path.join(root, fname)
                    if not os.path.exists(abspath):
                        continue
                    filehash_update(abspath, h)
                    pathhash_update(os.path.relpath(abspath, source), h)
        elif os.path.isfile(source):
            filehash_update(source, h)
            pathhash_update(os.path.basename(source), h)
    return h.hexdigest()

STANDARD = ["*.pyc", ".cache", ".cache/*", "__pycache__/*", "**/__pycache__/*"]

def ls_files_all(root):
    found = []
    for dirpath, dirnames, filenames in os.walk(root, topdown=True):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            p = os.path.join(dirpath, name)
            if not os.path.exists(p):
                continue
            rel = os.path.relpath(p, root) if os.path.isabs(p) else p
            if any(fnmatch.fnmatch(rel, pat) for pat in STANDARD):
                continue
            found.append(p)
    found.sort()
    h = hashlib.md5()
    for p in found:
        filehash_update(p, h)
        pathhash_update(os.path.relpath(p, root), h)
    return len(found), h.hexdigest()

os.chdir(sys.argv[1])
n, d = ls_files_all(os.path.abspath("proj"))
print(json.dumps({
    "copy_folder": compute_digest(["proj"]),
    "copy_several": compute_digest(["other/ä-single.txt", "proj", "missing", "big.bin", "other"]),
    "source_root_count": n,
    "source_root": d,
}))
`

interface PythonDigests {
  copy_folder: string
  copy_several: string
  source_root_count: number
  source_root: string
}

describe('digests of a ~2,000-file tree match an independent Python implementation', () => {
  let cwd: string
  let files: number
  let py: PythonDigests

  beforeAll(async () => {
    cwd = await dirs.make('imagespec-large-tree-')
    files = await makeLargeTree(cwd)
    py = JSON.parse(execFileSync('python3', ['-c', PYTHON, cwd], { encoding: 'utf8' })) as PythonDigests
  }, 120_000)

  test('the tree is as large as intended', () => {
    expect(files).toBeGreaterThanOrEqual(1_990)
    expect(py.copy_folder).toMatch(/^[0-9a-f]{32}$/)
  })

  test('copy of one folder', async () => {
    expect(await copyDigest(['proj'], cwd)).toBe(py.copy_folder)
  })

  test('copy of several entries: a file, a folder, a missing path, a large file, another folder', async () => {
    const digest = await copyDigest(['other/ä-single.txt', 'proj', 'missing', 'big.bin', 'other'], cwd)
    expect(digest).toBe(py.copy_several)
    expect(digest).not.toBe(py.copy_folder)
  })

  test('source_root, mode ALL, absolute root (standard ignore patterns apply)', async () => {
    const root = path.join(cwd, 'proj')
    expect(await sourceRootDigest(root, cwd)).toBe(py.source_root)
    const listed = await lsFilesAll(root, cwd)
    expect(listed.files).toHaveLength(py.source_root_count)
    // The two .pyc files are left out.
    expect(py.source_root_count).toBe(files - 2 - 2)
  })
})
