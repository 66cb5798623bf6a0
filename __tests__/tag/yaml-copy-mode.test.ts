/**
 * A YAML file can only spell source_copy_mode as a string, and flytekit's `ImageSpec(**yaml.safe_load(f))` keeps
 * it a string: the tag hashes `'ALL'`, not `<CopyFileDetection.ALL: 2>`. Expected values: the source digest is
 * the golden vector `source_root_all_relative`'s, and the tags were computed by Python's md5 of the literal
 * hash input below.
 */
import { describe, expect, test } from '@jest/globals'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { resolveSpec } from '../../src/spec/resolve.js'
import { computeTag } from '../../src/tag/tag.js'

const FILES: Record<string, string> = {
  'proj/main.py': "print('hi')\n",
  'proj/pkg/__init__.py': '',
  'proj/pkg/mod.py': 'X = 1\n',
  'proj/pkg/mod.pyc': 'junk',
  'proj/__pycache__/main.cpython-311.pyc': 'junk',
  'proj/README.md': '# demo\n',
}

describe('source_copy_mode from a YAML file', () => {
  test('is hashed as the string flytekit holds, with the ALL digest of source_root', async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'yaml-copy-'))
    for (const [rel, body] of Object.entries({
      ...FILES,
      'imagespec.yaml': 'source_root: proj\nsource_copy_mode: ALL\n',
    })) {
      mkdirSync(path.dirname(path.join(cwd, rel)), { recursive: true })
      writeFileSync(path.join(cwd, rel), body)
    }
    const { spec } = resolveSpec({ specFile: 'imagespec.yaml', inline: {}, cwd, hostArch: 'x64' })
    const tagged = await computeTag(spec, cwd)
    expect(tagged.hashInput).toBe(
      "{'name': 'flytekit', 'source_root': '54d7f4ee5c657d6fe0a350e60b17c81f', 'platform': 'linux/amd64', 'source_copy_mode': 'ALL'}",
    )
    expect(tagged.tag).toBe('M4GCZj5h4yN7crTVkQo9bQ')
    expect(tagged.id).toBe('HIcXY7szQWORYc7zcjF60A')
  })
})
