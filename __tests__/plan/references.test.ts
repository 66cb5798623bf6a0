/**
 * Every image reference is checked before any registry is contacted, as docker and the registry will read it:
 * a 300-character name, port 99999 or a tag_format that puts ':' in the tag are spec problems, reported with
 * the field and its file:line together with every other problem of every spec, never blamed on the registry or
 * the network later. Expected messages are written by hand; tags by Python.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { SpecError, type SpecIssue } from '../../src/errors.js'
import { planImages, type PlanOptions } from '../../src/plan/plan-images.js'
import { parseRegistry } from '../../src/registry/hosts.js'
import { InvalidReferenceError, parseReference } from '../../src/registry/reference.js'
import { py, pythonTag } from '../support/flytekit-tag.js'
import { yamlPlanOptions } from '../support/plan-options.js'
import { rejectionOf } from '../support/rejection.js'
import { TempDirs } from '../support/temp-dirs.js'

const dirs = new TempDirs()
let cwd: string
beforeEach(async () => {
  cwd = await dirs.make('imagespec-references-')
})
afterEach(() => dirs.removeAll())

async function write(files: Record<string, string>): Promise<void> {
  for (const [rel, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(cwd, rel)), { recursive: true })
    await writeFile(path.join(cwd, rel), body)
  }
}

/** The issues planning the files reports (it must fail), and the whole message. */
async function issuesOf(
  files: Record<string, string>,
  extra: Partial<PlanOptions> = {},
): Promise<{ issues: SpecIssue[]; message: string }> {
  await write(files)
  const err = await rejectionOf(planImages(yamlPlanOptions(cwd, Object.keys(files), extra)))
  expect(err).toBeInstanceOf(SpecError)
  return { issues: (err as SpecError).issues, message: err.message }
}

const CREDENTIALS =
  "holds a user name or password ('user:password@host'): a registry is host[:port][/path] and is printed in " +
  "logs, outputs and image names. Remove them: log in with the 'username' and 'password' inputs (from " +
  'secrets), or with a docker/login-action step before this one'

const TAG_RULE =
  "A tag is letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-': keep {spec_hash} and " +
  "join the rest with '-', '_' or '.', e.g. '{spec_hash}-dev'"

const HASH = /[A-Za-z0-9_]{22}/.source

const PORT = (port: string, registry: string) =>
  `'${registry}': port ${port} is out of range: a port is 1 to 65535`

const TOO_LONG = (shown: string, length: number) =>
  `the image name '${shown}…' has ${length} characters; a repository name including the registry host may have ` +
  'at most 255. Shorten the name (or the registry path)'

/** [what, spec files, issues as (location, path, message or pattern)] */
type Row = [string, Record<string, string>, [string, string, string | RegExp][]]

const LONG = 'a'.repeat(300)

const rows: Row[] = [
  [
    'a 300-character name',
    { 'app.yaml': `registry: r.example\nname: ${LONG}\n` },
    [['app.yaml:2', 'name', TOO_LONG(`r.example/${'a'.repeat(50)}`, 310)]],
  ],
  [
    'a name one character over 255 with the registry',
    { 'app.yaml': `name: ${'b'.repeat(246)}\nregistry: r.example\n` },
    [['app.yaml:1', 'name', TOO_LONG(`r.example/${'b'.repeat(50)}`, 256)]],
  ],
  [
    'a long registry path and a short name, over 255 together',
    { 'app.yaml': `name: app\nregistry: r.example/${'team/'.repeat(49)}x\n` },
    [['app.yaml:1', 'name', TOO_LONG(`r.example/${'team/'.repeat(10)}`, 260)]],
  ],
  [
    'port 99999',
    { 'app.yaml': 'name: app\nregistry: r.example:99999/team\n' },
    [['app.yaml:2', 'registry', PORT('99999', 'r.example:99999/team')]],
  ],
  [
    'port 0',
    { 'app.yaml': 'name: app\nregistry: localhost:0\n' },
    [['app.yaml:2', 'registry', PORT('0', 'localhost:0')]],
  ],
  [
    'port 65536',
    { 'app.yaml': 'name: app\nregistry: 10.0.0.1:65536\n' },
    [['app.yaml:2', 'registry', PORT('65536', '10.0.0.1:65536')]],
  ],
  [
    'a DNS label of 64 characters in the registry',
    { 'app.yaml': `name: app\nregistry: ${'h'.repeat(64)}.example.com\n` },
    [
      [
        'app.yaml:2',
        'registry',
        `'${'h'.repeat(64)}.example.com': the host part '${'h'.repeat(20)}…' has 64 characters; DNS allows at most 63 between dots`,
      ],
    ],
  ],
  [
    "a tag_format that makes '/'",
    { 'app.yaml': "name: app\nregistry: r.example\ntag_format: '{spec_hash}/dev'\n" },
    [
      [
        'app.yaml:3',
        'tag_format',
        new RegExp(
          `^"\\{spec_hash\\}/dev" gives the tag '${HASH}/dev', which has "/", which a tag cannot hold\\. ${esc(TAG_RULE)}$`,
        ),
      ],
    ],
  ],
  [
    "a tag_format that makes ':'",
    { 'app.yaml': "name: app\nregistry: r.example\ntag_format: 'v1:{spec_hash}'\n" },
    [
      [
        'app.yaml:3',
        'tag_format',
        new RegExp(`^"v1:\\{spec_hash\\}" gives the tag 'v1:${HASH}', which has ":", which`),
      ],
    ],
  ],
  [
    "a tag_format that makes ':' and '/'",
    { 'app.yaml': "name: app\nregistry: r.example\ntag_format: 'a/b:{spec_hash}'\n" },
    [
      [
        'app.yaml:3',
        'tag_format',
        new RegExp(`gives the tag 'a/b:${HASH}', which has "/", ":", which a tag cannot hold`),
      ],
    ],
  ],
  [
    'a tag_format that makes a space',
    { 'app.yaml': "name: app\nregistry: r.example\ntag_format: '{spec_hash} dev'\n" },
    [
      [
        'app.yaml:3',
        'tag_format',
        new RegExp(`gives the tag '${HASH} dev', which has " ", which a tag cannot hold`),
      ],
    ],
  ],
  [
    'a tag_format that makes a tag of 142 characters',
    { 'app.yaml': `name: app\nregistry: r.example\ntag_format: '{spec_hash}${'x'.repeat(120)}'\n` },
    [
      [
        'app.yaml:3',
        'tag_format',
        new RegExp(
          `gives the tag '${HASH}${'x'.repeat(120)}', which has 142 characters \\(at most 128\\)\\.`,
        ),
      ],
    ],
  ],
  [
    "a tag_format that starts the tag with '.'",
    { 'app.yaml': "name: app\nregistry: r.example\ntag_format: '.{spec_hash}'\n" },
    [['app.yaml:3', 'tag_format', new RegExp(`gives the tag '\\.${HASH}', which starts with '\\.'\\.`)]],
  ],
  [
    "a tag_format that starts the tag with '-'",
    { 'app.yaml': "name: app\nregistry: r.example\ntag_format: '-{spec_hash}'\n" },
    [['app.yaml:3', 'tag_format', new RegExp(`gives the tag '-${HASH}', which starts with '-'\\.`)]],
  ],
  [
    'a tag_format with non-ASCII letters',
    { 'app.yaml': "name: app\nregistry: r.example\ntag_format: '{spec_hash}-é'\n" },
    [
      [
        'app.yaml:3',
        'tag_format',
        new RegExp(`gives the tag '${HASH}-é', which has "é", which a tag cannot hold`),
      ],
    ],
  ],
  [
    'an empty tag from a tag_format that drops the hash',
    { 'app.yaml': "name: app\nregistry: r.example\ntag_format: '{spec_hash:.0}'\n" },
    [['app.yaml:3', 'tag_format', `"{spec_hash:.0}" gives the tag '', which is empty. ${TAG_RULE}`]],
  ],
  [
    "a nested base's tag_format, located at the base's line",
    {
      'app.yaml':
        "name: app\nregistry: r.example\nbase_image:\n  name: base\n  registry: r.example\n  tag_format: 'base:{spec_hash}'\n",
    },
    [
      [
        'app.yaml:6',
        'tag_format',
        new RegExp(`^"base:\\{spec_hash\\}" gives the tag 'base:${HASH}', which has ":"`),
      ],
    ],
  ],
  [
    "a nested base's port",
    {
      'app.yaml': 'name: app\nregistry: r.example\nbase_image:\n  name: base\n  registry: r.example:123456\n',
    },
    [['app.yaml:5', 'base_image.registry', /r\.example:123456/]],
  ],
  [
    'credentials in the registry',
    { 'app.yaml': 'name: app\nregistry: ci-bot:S3cretPassXY@r.example/team\n' },
    [['app.yaml:2', 'registry', CREDENTIALS]],
  ],
  [
    'credentials in an https:// registry',
    { 'app.yaml': 'name: app\nregistry: https://ci-bot:Tok3nABCdef@r.example/team\n' },
    [['app.yaml:2', 'registry', CREDENTIALS]],
  ],
  [
    "credentials in a nested base's registry",
    {
      'app.yaml':
        'name: app\nregistry: r.example\nbase_image:\n  name: base\n  registry: u:Pw9876xyz@r.example\n',
    },
    [['app.yaml:5', 'base_image.registry', CREDENTIALS]],
  ],
]

function esc(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

describe('image references are checked before any network call', () => {
  test.each(rows)('%s', async (_what, files, expected) => {
    const { issues, message } = await issuesOf(files)
    expect(issues.map((i) => [i.location, i.path])).toEqual(expected.map(([location, p]) => [location, p]))
    for (const [i, [, , text]] of expected.entries()) {
      if (typeof text === 'string') expect(issues[i]?.message).toBe(text)
      else expect(issues[i]?.message).toMatch(text)
    }
    // Never a credential, as written or lower-cased, anywhere in the error.
    expect(message).not.toMatch(
      /S3cretPassXY|s3cretpassxy|Tok3nABCdef|tok3nabcdef|Pw9876xyz|pw9876xyz|ci-bot/,
    )
  })

  test('the tag shown is the one flytekit computes (by Python)', async () => {
    const spec = `{'name': 'app', 'registry': 'r.example', 'platform': 'linux/amd64', 'tag_format': ${py('{spec_hash}:dev')}}`
    const hash = pythonTag(spec)
    const { issues } = await issuesOf({
      'app.yaml': "name: app\nregistry: r.example\ntag_format: '{spec_hash}:dev'\n",
    })
    expect(issues[0]?.message).toContain(`gives the tag '${hash}:dev'`)
  })

  test('an inline tag-format input is named as the input', async () => {
    await write({})
    const err = await rejectionOf(
      planImages(
        yamlPlanOptions(cwd, [], {
          inline: { name: 'app', registry: 'r.example', 'tag-format': 'x/{spec_hash}' },
        }),
      ),
    )
    expect((err as SpecError).issues).toEqual([
      expect.objectContaining({ location: "input 'tag-format'", path: 'tag_format' }),
    ])
    expect(err.message).toMatch(
      new RegExp(`input 'tag-format': tag_format: "x/\\{spec_hash\\}" gives the tag 'x/${HASH}'`),
    )
  })

  test('a registry from the registries input that makes the name too long is put on the name', async () => {
    const registry = `r.example/${'p'.repeat(250)}`
    const { issues } = await issuesOf({ 'app.yaml': 'name: app\n' }, { registries: [registry] })
    expect(issues).toEqual([
      { location: 'app.yaml:1', path: 'name', message: TOO_LONG(registry.slice(0, 60), 264) },
    ])
  })

  test('the problems of every spec are reported together, each with its file and line', async () => {
    const { issues, message } = await issuesOf({
      'a.yaml': 'name: a\nregistry: r.example:99999\n',
      'b.yaml': `registry: r.example\nname: ${LONG}\n`,
      'c.yaml': "name: c\nregistry: r.example\ntag_format: '{spec_hash}/c'\n",
      'd.yaml': 'name: d\nregistry: ok:Pass5555word@r.example\n',
      'e.yaml': 'name: e\nregistry: r.example\napt_packages: 7\n',
    })
    expect(issues.map((i) => `${i.location} ${i.path}`).sort()).toEqual([
      'a.yaml:2 registry',
      'b.yaml:2 name',
      'c.yaml:3 tag_format',
      'd.yaml:2 registry',
      'e.yaml:3 apt_packages',
    ])
    expect(message).toMatch(/^The ImageSpecs have 5 problems:/)
    expect(message).not.toMatch(/Pass5555word|pass5555word/)
  })

  test('references at the limits are accepted', async () => {
    await write({
      'a.yaml': `name: ${'c'.repeat(245)}\nregistry: r.example\n`,
      'b.yaml': 'name: b\nregistry: localhost:65535/team\n',
      'c.yaml': `name: c\nregistry: r.example\ntag_format: '{spec_hash}${'y'.repeat(106)}'\n`,
      'd.yaml': `name: d\nregistry: ${'h'.repeat(63)}.example.com\ntag_format: 'release-1.2_x'\n`,
    })
    const plan = await planImages(yamlPlanOptions(cwd, ['a.yaml', 'b.yaml', 'c.yaml', 'd.yaml']))
    expect(plan.nodes.map((n) => n.tagged.image.length > 0)).toEqual([true, true, true, true])
    expect(plan.nodes[0]?.tagged.image.split(':')[0]).toHaveLength(255)
    expect(plan.nodes[2]?.tagged.tag).toHaveLength(128)
  })
})

describe('the parser at the edge uses the same grammar', () => {
  test.each([
    ['port 99999', 'r.example:99999/app:v1', 'port 99999 is out of range: a port is 1 to 65535'],
    ['port 0', 'r.example:0/app', 'port 0 is out of range: a port is 1 to 65535'],
    [
      'a name of 256 characters',
      `r.example/${'a'.repeat(246)}:v1`,
      'the repository name has 256 characters, more than the 255 a registry accepts',
    ],
  ])('parseReference refuses %s', (_what, reference, reason) => {
    expect(() => parseReference(reference)).toThrow(reason)
  })

  test.each([
    ['ci-bot:S3cretPassXY@r.example/team/app:v1', "Invalid image reference '***@r.example/team/app:v1'"],
    [
      'ci-bot:S3cretPassXY@r.example/app@sha256:' + 'a'.repeat(64),
      "Invalid image reference '***@r.example/app@sha256:",
    ],
    ['https://ci-bot:S3cretPassXY@r.example/app', "Invalid image reference 'https://***@r.example/app'"],
  ])('a reference with credentials is refused without them: %#', (reference, shown) => {
    let message = ''
    try {
      parseReference(reference)
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidReferenceError)
      message = (e as Error).message
    }
    expect(message).toContain(shown)
    expect(message).toContain("log in with the 'username' and 'password' inputs or docker login instead")
    expect(message).not.toMatch(/S3cretPassXY|s3cretpassxy|ci-bot/)
  })

  test('a digest is not taken for credentials', () => {
    expect(parseReference(`r.example/app@sha256:${'b'.repeat(64)}`)).toEqual({
      registry: 'r.example',
      repository: 'app',
      digest: `sha256:${'b'.repeat(64)}`,
    })
  })

  test('the registry classifier refuses credentials without repeating them', () => {
    expect(() => parseRegistry('robot:Hunter2Hunter2@registry.example.com/team')).toThrow(
      `Input 'registry': ${CREDENTIALS}`,
    )
  })
})
