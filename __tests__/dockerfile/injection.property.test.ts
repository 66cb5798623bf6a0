import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, test } from '@jest/globals'
import { DockerfileParser, type Instruction } from 'dockerfile-ast'
import fc from 'fast-check'
import { generateDockerfile, type DockerfileOptions } from '../../src/dockerfile/generate.js'
import { splitShellWords } from '../../src/dockerfile/shellwords.js'
import { SpecError } from '../../src/errors.js'
import { PyDict } from '../../src/pyvalues/values.js'
import type { ImageSpec } from '../../src/spec/model.js'
import { shellWords } from './shell.js'

/*
 * No input can add a Dockerfile instruction. Every string field gets random text full of what breaks
 * Dockerfiles (line breaks, quotes, backslashes, `$`, heredoc markers, parser directives, U+2028, NUL, lone
 * surrogates). Each time, either generation fails with a SpecError naming that field, or the Dockerfile, parsed
 * back by dockerfile-ast (an independent parser), has the same instructions as for a benign value and the value
 * comes back out of its position unchanged: ENV values through the parser, RUN words through sh, JSON through
 * JSON.parse.
 */

const NASTY = [
  '\n',
  '\r',
  '\r\n',
  '"',
  "'",
  '\\',
  '$',
  '${x}',
  '$(id)',
  '`id`',
  '<<EOF',
  '<<-EOF',
  '\nEOF\n',
  '<$x<EOF',
  '# escape=`',
  '#syntax=docker/dockerfile:1',
  '\u2028',
  '\u2029',
  '\u0085',
  '\0',
  ' ',
  '\t',
  '\nRUN id',
  '\nFROM x',
  '--mount=type=bind,source=/,target=/h',
  ',',
  '=',
  '&&',
  ';',
  '[',
  '*',
  '{',
  'é',
  '😀',
  '\ud800',
  '\\\n',
  ' \\',
  'WORKDIR /root',
  '-',
  '/',
  'a',
]
const nastyText = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
      fc.string({ unit: 'binary', maxLength: 4 }),
      fc.string({ maxLength: 6 }),
    ),
    {
      maxLength: 8,
    },
  )
  .map((parts) => parts.join(''))

const OPTS: DockerfileOptions = {
  installer: 'uv',
  flytekitRequirement: 'flytekit',
  specId: 'id',
  defaultPythonVersion: '3.11',
}
const base = (fields: Partial<ImageSpec>): ImageSpec => ({ name: 'app', platform: 'linux/amd64', ...fields })

function parse(text: string): Instruction[] {
  const dockerfile = DockerfileParser.parse(text)
  expect(dockerfile.getDirectives()).toEqual([])
  expect(dockerfile.getComments()).toEqual([])
  return dockerfile.getInstructions()
}

const keywords = (text: string): string[] => parse(text).map((i) => i.getKeyword())

/** Output that is printable text, one instruction per physical line. */
function expectOneLinePerInstruction(text: string): void {
  expect(text.endsWith('\n')).toBe(true)
  const lines = text.slice(0, -1).split('\n')
  expect(lines).toHaveLength(parse(text).length)
  for (const line of lines) {
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    expect(line).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]|\p{Cs}/u)
  }
}

const args = (i: Instruction | undefined): string => i?.getArgumentsContent() ?? ''
const find = (text: string, keyword: string, contains = ''): Instruction | undefined =>
  parse(text).find((i) => i.getKeyword() === keyword && args(i).includes(contains))

/** The text between `start` (its first occurrence) and `end` (its last): a quoted value may contain either. */
function between(text: string, start: string, end: string): string {
  const from = text.indexOf(start)
  const to = text.lastIndexOf(end)
  expect(from).toBeGreaterThanOrEqual(0)
  expect(to).toBeGreaterThanOrEqual(from + start.length)
  return text.slice(from + start.length, to)
}

interface FieldCase {
  /** The SpecError path (or its prefix) that names this field. */
  field: string
  spec: (v: string) => ImageSpec
  opts?: Partial<DockerfileOptions>
  /** Skips values that mean "unset" for the field (then the Dockerfile legitimately has other instructions). */
  applies?: (v: string) => boolean
  /** Checks that `v` reached its position in `dockerfile` unchanged. */
  roundTrip: (dockerfile: string, v: string) => void
}

const envProperty = (text: string, name: string): string | undefined => {
  const env = parse(text).find((i) => i.getKeyword() === 'ENV' && args(i).includes('PYTHONPATH='))
  expect(env).toBeDefined()
  // Only PATH (in the fixed part) may be a variable: a user value never expands.
  expect(env?.getVariables().map((v) => v.getName())).toEqual(['PATH'])
  const property = (env as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] })
    .getProperties()
    .find((p) => p.getName() === name)
  // dockerfile-ast unescapes \" and \\ but leaves \$ (BuildKit's lexer makes it $).
  return property?.getValue()?.replace(/\\\$/g, '$')
}

const installWords = (text: string, tail: string): string[] =>
  shellWords(between(args(find(text, 'RUN', ' pip install ')), ' pip install ', tail))

const CASES: FieldCase[] = [
  {
    field: 'env.V',
    spec: (v) => base({ env: new PyDict([['V', v]]) }),
    roundTrip: (text, v) => expect(envProperty(text, 'V')).toBe(v),
  },
  {
    field: 'env.',
    spec: (v) => base({ env: new PyDict([[v, 'x']]) }),
    roundTrip: (text, v) => expect(envProperty(text, v)).toBe('x'),
  },
  {
    field: 'apt_packages[0]',
    spec: (v) => base({ apt_packages: [v, 'curl'] }),
    roundTrip: (text, v) => {
      const run = args(find(text, 'RUN', 'apt-get'))
      expect(shellWords(between(run, '--no-install-recommends ', ' && cp -a /var/cache/apt/lists/'))).toEqual(
        [v, 'curl'],
      )
    },
  },
  ...(['conda_channels', 'conda_packages', 'python_version'] as const).map((field): FieldCase => ({
    field,
    spec: (v) => base({ [field]: field === 'python_version' ? v : [v] }),
    applies: (v) => v !== '',
    roundTrip: (text, v) => {
      const run = args(find(text, 'RUN', 'micromamba create'))
      const both = between(run, '( micromamba create ', ' ) && chown -R flytekit /opt/micromamba')
      const createArgs = both.slice(0, (both.length - ' || micromamba install '.length) / 2)
      expect(both).toBe(`${createArgs} || micromamba install ${createArgs}`)
      const expected = {
        conda_channels: ['-c', v, 'python=3.11'],
        conda_packages: ['python=3.11', v],
        python_version: [`python=${v}`],
      }[field]
      expect(shellWords(createArgs)).toEqual([
        '-n',
        'runtime',
        '--root-prefix',
        '/opt/micromamba',
        '-c',
        'conda-forge',
        ...expected,
      ])
    },
  })),
  {
    field: 'pip_index',
    spec: (v) => base({ pip_index: v }),
    applies: (v) => v !== '',
    roundTrip: (text, v) =>
      expect(installWords(text, '')).toEqual(['--index-url', v, '--requirement', 'requirements_uv.txt']),
  },
  {
    field: 'pip_extra_index_url[0]',
    spec: (v) => base({ pip_extra_index_url: [v] }),
    roundTrip: (text, v) =>
      expect(installWords(text, '')).toEqual([
        '--extra-index-url',
        v,
        '--requirement',
        'requirements_uv.txt',
      ]),
  },
  {
    field: 'pip_extra_args',
    spec: (v) => base({ pip_extra_args: v }),
    applies: (v) => v !== '',
    roundTrip: (text, v) => {
      const split = splitShellWords(v)
      expect('words' in split && [...split.words, '--requirement', 'requirements_uv.txt']).toEqual(
        installWords(text, ''),
      )
    },
  },
  {
    field: 'pip_extra_args',
    spec: (v) => base({ pip_extra_args: v }),
    opts: { installer: 'pip' },
    applies: (v) => v !== '',
    roundTrip: (text, v) => {
      const split = splitShellWords(v)
      const words = installWords(text, ' && chown -R flytekit /root/.venv')
      expect(words).toEqual([
        '--disable-pip-version-check',
        ...('words' in split ? split.words : []),
        '--requirement',
        'requirements_uv.txt',
      ])
    },
  },
  {
    field: 'python_exec',
    spec: (v) => base({ python_exec: v }),
    applies: (v) => v !== '',
    roundTrip: (text, v) => {
      const run = args(find(text, 'RUN', 'uv venv'))
      expect(
        shellWords(
          between(
            run,
            'uv venv --python ',
            ' --system-site-packages /root/.venv && uv pip install --python ',
          ),
        ),
      ).toEqual([v])
    },
  },
  {
    field: 'python_exec',
    spec: (v) => base({ python_exec: v }),
    opts: { installer: 'pip' },
    applies: (v) => v !== '',
    roundTrip: (text, v) => {
      const run = args(find(text, 'RUN', ' -m venv '))
      expect(
        shellWords(
          run.slice(0, run.lastIndexOf(' -m venv --system-site-packages --without-pip /root/.venv && ')),
        ),
      ).toEqual([v])
    },
  },
  {
    field: 'pip_secret_mounts[0][1]',
    spec: (v) => base({ pip_secret_mounts: [['src', v]] }),
    roundTrip: (text, v) => {
      const run = find(text, 'RUN', 'uv pip install') as unknown as {
        getFlags(): { getValue(): string | null }[]
      }
      expect(run.getFlags().map((f) => f.getValue())).toContain(`type=secret,id=secret_0,target=${v}`)
    },
  },
  {
    field: 'commands[0]',
    spec: (v) => base({ commands: [v] }),
    applies: (v) => v.trim() !== '',
    roundTrip: (text, v) => {
      // The commands RUN comes right before the final profile RUN.
      const runs = parse(text).filter((i) => i.getKeyword() === 'RUN')
      const run = args(runs[runs.length - 2])
      const encoded =
        /^__imagespec_cmd=\$\(printf '%b' ('(?:[^']|'\\'')*')\) && eval "\$__imagespec_cmd"$/s.exec(run)
      if (encoded === null) {
        expect(run).toBe(v.replace(/^[ \t]+|[ \t]+$/g, ''))
      } else {
        const printed = execFileSync('sh', ['-c', `printf '%b' ${encoded[1] as string}`], { stdio: 'pipe' })
        expect(printed.toString('utf8')).toBe(v)
      }
    },
  },
  {
    field: 'entrypoint[0]',
    spec: (v) => base({ entrypoint: [v, 'x'] }),
    roundTrip: (text, v) => expect(JSON.parse(args(find(text, 'ENTRYPOINT')))).toEqual([v, 'x']),
  },
  {
    field: 'copy[0]',
    spec: (v) => base({ copy: [v] }),
    roundTrip: (text, v) => {
      const copy = find(text, 'COPY') as Instruction
      expect(copy.getVariables()).toEqual([])
      const rel = path.posix.normalize(v).replace(/\/$/, '')
      const inRoot = rel === '.' ? '' : `/${rel}`
      expect(JSON.parse(args(copy))).toEqual([`copy${inRoot}`, `/root${inRoot}`])
    },
  },
  {
    field: 'base_image',
    spec: (v) => base({ base_image: v }),
    applies: (v) => v !== '',
    roundTrip: (text, v) => {
      const from = parse(text).filter((i) => i.getKeyword() === 'FROM')[2]
      expect(from?.getVariables()).toEqual([])
      expect(args(from)).toBe(v)
    },
  },
  {
    field: 'builder_config.uv_image',
    spec: (v) => base({ builder_config: new PyDict([['uv_image', v]]) }),
    roundTrip: (text, v) => expect(args(find(text, 'FROM'))).toBe(`${v} AS uv`),
  },
]

/** Values each field can take without trouble: the instruction sequence every other value must keep. */
const BENIGN = 'x1'

describe.each(CASES.map((c, i) => [`${c.field} (${c.opts?.installer ?? 'uv'}) #${i}`, c] as const))(
  '%s',
  (_name, c) => {
    const opts = { ...OPTS, ...c.opts }
    const expectedKeywords = keywords(generateDockerfile(c.spec(BENIGN), opts))

    test('either a SpecError naming the field, or the same instructions with the value intact', () => {
      fc.assert(
        fc.property(nastyText, (v) => {
          fc.pre(c.applies?.(v) ?? true)
          let text: string
          try {
            text = generateDockerfile(c.spec(v), opts)
          } catch (err) {
            expect(err).toBeInstanceOf(SpecError)
            expect((err as SpecError).issues.some((i) => i.path.startsWith(c.field))).toBe(true)
            return
          }
          expectOneLinePerInstruction(text)
          expect(keywords(text)).toEqual(expectedKeywords)
          c.roundTrip(text, v)
        }),
        { numRuns: 100 },
      )
    })
  },
)

describe('the default Python version', () => {
  test('is checked like python_version', () => {
    fc.assert(
      fc.property(nastyText, (v) => {
        fc.pre(v !== '')
        try {
          const text = generateDockerfile(base({}), { ...OPTS, defaultPythonVersion: v })
          expect(keywords(text)).toEqual(keywords(generateDockerfile(base({}), OPTS)))
        } catch (err) {
          expect((err as SpecError).issues.map((i) => i.path)).toEqual(['python_version'])
        }
      }),
      { numRuns: 100 },
    )
  })
})
