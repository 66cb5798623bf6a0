/**
 * What is really wrong with a spec, said with the field, its file:line and how to fix it: the file itself (a
 * folder, UTF-16, not UTF-8, several documents), hostile YAML (alias bombs, deep nesting), unknown keys (all of
 * them), look-alike and invisible characters, env values flytekit would write but no one means, index URLs and
 * platforms. Every expected message and line is written by hand from the input.
 */
import { afterAll, describe, expect, test } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { generateDockerfile } from '../../src/dockerfile/generate.js'
import { SpecError } from '../../src/errors.js'
import { PyDict } from '../../src/pyvalues/values.js'
import { resolveSpec, type ResolvedSpec } from '../../src/spec/resolve.js'

const SPEC = 'imagespec.yaml'
const scratch = mkdtempSync(path.join(os.tmpdir(), 'spec-diag-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

function project(files: Record<string, string | Buffer | null>): string {
  const dir = mkdtempSync(path.join(scratch, 'p-'))
  for (const [name, body] of Object.entries(files)) {
    const full = path.join(dir, name)
    if (body === null) mkdirSync(full, { recursive: true })
    else {
      mkdirSync(path.dirname(full), { recursive: true })
      writeFileSync(full, body)
    }
  }
  return dir
}

function resolve(files: Record<string, string | Buffer | null>, inline: Record<string, string> = {}) {
  return resolveSpec({ specFile: SPEC, inline, cwd: project(files), hostArch: 'x64' })
}

/** Each problem as `location|path|message`. */
function problems(
  files: Record<string, string | Buffer | null>,
  inline: Record<string, string> = {},
): string[] {
  try {
    resolve(files, inline)
  } catch (err) {
    if (err instanceof SpecError) return err.issues.map((i) => `${i.location ?? ''}|${i.path}|${i.message}`)
    throw err
  }
  throw new Error('expected a SpecError')
}

/** The Dockerfile check's problems, located as the plan's preflight locates them. */
function dockerfileProblems(resolved: ResolvedSpec): string[] {
  try {
    generateDockerfile(resolved.spec, {
      installer: 'uv',
      flytekitRequirement: 'flytekit',
      specId: 'id',
      defaultPythonVersion: '3.12',
    })
  } catch (err) {
    if (err instanceof SpecError) {
      return err.issues.map((i) => `${resolved.locate(i.path) ?? ''}|${i.path}|${i.message}`)
    }
    throw err
  }
  return []
}

function envLine(resolved: ResolvedSpec): string {
  const text = generateDockerfile(resolved.spec, {
    installer: 'uv',
    flytekitRequirement: 'flytekit',
    specId: 'id',
    defaultPythonVersion: '3.12',
  })
  return text.split('\n').find((l) => l.includes(' PYTHONPATH=/root')) ?? ''
}

const utf16 = (text: string, bom: boolean, bigEndian = false): Buffer => {
  const le = Buffer.from(text, 'utf16le')
  const body = bigEndian ? Buffer.from(le).swap16() : le
  const mark = bigEndian ? [0xfe, 0xff] : [0xff, 0xfe]
  return bom ? Buffer.concat([Buffer.from(mark), body]) : body
}

describe('the spec file itself', () => {
  test.each<[string, Record<string, string | Buffer | null>, RegExp]>([
    [
      'a folder',
      { [SPEC]: null },
      /^imagespec\.yaml\|spec\|'imagespec\.yaml' is a folder, not a spec file; name a YAML file in it/,
    ],
    [
      'UTF-16 with a byte order mark',
      { [SPEC]: utf16('name: app\n', true) },
      /^imagespec\.yaml\|spec\|'imagespec\.yaml' is UTF-16 \(little-endian, with a byte order mark\); save it as UTF-8$/,
    ],
    [
      'UTF-16 big-endian with a byte order mark',
      { [SPEC]: utf16('name: app\n', true, true) },
      /\|'imagespec\.yaml' is UTF-16 \(big-endian, with a byte order mark\); save it as UTF-8$/,
    ],
    [
      'UTF-16 without a byte order mark (every other byte NUL)',
      { [SPEC]: utf16('name: app\n', false) },
      /\|'imagespec\.yaml' is UTF-16 \(little-endian\); save it as UTF-8$/,
    ],
    [
      'Latin-1 text',
      { [SPEC]: Buffer.from('name: app\nenv:\n  CITY: Z\xfcrich\n', 'latin1') },
      /^imagespec\.yaml:3\|spec\|'imagespec\.yaml' is not UTF-8 \(byte 0xFC on this line; .*\); save it as UTF-8$/,
    ],
    [
      'two documents',
      { [SPEC]: 'name: app\npackages: [a]\n---\nname: other\n' },
      /^imagespec\.yaml:3\|spec\|the file holds more than one YAML document \(a '---' on line 3 starts a second one\); .*keep one ImageSpec per file/,
    ],
    [
      'two documents, the first with its own ---, a comment between',
      { [SPEC]: '---\nname: app\n...\n# next\n---\nname: other\n' },
      /^imagespec\.yaml:5\|spec\|the file holds more than one YAML document \(a '---' on line 5/,
    ],
    [
      'an empty second document',
      { [SPEC]: 'name: app\n---\n' },
      /^imagespec\.yaml:2\|spec\|the file holds more than one YAML document/,
    ],
  ])('%s', (_name, files, expected) => {
    const found = problems(files)
    expect(found).toHaveLength(1)
    expect(found[0]).toMatch(expected)
  })

  test('one document with explicit start and end markers is fine (as for PyYAML)', () => {
    expect(resolve({ [SPEC]: '--- \nname: app\n...\n# trailing comment\n' }).spec.name).toBe('app')
  })

  test('a UTF-8 byte order mark is skipped (as PyYAML skips it)', () => {
    expect(resolve({ [SPEC]: '\ufeffname: app\n' }).spec.name).toBe('app')
  })
})

describe('hostile YAML fails fast, naming file:line', () => {
  const laughs = (levels: number, fanout: number): string => {
    const lines = [`a0: &a0 [${Array(fanout).fill('lol').join(', ')}]`]
    for (let i = 1; i <= levels; i++)
      lines.push(
        `a${i}: &a${i} [${Array(fanout)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      )
    return `${lines.join('\n')}\n`
  }

  test.each<[string, string, RegExp]>([
    [
      // Lines 2-4 repeat 9 * 10 + 9 * 91 + 9 * 820 = 8289 nodes; line 5's first alias would add 1 + 9 * 820.
      'nine levels of nine aliases each',
      laughs(9, 9),
      /^imagespec\.yaml:5\|a4\[0\]\|the alias \*a3 repeats 7381 nodes, which takes this file past 10000 nodes repeated through aliases; .*use fewer aliases/,
    ],
    [
      '5,000 nested brackets',
      `name: app\npackages: ${'['.repeat(5000)}${']'.repeat(5000)}\n`,
      /^imagespec\.yaml:2\|spec\|lists and mappings are nested more than 200 levels deep here; .*remove the extra nesting/,
    ],
    [
      '300 nested block mappings',
      `${Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} x\n`,
      // The mapping on line 200 is the 200th level; line 201 opens the 201st.
      /^imagespec\.yaml:201\|spec\|lists and mappings are nested more than 200 levels deep/,
    ],
    [
      'nesting that passes the limit only through an alias',
      `a: &deep ${'['.repeat(150)}${']'.repeat(150)}\nb: ${'['.repeat(60)}*deep${']'.repeat(60)}\n`,
      /^imagespec\.yaml:2\|b\[0\].*…\|through the alias \*deep, lists and mappings are nested more than 200 levels deep/,
    ],
    [
      'a mapping that merges itself',
      'builder_options: &a {x: 1, <<: *a}\n',
      /^imagespec\.yaml:1\|builder_options\.<<\|an alias refers to a node that contains it; recursive structures are not supported/,
    ],
  ])('%s', (_name, text, expected) => {
    const found = problems({ [SPEC]: text })
    expect(found).toHaveLength(1)
    expect(found[0]).toMatch(expected)
  })

  test('200 levels load, 201 do not', () => {
    // The file's mapping is level 1 and builder_options' mapping level 2.
    const nested = (brackets: number) =>
      `builder_options: {x: ${'['.repeat(brackets)}${']'.repeat(brackets)}}\n`
    expect(() => resolve({ [SPEC]: nested(198) })).not.toThrow()
    expect(problems({ [SPEC]: nested(199) })).toEqual([
      expect.stringMatching(
        /^imagespec\.yaml:1\|spec\|lists and mappings are nested more than 200 levels deep/,
      ),
    ])
  })

  test('aliases repeating fewer than 10,000 nodes load', () => {
    // 9 * 10 + 9 * 91 + 9 * 820 = 8289 nodes repeated.
    const doc = `builder_options:\n${laughs(3, 9)
      .trim()
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n')}\n`
    expect(resolve({ [SPEC]: doc }).spec.builder_options?.size).toBe(4)
  })
})

describe('unknown keys: every one, with what it most likely meant', () => {
  test('three unknown keys are three problems, each on its line', () => {
    const found = problems({ [SPEC]: 'name: app\npakages: [a]\nPython-Version: "3.11"\nfoo: 1\n' })
    expect(found).toEqual([
      'imagespec.yaml:2|pakages|unknown field; did you mean packages?',
      'imagespec.yaml:3|Python-Version|unknown field; did you mean python_version?',
      expect.stringMatching(
        /^imagespec\.yaml:4\|foo\|unknown field; valid ImageSpec fields are name, python_version, /,
      ),
    ])
  })

  test('a key with a Cyrillic letter names the letter', () => {
    expect(problems({ [SPEC]: 'n\u0430me: app\n' })).toEqual([
      "imagespec.yaml:1|n\u0430me|unknown field: 'n\u0430me' has U+0430 CYRILLIC SMALL LETTER A at position 2; did you mean name?",
    ])
  })

  test('a key with a zero-width space shows it escaped', () => {
    expect(problems({ [SPEC]: 'name: app\nregistry\u200b: ghcr.io/org\n' })).toEqual([
      "imagespec.yaml:2|registry\u200b|unknown field: 'registry\\u200b' has U+200B ZERO WIDTH SPACE at position 9; did you mean registry?",
    ])
  })

  test('unknown keys of a nested base spec too', () => {
    const found = problems({ [SPEC]: 'base_image:\n  name: base\n  pacakges: [x]\n  envv: {}\nname: app\n' })
    expect(found).toEqual([
      'imagespec.yaml:3|base_image.pacakges|unknown field; did you mean packages?',
      'imagespec.yaml:4|base_image.envv|unknown field; did you mean env?',
    ])
  })
})

describe('look-alike and invisible characters', () => {
  test.each<[string, string, string]>([
    [
      'a Cyrillic letter in a package name (the issue example)',
      'packages: [pandas, "num\u0440y"]\n',
      "imagespec.yaml:1|packages[1]|'num\u0440y' has U+0440 CYRILLIC SMALL LETTER ER at position 4; package names are ASCII, so a character that only looks like a letter (or is not seen at all) is a mistake: retype it",
    ],
    [
      'a Cyrillic letter in the image name',
      'name: my-\u0430pp\n',
      "imagespec.yaml:1|name|'my-\u0430pp' has U+0430 CYRILLIC SMALL LETTER A at position 4; image names are ASCII, so a character that only looks like a letter (or is not seen at all) is a mistake: retype it",
    ],
    [
      'a Cyrillic letter in the registry',
      'name: app\nregistry: ghcr.io/\u043erg\n',
      "imagespec.yaml:2|registry|'ghcr.io/\u043erg' has U+043E CYRILLIC SMALL LETTER O at position 9; registry hosts and paths are ASCII, so a character that only looks like a letter (or is not seen at all) is a mistake: retype it",
    ],
    [
      'a Greek letter in base_image',
      'base_image: debian:b\u03bfokworm\n',
      "imagespec.yaml:1|base_image|'debian:b\u03bfokworm' has U+03BF GREEK SMALL LETTER OMICRON at position 9; image references are ASCII, so a character that only looks like a letter (or is not seen at all) is a mistake: retype it",
    ],
    [
      'a fullwidth letter and an en dash in apt packages',
      'apt_packages:\n  - git\n  - "lib\uff53sl\u2013dev"\n',
      "imagespec.yaml:3|apt_packages[1]|'lib\uff53sl\u2013dev' has U+FF53 FULLWIDTH LATIN SMALL LETTER S at position 4 and U+2013 EN DASH at position 7; Debian package names are ASCII, so a character that only looks like a letter (or is not seen at all) is a mistake: retype it",
    ],
    [
      'a zero-width space in a package',
      'packages:\n  - "pandas\u200b>=2"\n',
      "imagespec.yaml:2|packages[0]|'pandas\\u200b>=2' has U+200B ZERO WIDTH SPACE at position 7; package names are ASCII, so a character that only looks like a letter (or is not seen at all) is a mistake: retype it",
    ],
    [
      'a look-alike in the host of a package URL, its token hidden',
      'packages: ["pkg @ https://user:s3cret@g\u0456thub.com/o/pkg.whl"]\n',
      "imagespec.yaml:1|packages[0]|'pkg @ https://***@g\u0456thub.com/o/pkg.whl' has U+0456 CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I at position 20; URL hosts are ASCII, so a character that only looks like a letter (or is not seen at all) is a mistake: retype it",
    ],
    [
      'a look-alike in a conda package',
      'conda_packages: ["\u0455cipy"]\n',
      "imagespec.yaml:1|conda_packages[0]|'\u0455cipy' has U+0455 CYRILLIC SMALL LETTER DZE at position 1; conda package names are ASCII, so a character that only looks like a letter (or is not seen at all) is a mistake: retype it",
    ],
  ])('%s', (_name, text, expected) => {
    expect(problems({ [SPEC]: text })).toEqual([expected])
  })

  test('non-ASCII in a path or a URL path of a package is not a look-alike', () => {
    const { spec, warnings } = resolve({
      [SPEC]: 'packages: ["./libs/caf\u00e9", "pkg @ https://example.com/\u00e9t\u00e9/pkg.whl"]\n',
    })
    expect(spec.packages).toEqual(['./libs/caf\u00e9', 'pkg @ https://example.com/\u00e9t\u00e9/pkg.whl'])
    expect(warnings).toEqual([])
  })

  test('in free text only invisible characters warn, with file:line, and the value is kept', () => {
    const { spec, warnings } = resolve({
      [SPEC]: [
        'name: app',
        'env:',
        '  GREETING: "gr\u00fc\u00df dich"',
        '  NOTE: "a\u202eb"',
        'commands:',
        '  - echo ok',
        '  - "echo \u2066x\u2069"',
        '',
      ].join('\n'),
    })
    expect(spec.env?.get('NOTE')).toBe('a\u202eb')
    expect(warnings).toEqual([
      "imagespec.yaml:4: env.NOTE 'a\\u202eb' has U+202E RIGHT-TO-LEFT OVERRIDE at position 2, an invisible character that makes the text show differently from what it is; flytekit keeps (and hashes) it as written, so remove it unless it is meant",
      "imagespec.yaml:7: commands[1] 'echo \\u2066x\\u2069' has U+2066 LEFT-TO-RIGHT ISOLATE at position 6 and U+2069 POP DIRECTIONAL ISOLATE at position 8, an invisible character that makes the text show differently from what it is; flytekit keeps (and hashes) it as written, so remove it unless it is meant",
    ])
  })
})

describe('env values flytekit would write but no one means: warnings, the value (and tag) kept', () => {
  test('an int key, a null and a mapping value', () => {
    const resolved = resolve({ [SPEC]: 'name: app\nenv:\n  10: ten\n  EMPTY:\n  CONF: {a: 1}\n  OK: "1"\n' })
    // The spec holds what flytekit hashes: the int key 10, None, a dict.
    expect(resolved.spec.env).toEqual(
      new PyDict([
        [10n, 'ten'],
        ['EMPTY', null],
        ['CONF', new PyDict([['a', 1n]])],
        ['OK', '1'],
      ]),
    )
    expect(resolved.warnings).toEqual([
      "imagespec.yaml:3: env[10] has the key 10, which YAML reads as an int, not a string: flytekit names the variable '10' (and hashes the int), a name no shell can expand; quote the key if a string was meant",
      'imagespec.yaml:4: env.EMPTY is null (nothing after the colon, ~ or null in YAML), which flytekit writes as the text None: the image gets \'EMPTY=None\'; write EMPTY: "" for an empty value, or remove the variable',
      'imagespec.yaml:5: env.CONF is a mapping, which flytekit writes as its Python repr: the image gets "CONF={\'a\': 1}"; quote the value if that text is meant',
    ])
    expect(envLine(resolved)).toMatch(/ PYTHONPATH=\/root 10=ten EMPTY=None CONF="\{'a': 1\}" OK=1$/)
  })

  test('a boolean key is named as flytekit names it', () => {
    const resolved = resolve({ [SPEC]: 'env:\n  on: 1\n' })
    expect(resolved.warnings).toEqual([
      "imagespec.yaml:2: env has the key True, which YAML reads as a bool, not a string: flytekit names the variable 'True' (and hashes the bool); quote the key if a string was meant",
    ])
    expect(envLine(resolved)).toMatch(/ True=1$/)
  })

  test('names Docker keeps but POSIX shells cannot expand are written as they are', () => {
    const resolved = resolve({ [SPEC]: 'env:\n  "10": a\n  my.var: b\n  A-B: c\n' })
    expect(dockerfileProblems(resolved)).toEqual([])
    expect(envLine(resolved)).toMatch(/ 10=a my\.var=b A-B=c$/)
  })

  test.each<[string, string, string]>([
    [
      'a line break',
      'env:\n  A: "x\\ny"\n',
      'imagespec.yaml:2|env.A|contains U+000A LINE FEED at position 2, a line break, which no Dockerfile ENV value can hold (BuildKit reads the file line by line and has no escape for it); remove it, or set the variable when the container starts',
    ],
    [
      'U+2028',
      'env:\n  A: "x\\Ly"\n',
      'imagespec.yaml:2|env.A|contains U+2028 LINE SEPARATOR at position 2, which a Dockerfile ENV value could only hold as the raw character: Docker has no escape for it, and the generated Dockerfile holds printable text only (it is printed in the build log, and editors and Dockerfile tools may take such a character for a line break); remove it, or set the variable when the container starts',
    ],
    [
      'U+0001',
      'env:\n  A: "\\x01"\n',
      'imagespec.yaml:2|env.A|contains U+0001 (a control character) at position 1, which a Dockerfile ENV value could only hold as the raw character: Docker has no escape for it, and the generated Dockerfile holds printable text only (it is printed in the build log, and editors and Dockerfile tools may take such a character for a line break); remove it, or set the variable when the container starts',
    ],
    [
      'NUL',
      'env:\n  A: "a\\0"\n',
      'imagespec.yaml:2|env.A|contains U+0000 NULL at position 2; no environment variable can hold NUL (it ends a C string); remove it',
    ],
    [
      'a name with a space',
      'env:\n  A B: x\n',
      'imagespec.yaml:2|env.A B|is not a valid environment variable name for a Dockerfile ENV line (it holds U+0020 SPACE at position 2, which BuildKit would split, quote or expand there); use letters, digits and _ (after the first character also . - : @ % + , /)',
    ],
    [
      'a name with a zero-width space',
      'env:\n  "A\\u200b": x\n',
      'imagespec.yaml:2|env.A\u200b|is not a valid environment variable name for a Dockerfile ENV line (it holds U+200B ZERO WIDTH SPACE at position 2, and names are written in ASCII only); use letters, digits and _ (after the first character also . - : @ % + , /)',
    ],
    [
      'a name starting with -',
      'env:\n  -X: x\n',
      'imagespec.yaml:2|env.-X|is not a valid environment variable name for a Dockerfile ENV line (it holds U+002D HYPHEN-MINUS at position 1, which cannot start a name); use letters, digits and _ (after the first character also . - : @ % + , /)',
    ],
  ])('a value the Dockerfile cannot carry stays an error that says why: %s', (_name, text, expected) => {
    expect(dockerfileProblems(resolve({ [SPEC]: text }))).toEqual([expected])
  })
})

describe('index URLs and platforms are checked before any push', () => {
  test.each<[string, string, string]>([
    [
      'a pip_index without a scheme',
      'pip_index: pypi.example.com/simple\n',
      "imagespec.yaml:1|pip_index|'pypi.example.com/simple' is not a URL: start it with https://, http:// or file:// (e.g. https://pypi.example.com/simple)",
    ],
    [
      'a pip_index over ftp',
      'pip_index: ftp://mirror.example.com/simple\n',
      "imagespec.yaml:1|pip_index|'ftp://mirror.example.com/simple' uses ftp:, but pip reads a package index only over http:// or https://, or from file://; e.g. https://pypi.example.com/simple",
    ],
    [
      'an https pip_index without a host',
      'pip_index: https:///simple\n',
      "imagespec.yaml:1|pip_index|'https:///simple' has no host; write it as https://<host>/<path>, e.g. https://pypi.example.com/simple",
    ],
    [
      'a pip_index that YAML reads as a number',
      'pip_index: 8080\n',
      'imagespec.yaml:1|pip_index|must be a URL, not 8080; quote it',
    ],
    [
      'an extra index with a blank, its password hidden',
      'pip_extra_index_url:\n  - https://pypi.org/simple\n  - "https://me:pw@x.example.com/my index"\n',
      "imagespec.yaml:3|pip_extra_index_url[1]|'https://***@x.example.com/my index' has a blank; a URL has none (write a space as %20)",
    ],
    [
      'an extra index with a look-alike host',
      'pip_extra_index_url: ["https://pyp\u0456.org/simple"]\n',
      "imagespec.yaml:1|pip_extra_index_url[0]|'https://pyp\u0456.org/simple' has U+0456 CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I at position 12; hosts are ASCII, so a character that only looks like a letter (or is not seen at all) is a mistake: retype it",
    ],
    [
      'an empty platform item',
      'platform: "linux/amd64,,linux/arm64"\n',
      'imagespec.yaml:1|platform|has an empty item (a leading, trailing or doubled comma); e.g. linux/amd64 or linux/amd64,linux/arm64',
    ],
    [
      'a Windows platform',
      'platform: windows/amd64\n',
      "imagespec.yaml:1|platform|'windows/amd64' is not a Linux platform; flytekit's builders build Linux images: use linux/amd64",
    ],
    [
      'a platform listed twice',
      'platform: linux/amd64,linux/arm64,linux/amd64\n',
      "imagespec.yaml:1|platform|lists 'linux/amd64' twice; remove one",
    ],
    [
      'a platform without an architecture',
      'platform: linux\n',
      "imagespec.yaml:1|platform|'linux' is not os/arch[/variant]; e.g. linux/amd64 or linux/amd64,linux/arm64, linux/arm/v7",
    ],
    [
      'a blank after the comma',
      'platform: "linux/amd64, linux/arm64"\n',
      "imagespec.yaml:1|platform|' linux/arm64' has a blank; write the platforms without spaces, e.g. linux/amd64 or linux/amd64,linux/arm64",
    ],
  ])('%s', (_name, text, expected) => {
    expect(problems({ [SPEC]: text })).toEqual([expected])
  })

  test('a bad platform from the input is located at the input', () => {
    expect(problems({ [SPEC]: 'name: app\n' }, { platform: 'linux/amd64,' })).toEqual([
      "input 'platform'|platform|has an empty item (a leading, trailing or doubled comma); e.g. linux/amd64 or linux/amd64,linux/arm64",
    ])
  })

  test('good URLs and platforms pass; an empty pip_index is skipped, as flytekit skips it', () => {
    const { spec } = resolve({
      [SPEC]: [
        'pip_index: ""',
        'pip_extra_index_url: ["https://user:tok@pypi.example.com/simple", "http://localhost:8080/simple", "file:///wheels"]',
        'platform: linux/amd64,linux/arm64,linux/arm/v7',
        '',
      ].join('\n'),
    })
    expect(spec.platform).toBe('linux/amd64,linux/arm64,linux/arm/v7')
    expect(spec.pip_extra_index_url).toHaveLength(3)
  })
})
