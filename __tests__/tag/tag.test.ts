/**
 * computeTag / computeSpecId beyond the golden vectors. Expected hash inputs are written out by hand from
 * flytekit's rules; the expected tags are `base64.urlsafe_b64encode(md5(input)).rstrip("=")` computed by
 * Python 3.11.7 and pasted as literals.
 */
import { afterAll, describe, expect, test } from '@jest/globals'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { SpecError } from '../../src/errors.js'
import { PyDict, type PyValue } from '../../src/pyvalues/values.js'
import { constructImageSpec } from '../../src/spec/construct.js'
import type { ImageSpec } from '../../src/spec/model.js'
import { computeSpecId, computeTag } from '../../src/tag/tag.js'
import { TempDirs } from '../support/temp-dirs.js'

const dirs = new TempDirs()
afterAll(() => dirs.removeAll())

function spec(fields: Record<string, PyValue>, hostArch = 'x64'): ImageSpec {
  return constructImageSpec(new Map(Object.entries(fields)), { hostArch })
}

async function tagError(s: ImageSpec, cwd: string): Promise<SpecError> {
  try {
    await computeTag(s, cwd)
  } catch (e) {
    if (e instanceof SpecError) return e
    throw e
  }
  throw new Error('no SpecError')
}

describe('hash inputs', () => {
  test('registry_config is part of the id but not of the tag', async () => {
    const cwd = await dirs.make()
    const result = await computeTag(spec({ name: 'app', registry_config: 'cfg.json' }), cwd)
    expect(result.hashInput).toBe("{'name': 'app', 'platform': 'linux/amd64'}")
    expect(result.tag).toBe('uuP22yTxSx0eQ_IcFON1DA')
    expect(result.idHashInput).toBe(
      "{'name': 'app', 'platform': 'linux/amd64', 'registry_config': 'cfg.json'}",
    )
    expect(result.id).toBe('xS1h-6auKqOsQ5Nc-JuXxg')
  })

  test("falsy values are hashed as given: requirements '', tag_format '', copy []", async () => {
    const cwd = await dirs.make()
    const result = await computeTag(spec({ requirements: '', tag_format: '', copy: [] }), cwd)
    expect(result.hashInput).toBe(
      "{'name': 'flytekit', 'requirements': '', 'platform': 'linux/amd64', 'tag_format': '', 'copy': []}",
    )
    expect(result.tag).toBe('Lu6J2azIKv3C76zoBM4_xA')
  })

  test('YAML types reach the hash: a float version, None and ints inside env', async () => {
    const cwd = await dirs.make()
    const env = new PyDict([
      ['A', null],
      ['B', 1n],
      ['C', true],
    ])
    const result = await computeTag(spec({ python_version: 3.1, env }), cwd)
    expect(result.hashInput).toBe(
      "{'name': 'flytekit', 'python_version': 3.1, 'env': {'A': None, 'B': 1, 'C': True}, 'platform': 'linux/amd64'}",
    )
    expect(result.tag).toBe('klEwYkIg6QJQbs8Of__ecg')
    expect(result.id).toBe('klEwYkIg6QJQbs8Of-_ecg')
  })

  test('an arm64 host with a localhost registry hashes linux/arm64', async () => {
    const cwd = await dirs.make()
    const result = await computeTag(spec({ name: 'app', registry: 'localhost:30000' }, 'arm64'), cwd)
    expect(result.hashInput).toBe("{'name': 'app', 'registry': 'localhost:30000', 'platform': 'linux/arm64'}")
    expect(result.image).toBe('localhost:30000/app:6coCPcbvUb_19Nt9Ez_ESA')
  })

  test('tag_format uses Python format specs', async () => {
    const cwd = await dirs.make()
    const result = await computeTag(spec({ tag_format: '{spec_hash:.8}-x' }), cwd)
    expect(result.hashInput).toBe(
      "{'name': 'flytekit', 'platform': 'linux/amd64', 'tag_format': '{spec_hash:.8}-x'}",
    )
    expect(result.tag).toBe('YIksUKJk-x')
    expect(result.image).toBe('flytekit:YIksUKJk-x')
  })

  test('computeSpecId matches the id computeTag reports', async () => {
    const cwd = await dirs.make()
    const s = spec({ name: 'app', registry_config: 'cfg.json' })
    expect(computeSpecId(s)).toEqual({
      id: 'xS1h-6auKqOsQ5Nc-JuXxg',
      hashInput: "{'name': 'app', 'platform': 'linux/amd64', 'registry_config': 'cfg.json'}",
    })
    expect((await computeTag(s, cwd)).id).toBe(computeSpecId(s).id)
  })
})

describe('what cannot be hashed is a SpecError on the field', () => {
  test('LOADED_MODULES asks for ALL or NO_COPY', async () => {
    const cwd = await dirs.make()
    await mkdir(path.join(cwd, 'src'))
    const e = await tagError(spec({ source_root: 'src' }), cwd)
    expect(e.issues).toEqual([
      {
        path: 'source_copy_mode',
        message: expect.stringMatching(/LOADED_MODULES.*source_copy_mode: ALL.*source_copy_mode: NO_COPY/s),
      },
    ])
  })

  test('a copy mode without source_root', async () => {
    const e = await tagError(spec({ source_copy_mode: 'ALL' }), await dirs.make())
    expect(e.issues[0]?.path).toBe('source_root')
  })

  test('a source_root that is not a directory', async () => {
    const e = await tagError(spec({ source_root: 'nope', source_copy_mode: 'ALL' }), await dirs.make())
    expect(e.issues).toEqual([{ path: 'source_root', message: expect.stringMatching(/'nope' not found/) }])
  })

  test('a missing requirements file is named relative to the working directory', async () => {
    const cwd = await dirs.make()
    const e = await tagError(spec({ requirements: './deps/../deps/req.txt' }), cwd)
    expect(e.issues).toEqual([
      { path: 'requirements', message: expect.stringMatching(/'deps\/req\.txt' not found/) },
    ])
  })

  test('a requirements path that is a directory', async () => {
    const cwd = await dirs.make()
    await mkdir(path.join(cwd, 'deps'))
    const e = await tagError(spec({ requirements: 'deps' }), cwd)
    expect(e.issues[0]?.message).toMatch(/is a directory/)
  })

  test('a tag_format Python rejects', async () => {
    const e = await tagError(spec({ tag_format: '{spec_hash}-{branch}' }), await dirs.make())
    expect(e.issues).toEqual([
      {
        path: 'tag_format',
        message: expect.stringMatching(/unknown replacement field \{branch\}.*\{spec_hash\}/),
      },
    ])
  })

  test("a nested base spec's problem is reported under base_image", async () => {
    const cwd = await dirs.make()
    const base = new PyDict([['requirements', 'missing.txt']])
    const e = await tagError(spec({ base_image: base }), cwd)
    expect(e.issues[0]?.path).toBe('base_image.requirements')
  })
})

describe('files are read relative to the working directory', () => {
  test('requirements and copy resolve against cwd, not the process directory', async () => {
    const cwd = await dirs.make()
    await writeFile(path.join(cwd, 'requirements.txt'), 'pandas==2.2.2\nnumpy>=1.26\n')
    const result = await computeTag(spec({ requirements: 'requirements.txt' }), cwd)
    // The same value as the requirements_txt golden vector.
    expect(result.tag).toBe('qG85kNeJqpk_GYik_GbC_w')
  })
})
