/**
 * The self-check's plumbing, with a stand-in `flytekit` package on PYTHONPATH: the real python3 runs the real
 * self_check.py, which imports the stand-in instead of flytekit. The stand-in records the fields it was given
 * (so their Python types can be checked) and names images the way it is told to: flytekit's way, computed by
 * the stand-in with Python's own hashing, or deliberately differently (the mismatch path).
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { ActionError } from '../../src/errors.js'
import { MemoryLogger } from '../../src/log.js'
import { planImages } from '../../src/plan/plan-images.js'
import { selfCheck } from '../../src/python/self-check.js'
import { rejectionOf } from '../support/rejection.js'
import { yamlPlanOptions } from '../support/plan-options.js'
import { TempDirs } from '../support/temp-dirs.js'

const STAND_IN = `
import base64, hashlib, json, os

FIELDS = ['name', 'python_version', 'builder', 'source_root', 'env', 'registry', 'packages', 'conda_packages',
          'conda_channels', 'requirements', 'apt_packages', 'cuda', 'cudnn', 'base_image', 'platform', 'pip_index',
          'pip_extra_index_url', 'pip_secret_mounts', 'pip_extra_args', 'registry_config', 'entrypoint', 'commands',
          'tag_format', 'source_copy_mode', 'copy', 'python_exec', 'runtime_packages', 'builder_options',
          'builder_config']
__version__ = '0.0.0-stand-in'

class ImageSpec:
    def __init__(self, **kw):
        if os.environ.get('STAND_IN') == 'raise':
            raise ValueError('the stand-in refuses')
        self.kw = kw
        with open(os.environ['STAND_IN_LOG'], 'a') as f:
            f.write(json.dumps({k: repr(v) if not isinstance(v, ImageSpec) else 'ImageSpec' for k, v in kw.items()}) + '\\n')

    def image_name(self):
        d = {k: self.kw[k] for k in FIELDS if self.kw.get(k) is not None}
        if isinstance(d.get('base_image'), ImageSpec):
            d['base_image'] = d['base_image'].image_name()
        tag = base64.urlsafe_b64encode(hashlib.md5(str(d).encode()).digest()).decode().rstrip('=').replace('-', '_')
        if os.environ.get('STAND_IN') == 'differ':
            tag = 'deliberately-different'
        reg = self.kw.get('registry')
        return (reg + '/' if reg else '') + self.kw['name'] + ':' + tag
`

const dirs = new TempDirs()
let cwd: string
let standIn: string
let log: string
const saved = { ...process.env }

beforeEach(async () => {
  cwd = await dirs.make('imagespec-selfcheck-')
  standIn = await dirs.make('imagespec-standin-')
  log = path.join(standIn, 'calls.jsonl')
  await mkdir(path.join(standIn, 'flytekit', 'image_spec'), { recursive: true })
  await writeFile(path.join(standIn, 'flytekit', '__init__.py'), STAND_IN)
  await writeFile(
    path.join(standIn, 'flytekit', 'image_spec', '__init__.py'),
    'from flytekit import ImageSpec\n',
  )
  await writeFile(
    path.join(standIn, 'flytekit', 'constants.py'),
    'import enum\nclass CopyFileDetection(enum.Enum):\n    LOADED_MODULES = 1\n    ALL = 2\n    NO_COPY = 3\n',
  )
  process.env.PYTHONPATH = standIn
  process.env.STAND_IN_LOG = log
})
afterEach(async () => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
  Object.assign(process.env, saved)
  await dirs.removeAll()
})

async function plan(yaml: string) {
  await writeFile(path.join(cwd, 'imagespec.yaml'), yaml)
  return planImages(yamlPlanOptions(cwd, ['imagespec.yaml']))
}

const SPEC = 'name: app\nregistry: ghcr.io/acme\n'

describe('selfCheck', () => {
  test('flytekit naming every image the same: passes and says so', async () => {
    const logger = new MemoryLogger()
    await selfCheck(await plan(SPEC), { mode: 'auto', python: 'python3', cwd, workDir: standIn, logger })
    expect(logger.lines).toContain('info: flytekit 0.0.0-stand-in computes the same 1 image names')
  })

  test('a different name fails the step with both names, before anything is built', async () => {
    process.env.STAND_IN = 'differ'
    const err = await rejectionOf(
      selfCheck(await plan(SPEC), {
        mode: 'auto',
        python: 'python3',
        cwd,
        workDir: standIn,
        logger: new MemoryLogger(),
      }),
    )
    expect(err).toBeInstanceOf(ActionError)
    const message = (err as Error).message
    expect(message).toContain(
      'imagespec.yaml:1: flytekit 0.0.0-stand-in: ghcr.io/acme/app:deliberately-different',
    )
    expect(message).toMatch(/this step: +ghcr\.io\/acme\/app:[A-Za-z0-9_]{22}\n/)
    expect(message).toContain('set self-check: false to build anyway')
  })

  test('flytekit raising for a spec is a difference too', async () => {
    process.env.STAND_IN = 'raise'
    const err = await rejectionOf(
      selfCheck(await plan(SPEC), {
        mode: 'auto',
        python: 'python3',
        cwd,
        workDir: standIn,
        logger: new MemoryLogger(),
      }),
    )
    expect((err as Error).message).toContain('an error: ValueError: the stand-in refuses')
  })

  test('the fields reach flytekit as the same Python values: ints, floats, dicts, nested ImageSpec, enum', async () => {
    const yaml = `name: app
python_version: '3.11'
env: {N: 3, S: "x", F: 0.5, B: true}
source_root: .
source_copy_mode: NO_COPY
base_image:
  name: base
  packages: [numpy]
`
    // The stand-in's hashing is not flytekit's (it leaves source_root as it is): only what it was given matters.
    await rejectionOf(
      selfCheck(await plan(yaml), {
        mode: 'auto',
        python: 'python3',
        cwd,
        workDir: standIn,
        logger: new MemoryLogger(),
      }),
    )
    const calls = (await readFile(log, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>)
    const top = calls.find((c) => c.name === "'app'")
    expect(top).toMatchObject({
      python_version: "'3.11'",
      env: "{'N': 3, 'S': 'x', 'F': 0.5, 'B': True}",
      base_image: 'ImageSpec',
      // A YAML file gives the copy mode as a plain string, and flytekit hashes it so.
      source_copy_mode: "'NO_COPY'",
      platform: "'linux/amd64'",
    })
  })

  test('flytekit missing: auto skips with a note, true fails naming the fix', async () => {
    process.env.PYTHONPATH = cwd // no flytekit there
    const logger = new MemoryLogger()
    await selfCheck(await plan(SPEC), { mode: 'auto', python: 'python3', cwd, workDir: standIn, logger })
    expect(logger.lines.join('\n')).toMatch(/Self-check skipped: flytekit cannot be imported/)
    const err = await rejectionOf(
      selfCheck(await plan(SPEC), { mode: 'true', python: 'python3', cwd, workDir: standIn, logger }),
    )
    expect((err as Error).message).toMatch(
      /Input 'self-check' is true, but python3 cannot run it: .*pip install flytekit/,
    )
  })

  test('a python that does not exist: auto skips, true fails', async () => {
    const logger = new MemoryLogger()
    await selfCheck(await plan(SPEC), {
      mode: 'auto',
      python: 'no-such-python-3',
      cwd,
      workDir: standIn,
      logger,
    })
    expect(logger.lines.join('\n')).toMatch(/Self-check skipped: 'no-such-python-3' was not found/)
  })
})
