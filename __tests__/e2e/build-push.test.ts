/**
 * The bundled action against a real Docker engine, real buildx, real registries (Debian's distribution, one open
 * and one behind htpasswd) and a loopback package index, all brought up by scripts/e2e/up.sh. Expected tags come
 * from Python itself (its own repr and hashlib), never from our code.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { e2eEnv } from '../support/e2e-env.js'
import { registryDigest } from '../support/registry-digest.js'
import { runAction, runStep } from '../support/run-action.js'

const env = e2eEnv()
const REGISTRY = `${env.E2E_REGISTRY}/e2e-${Date.now().toString(36)}`
const workspace = mkdtempSync(path.join(os.tmpdir(), 'e2e-ws-'))

function write(rel: string, body: string): void {
  mkdirSync(path.dirname(path.join(workspace, rel)), { recursive: true })
  writeFileSync(path.join(workspace, rel), body)
}

const SPEC = `name: app
registry: ${REGISTRY}
base_image: ${env.E2E_BASE_IMAGE}
packages:
  - ispec-demo-a==1.0
requirements: requirements.txt
apt_packages: [jq]
pip_index: ${env.E2E_PIP_INDEX}
env:
  GREETING: hello world
  WORKERS: 4
commands:
  - echo built > /root/built.txt
copy:
  - data/hello.txt
entrypoint: ["/bin/sh", "-c"]
`

/** The tag flytekit computes, by Python: the spec as a literal dict, requirements and copy digests by hashlib. */
function pythonTag(requirementsBody: string): string {
  const script = `
import base64, hashlib
req = hashlib.sha1(${JSON.stringify(requirementsBody)}.encode().strip()).hexdigest()
copy = hashlib.md5(b"hi from copy\\n" + b"hello.txt").hexdigest()
d = {'name': 'app', 'env': {'GREETING': 'hello world', 'WORKERS': 4}, 'registry': ${JSON.stringify(REGISTRY)},
     'packages': ['ispec-demo-a==1.0'], 'requirements': req, 'apt_packages': ['jq'],
     'base_image': ${JSON.stringify(env.E2E_BASE_IMAGE)}, 'platform': 'linux/amd64',
     'pip_index': ${JSON.stringify(env.E2E_PIP_INDEX)}, 'entrypoint': ['/bin/sh', '-c'],
     'commands': ['echo built > /root/built.txt'], 'copy': copy}
print(base64.urlsafe_b64encode(hashlib.md5(str(d).encode()).digest()).decode().rstrip('=').replace('-', '_'))
`
  return execFileSync('python3', ['-c', script], { encoding: 'utf8' }).trim()
}

const BASE_INPUTS = { spec: 'imagespec.yaml', installer: 'pip', network: 'host' }

/** Runs a shell command in the image; images with the spec's ENTRYPOINT ["/bin/sh", "-c"] take it as is. */
function dockerRun(image: string, command: string, viaEntrypoint = true): string {
  const args = viaEntrypoint ? [command] : ['sh', '-c', command]
  const r = spawnSync('docker', ['run', '--rm', image, ...args], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`docker run failed: ${r.stderr}`)
  return r.stdout.trim()
}

beforeAll(() => {
  write('imagespec.yaml', SPEC)
  write('requirements.txt', 'ispec-demo-c==0.1\n')
  write('data/hello.txt', 'hi from copy\n')
})

afterAll(() => {
  spawnSync('docker', ['image', 'prune', '-f'])
})

describe('build and push to a real registry', () => {
  let first: Awaited<ReturnType<typeof runAction>>

  beforeAll(async () => {
    first = await runAction(BASE_INPUTS, { workspace })
  }, 300_000)

  test('pushes the image under the tag flytekit computes, with the registry digest as output', async () => {
    expect({
      exitCode: first.main.exitCode,
      log: first.main.exitCode === 0 ? '' : first.main.log.slice(-3000),
    }).toEqual({ exitCode: 0, log: '' })
    const tag = pythonTag('ispec-demo-c==0.1\n')
    expect(first.main.outputs.tag).toBe(tag)
    expect(first.main.outputs.image).toBe(`${REGISTRY}/app:${tag}`)
    expect(first.main.outputs.built).toBe('true')
    const digest = await registryDigest(first.main.outputs.image as string)
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect(first.main.outputs.digest).toBe(digest)
    expect(first.main.outputs['image-digest']).toBe(`${REGISTRY}/app@${digest}`)
    expect(JSON.parse(first.main.outputs.metadata as string)).toMatchObject({ built: true, digest })
    expect(first.main.summary).toContain(`\`${REGISTRY}/app:${tag}\``)
    expect(first.main.summary).toContain('built and pushed')
  })

  test("the image behaves like one from flytekit's builder", () => {
    const image = first.main.outputs.image as string
    const out = dockerRun(
      image,
      [
        'python -c "import ispec_demo_a, ispec_demo_c, ispec_demo_b, flytekit; print(ispec_demo_a.__version__, ispec_demo_c.__version__)"',
        'jq --version | cut -d- -f1',
        'echo "$GREETING|$WORKERS|$PYTHONPATH|$_F_IMG_ID"',
        'cat /root/built.txt /root/data/hello.txt',
        'id -un; pwd',
      ].join('; '),
    )
    const lines = out.split('\n')
    expect(lines[0]).toBe('1.0 0.1')
    expect(lines[1]).toBe('jq')
    expect(lines[2]).toBe(`hello world|4|/root|${first.main.outputs['spec-id']}`)
    expect(lines.slice(3, 5)).toEqual(['built', 'hi from copy'])
    expect(lines.slice(5)).toEqual(['flytekit', '/root'])
    const entrypoint = execFileSync('docker', ['inspect', '--format', '{{json .Config.Entrypoint}}', image], {
      encoding: 'utf8',
    })
    expect(JSON.parse(entrypoint)).toEqual(['/bin/sh', '-c'])
  })

  test('the spec-id is the id flytekit computes from the raw spec (paths, not digests)', () => {
    const script = `
import base64, hashlib
d = {'name': 'app', 'env': {'GREETING': 'hello world', 'WORKERS': 4}, 'registry': ${JSON.stringify(REGISTRY)},
     'packages': ['ispec-demo-a==1.0'], 'requirements': 'requirements.txt', 'apt_packages': ['jq'],
     'base_image': ${JSON.stringify(env.E2E_BASE_IMAGE)}, 'platform': 'linux/amd64',
     'pip_index': ${JSON.stringify(env.E2E_PIP_INDEX)}, 'entrypoint': ['/bin/sh', '-c'],
     'commands': ['echo built > /root/built.txt'], 'copy': ['data/hello.txt']}
print(base64.urlsafe_b64encode(hashlib.md5(str(d).encode()).digest()).decode().rstrip('='))
`
    expect(first.main.outputs['spec-id']).toBe(
      execFileSync('python3', ['-c', script], { encoding: 'utf8' }).trim(),
    )
  })

  test('a second run finds the image and builds nothing', async () => {
    const again = await runStep(BASE_INPUTS, { workspace })
    expect(again.exitCode).toBe(0)
    expect(again.outputs.built).toBe('false')
    expect(again.outputs.image).toBe(first.main.outputs.image)
    expect(again.outputs.digest).toBe(first.main.outputs.digest)
    expect(again.log).not.toContain('buildx build')
    expect(again.summary).toContain('reused')
  }, 60_000)

  test('force rebuilds and pushes the existing tag', async () => {
    const forced = await runStep({ ...BASE_INPUTS, force: 'true' }, { workspace })
    expect(forced.exitCode).toBe(0)
    expect(forced.outputs.built).toBe('true')
    expect(forced.outputs.image).toBe(first.main.outputs.image)
    expect(await registryDigest(forced.outputs.image as string)).toBe(forced.outputs.digest)
  }, 300_000)

  test('a changed requirement builds a new tag', async () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'e2e-ws2-'))
    execFileSync('cp', ['-r', `${workspace}/.`, ws])
    writeFileSync(path.join(ws, 'requirements.txt'), 'ispec-demo-c==0.1\nispec-demo-b==1.0\n')
    const changed = await runStep(BASE_INPUTS, { workspace: ws })
    expect(changed.exitCode).toBe(0)
    expect(changed.outputs.tag).toBe(pythonTag('ispec-demo-c==0.1\nispec-demo-b==1.0\n'))
    expect(changed.outputs.tag).not.toBe(first.main.outputs.tag)
    expect(changed.outputs.built).toBe('true')
    expect(await registryDigest(changed.outputs.image as string)).toBe(changed.outputs.digest)
  }, 300_000)
})

describe('a nested base ImageSpec', () => {
  test('is built and pushed first, then used as the base, each under its flytekit tag', async () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'e2e-nested-'))
    const registry = `${env.E2E_REGISTRY}/nested-${Date.now().toString(36)}`
    writeFileSync(
      path.join(ws, 'imagespec.yaml'),
      [
        'name: child',
        `registry: ${registry}`,
        `pip_index: ${env.E2E_PIP_INDEX}`,
        'packages: [ispec-demo-a==2.0]',
        'base_image:',
        '  name: parent',
        `  registry: ${registry}`,
        `  base_image: ${env.E2E_BASE_IMAGE}`,
        `  pip_index: ${env.E2E_PIP_INDEX}`,
        '  packages: [ispec-demo-b==1.0]',
        '',
      ].join('\n'),
    )
    const { main } = await runAction({ ...BASE_INPUTS, 'flytekit-version': 'none' }, { workspace: ws })
    expect({ exitCode: main.exitCode, log: main.exitCode === 0 ? '' : main.log.slice(-3000) }).toEqual({
      exitCode: 0,
      log: '',
    })
    // flytekit hashes the base as its image name: computed here by Python from the literal dicts.
    const script = `
import base64, hashlib
def tag(d): return base64.urlsafe_b64encode(hashlib.md5(str(d).encode()).digest()).decode().rstrip('=').replace('-', '_')
base = {'name': 'parent', 'registry': ${JSON.stringify(registry)}, 'packages': ['ispec-demo-b==1.0'], 'base_image': ${JSON.stringify(env.E2E_BASE_IMAGE)}, 'platform': 'linux/amd64', 'pip_index': ${JSON.stringify(env.E2E_PIP_INDEX)}}
base_image = ${JSON.stringify(registry)} + '/parent:' + tag(base)
child = {'name': 'child', 'registry': ${JSON.stringify(registry)}, 'packages': ['ispec-demo-a==2.0'], 'base_image': base_image, 'platform': 'linux/amd64', 'pip_index': ${JSON.stringify(env.E2E_PIP_INDEX)}}
print(base_image)
print(tag(child))
`
    const [baseImage, childTag] = execFileSync('python3', ['-c', script], { encoding: 'utf8' })
      .trim()
      .split('\n')
    expect(main.outputs.image).toBe(`${registry}/child:${childTag}`)
    expect(await registryDigest(baseImage as string)).toMatch(/^sha256:/)
    expect(
      dockerRun(
        main.outputs.image as string,
        'python -c "import ispec_demo_a, ispec_demo_b; print(ispec_demo_a.__version__, ispec_demo_b.__version__)"',
        false,
      ),
    ).toBe('2.0 1.0')
  }, 300_000)
})

describe('dry run and the spec-file output', () => {
  test('flytekit reading spec-file computes the tag the step output, inline inputs included; no Docker touched', async () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'e2e-dry-'))
    writeFileSync(
      path.join(ws, 'imagespec.yaml'),
      'name: Dry\npython_version: 3.9\nenv:\n  DEBUG: yes\n  N: 0755\n',
    )
    const inputs = {
      spec: 'imagespec.yaml',
      'dry-run': 'true',
      registry: 'GHCR.io/Org',
      packages: 'pandas==2.2.2\nyes',
      'python-version': '3.10',
      'tag-format': '{spec_hash}-dev',
    }
    const { main } = await runAction(inputs, {
      workspace: ws,
      env: { DOCKER_HOST: 'unix:///nonexistent.sock' },
    })
    expect(main.exitCode).toBe(0)
    expect(main.outputs.dockerfile).toMatch(/Dockerfile$/)
    // What `pyflyte register --image <spec-file>` does: PyYAML safe_load, ImageSpec(**d), the tag of its fields.
    const script = `
import base64, hashlib, sys, yaml
FIELDS = ['name','python_version','builder','source_root','env','registry','packages','conda_packages','conda_channels','requirements','apt_packages','cuda','cudnn','base_image','platform','pip_index','pip_extra_index_url','pip_secret_mounts','pip_extra_args','registry_config','entrypoint','commands','tag_format','source_copy_mode','copy','python_exec','runtime_packages','builder_options','builder_config']
d = yaml.safe_load(open(sys.argv[1]))
d['name'] = d['name'].lower(); d['registry'] = d['registry'].lower(); d.setdefault('platform', 'linux/amd64')
h = {k: d[k] for k in FIELDS if d.get(k) is not None and k not in ('builder', 'pip_secret_mounts', 'runtime_packages', 'registry_config')}
print(d['tag_format'].format(spec_hash=base64.urlsafe_b64encode(hashlib.md5(str(h).encode()).digest()).decode().rstrip('=').replace('-', '_')))
print(h)
`
    const [tag, hashed] = execFileSync(
      '/usr/bin/python3',
      ['-c', script, main.outputs['spec-file'] as string],
      {
        encoding: 'utf8',
      },
    )
      .trim()
      .split('\n')
    expect(hashed).toBe(
      "{'name': 'dry', 'python_version': '3.10', 'env': {'DEBUG': True, 'N': 493}, 'registry': 'ghcr.io/org', " +
        "'packages': ['pandas==2.2.2', 'yes'], 'platform': 'linux/amd64', 'tag_format': '{spec_hash}-dev'}",
    )
    expect(main.outputs.tag).toBe(tag)
    expect(main.outputs.image).toBe(`ghcr.io/org/dry:${tag}`)
  }, 60_000)
})

describe('the apt cache mount', () => {
  test('keeps downloaded packages: a later build installs them without downloading them again', async () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'e2e-apt-'))
    const stamp = Date.now().toString(36)
    const registry = `${env.E2E_REGISTRY}/apt-${stamp}`
    // A base image of this run only: earlier runs' layers can't stand in for the apt step, so apt really runs.
    const base = `${registry}/base:${stamp}`
    writeFileSync(path.join(ws, 'Dockerfile'), `FROM ${env.E2E_BASE_IMAGE}\nRUN echo ${stamp} > /run-stamp\n`)
    execFileSync('docker', ['buildx', 'build', '--quiet', '--push', '--provenance=false', '-t', base, ws])
    const inputs = (apt: string) => ({
      ...BASE_INPUTS,
      spec: '',
      name: 'apt',
      registry,
      'base-image': base,
      'apt-packages': apt,
      'flytekit-version': 'none',
    })
    const first = await runStep(inputs('jq'), { workspace: ws })
    expect(first.exitCode).toBe(0)
    // Another package list makes a new RUN step, so apt runs again; jq must come from the cache mount.
    const second = await runStep(inputs('jq\nfile'), { workspace: ws })
    expect({ exitCode: second.exitCode, log: second.exitCode === 0 ? '' : second.log.slice(-3000) }).toEqual({
      exitCode: 0,
      log: '',
    })
    expect(second.log).toMatch(/Unpacking jq /)
    expect(second.log).toMatch(/Unpacking file /)
    expect(second.log).not.toMatch(/Get:\d+ \S+ \S+ \S+ jq /)
  }, 300_000)
})

describe('one spec, several registries', () => {
  test('each registry gets the image under its own flytekit tag, and output images lists them', async () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'e2e-multi-'))
    const stamp = Date.now().toString(36)
    const registries = [`${env.E2E_REGISTRY}/east-${stamp}`, `${env.E2E_REGISTRY}/west-${stamp}`]
    writeFileSync(path.join(ws, 'imagespec.yaml'), 'name: multi\npackages: [ispec-demo-b==1.0]\n')
    const inputs = {
      ...BASE_INPUTS,
      registries: registries.join('\n'),
      'base-image': env.E2E_BASE_IMAGE as string,
      'pip-index': env.E2E_PIP_INDEX as string,
      'flytekit-version': 'none',
    }
    const { main } = await runAction(inputs, { workspace: ws })
    expect({ exitCode: main.exitCode, log: main.exitCode === 0 ? '' : main.log.slice(-3000) }).toEqual({
      exitCode: 0,
      log: '',
    })
    // flytekit hashes the registry, so each gets its own tag: computed by Python from the literal dicts.
    const script = `
import base64, hashlib, json, sys
for r in json.loads(sys.argv[1]):
    d = {'name': 'multi', 'registry': r, 'packages': ['ispec-demo-b==1.0'], 'base_image': ${JSON.stringify(env.E2E_BASE_IMAGE)}, 'platform': 'linux/amd64', 'pip_index': ${JSON.stringify(env.E2E_PIP_INDEX)}}
    print(r + '/multi:' + base64.urlsafe_b64encode(hashlib.md5(str(d).encode()).digest()).decode().rstrip('=').replace('-', '_'))
`
    const expected = execFileSync('python3', ['-c', script, JSON.stringify(registries)], { encoding: 'utf8' })
      .trim()
      .split('\n')
    const images = JSON.parse(main.outputs.images as string) as {
      registry: string
      image: string
      digest: string
      built: boolean
    }[]
    expect(images.map((i) => i.registry)).toEqual(registries)
    for (const [i, registry] of registries.entries()) {
      const entry = images.find((e) => e.registry === registry)
      expect(entry?.image).toBe(expected[i])
      expect(entry?.built).toBe(true)
      expect(await registryDigest(entry?.image as string)).toBe(entry?.digest)
    }
    expect(main.outputs.image).toBe(expected[0])
  }, 300_000)
})

describe('login and failure paths', () => {
  const authRegistry = `${env.E2E_AUTH_REGISTRY}/e2e-${Date.now().toString(36)}`
  const small = (registry: string) => ({
    ...BASE_INPUTS,
    spec: '',
    name: 'small',
    registry,
    'base-image': env.E2E_BASE_IMAGE as string,
    'pip-index': env.E2E_PIP_INDEX as string,
    packages: 'ispec-demo-b==1.0',
  })

  test('logs in with username and password, pushes, and the post step removes the credentials', async () => {
    const { main, post } = await runAction(
      {
        ...small(authRegistry),
        username: env.E2E_AUTH_USER as string,
        password: env.E2E_AUTH_PASSWORD as string,
      },
      { workspace },
    )
    expect(main.exitCode).toBe(0)
    expect(main.outputs.built).toBe('true')
    expect(main.log).toContain(`::add-mask::${env.E2E_AUTH_PASSWORD}`)
    expect(main.log.split(`::add-mask::${env.E2E_AUTH_PASSWORD}`).join('')).not.toContain(
      env.E2E_AUTH_PASSWORD as string,
    )
    const configDir = main.state['docker-config'] as string
    expect(configDir).toBeTruthy()
    expect(post.exitCode).toBe(0)
    expect(existsSync(configDir)).toBe(false)
    // Without credentials the registry refuses to say anything about the image.
    const anonymous = await fetch(`http://${env.E2E_AUTH_REGISTRY}/v2/`)
    expect(anonymous.status).toBe(401)
  }, 300_000)

  test('a wrong password fails clearly, names the inputs, leaks nothing and pushes nothing', async () => {
    const wrong = 'not-the-password-42'
    const registry = `${authRegistry}-wrong`
    const { main, post } = await runAction(
      { ...small(registry), username: env.E2E_AUTH_USER as string, password: wrong },
      { workspace },
    )
    expect(main.exitCode).not.toBe(0)
    expect(main.log).toMatch(/::error::.*(unauthorized|authentication|401).*'username' and 'password'/is)
    expect(main.log.split(`::add-mask::${wrong}`).join('')).not.toContain(wrong)
    expect(main.outputs.digest ?? '').toBe('')
    expect(post.exitCode).toBe(0)
  }, 120_000)

  test('an unreachable registry fails the step instead of counting as "exists"', async () => {
    const { main } = await runAction(small('127.0.0.1:5999/nowhere'), { workspace })
    expect(main.exitCode).not.toBe(0)
    expect(main.log).toMatch(/::error::.*127\.0\.0\.1:5999/)
    expect(main.log).toMatch(/never taken as "exists"|on-check-error/)
    expect(main.log).not.toContain('buildx build')
  }, 60_000)

  test('a missing requirements file fails before anything is built, naming the field', async () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'e2e-ws3-'))
    writeFileSync(
      path.join(ws, 'imagespec.yaml'),
      `name: broken\nregistry: ${REGISTRY}\nrequirements: nope.txt\n`,
    )
    const { main } = await runAction({ spec: 'imagespec.yaml' }, { workspace: ws })
    expect(main.exitCode).not.toBe(0)
    expect(main.log).toMatch(/::error::.*imagespec.yaml:3: requirements: file 'nope.txt' not found/)
    expect(main.log).not.toContain('buildx build')
  }, 60_000)

  test('values a Dockerfile cannot carry fail before any registry is contacted, all listed', async () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'e2e-ws4-'))
    writeFileSync(
      path.join(ws, 'imagespec.yaml'),
      'name: unsafe\nregistry: 127.0.0.1:5999/nowhere\nenv:\n  "BAD NAME": x\napt_packages: ["git\\nRUN rm -rf /"]\n',
    )
    const { main } = await runAction({ spec: 'imagespec.yaml' }, { workspace: ws })
    expect(main.exitCode).not.toBe(0)
    const error = main.log.split('\n').find((l) => l.startsWith('::error::')) ?? ''
    expect(error).toMatch(/env/)
    expect(error).toMatch(/apt_packages/)
    expect(main.log).not.toMatch(/127\.0\.0\.1:5999\/v2|Connect to/)
  }, 60_000)

  test('push: false builds into the local engine and pushes nothing', async () => {
    const registry = `${env.E2E_REGISTRY}/local-only-${Date.now().toString(36)}`
    const { main } = await runAction({ ...small(registry), push: 'false' }, { workspace })
    expect(main.exitCode).toBe(0)
    expect(main.outputs.built).toBe('true')
    expect(await registryDigest(main.outputs.image as string)).toBeNull()
    expect(
      dockerRun(
        main.outputs.image as string,
        'python -c "import ispec_demo_b; print(ispec_demo_b.__version__)"',
        false,
      ),
    ).toBe('1.0')
  }, 300_000)
})
