/**
 * Every input is checked before anything is built or pushed, and all problems are reported in one error. Each
 * row of the catalogue is one bad value: the error names the input (and the line of a list input), says how to
 * fix it, and never repeats a credential. Expected messages are written out by hand.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { InputError } from '../src/errors.js'
import { getInputs, InputProblems } from '../src/inputs.js'

const CREDENTIALS =
  "holds a user name or password ('user:password@host'): a registry is host[:port][/path] and is printed in " +
  "logs, outputs and image names. Remove them: log in with the 'username' and 'password' inputs (from " +
  'secrets), or with a docker/login-action step before this one'

const PROVENANCE_FIX =
  "use true, false, mode=min, mode=max or a list such as 'mode=max,version=v1,builder-id=https://…'"
const SBOM_FIX = "use true, false or 'generator=IMAGE'"
const SECRET_FIX = 'write id=NAME,src=FILE or id=NAME,env=VARIABLE'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'inputs-validation-'))
  writeFileSync(path.join(dir, 'netrc'), 'machine example.com login u password p\n')
  writeFileSync(path.join(dir, 'a,b.conf'), '[global]\n')
  mkdirSync(path.join(dir, 'folder'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const savedEnv = { ...process.env }
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k]
  Object.assign(process.env, savedEnv)
})

function setInputs(vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) process.env[`INPUT_${k.toUpperCase()}`] = v
}

/** getInputs' error and everything it wrote to stdout (where `::add-mask::` commands go). */
function failure(
  vars: Record<string, string>,
  env: Record<string, string> = {},
): { error: Error; stdout: string } {
  setInputs(vars)
  Object.assign(process.env, env)
  const written: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stdout.write
  let error: unknown
  try {
    getInputs()
  } catch (e) {
    error = e
  } finally {
    process.stdout.write = write
  }
  if (!(error instanceof Error)) throw new Error(`expected getInputs to fail for ${JSON.stringify(vars)}`)
  return { error, stdout: written.join('') }
}

/** [what, inputs, the whole message, credentials that must not appear in it] */
type Row = [string, Record<string, string>, string, string[]?]

const rows = (): Row[] => [
  // --- credentials in registry / registries ---------------------------------------------------------------
  [
    'registry: user:password@host:port',
    { registry: 'ci-user:Secret123@127.0.0.1:5000' },
    `Input 'registry': ${CREDENTIALS}`,
    ['ci-user', 'Secret123', 'secret123'],
  ],
  [
    'registry: https://user:token@host/path',
    { registry: 'https://deploy-bot:Tok3nValueXY@ghcr.io/my-org' },
    `Input 'registry': ${CREDENTIALS}`,
    ['deploy-bot', 'Tok3nValueXY', 'tok3nvaluexy'],
  ],
  [
    'registry: a lone token as the user',
    { registry: 'ghp_AbCdEf0123456789@ghcr.io/my-org' },
    `Input 'registry': ${CREDENTIALS}`,
    ['ghp_AbCdEf0123456789', 'ghp_abcdef0123456789'],
  ],
  [
    'registries: credentials on the second line',
    { registries: 'ghcr.io/my-org\nRobot$Acct:PassWord9!@registry.example.com/team' },
    `Input 'registries': line 2: ${CREDENTIALS}`,
    ['Robot$Acct', 'PassWord9!', 'password9!'],
  ],
  [
    'registries: https://user:password@host on the first line, blank lines counted',
    { registries: '\nhttps://someone:Pa55w0rdQ@quay.io/org\nghcr.io/my-org' },
    `Input 'registries': line 2: ${CREDENTIALS}`,
    ['someone', 'Pa55w0rdQ', 'pa55w0rdq'],
  ],
  // --- registries lines -------------------------------------------------------------------------------------
  [
    'registries: a host with a space on line 4 (comments and blank lines counted)',
    { registries: 'ghcr.io/a\n\n# the second region\nbad host' },
    "Input 'registries': line 4: 'bad host': the host 'bad host' is not a DNS name or IP address with an " +
      'optional :port, e.g. registry.example.com:5000',
  ],
  [
    'registries: port 99999',
    { registries: '127.0.0.1:5000/team\n127.0.0.1:99999/team' },
    "Input 'registries': line 2: '127.0.0.1:99999/team': port 99999 is out of range: a port is 1 to 65535",
  ],
  [
    'registries: port 0',
    { registries: 'localhost:0' },
    "Input 'registries': line 1: 'localhost:0': port 0 is out of range: a port is 1 to 65535",
  ],
  [
    'registries: a URL scheme',
    { registries: 'https://ghcr.io/my-org/' },
    "Input 'registries': line 1: 'https://ghcr.io/my-org/' starts with 'https://': a registry is " +
      "host[:port][/path] without a scheme; write 'ghcr.io/my-org'",
  ],
  [
    'registries: a trailing slash',
    { registries: 'ghcr.io/my-org/' },
    "Input 'registries': line 1: 'ghcr.io/my-org/' has an empty path part (a '//' or a trailing '/'); write " +
      'it as host/part/part without them',
  ],
  [
    'registries: a path part ending in a separator',
    { registries: 'ghcr.io/my_org_' },
    "Input 'registries': line 1: 'ghcr.io/my_org_': the path part 'my_org_' is not valid in an image name; " +
      'use lower-case letters, digits and single separators (. _ __ -)',
  ],
  [
    'registries: a DNS label of 64 characters',
    { registries: `${'a'.repeat(64)}.example.com/team` },
    `Input 'registries': line 1: '${'a'.repeat(64)}.example.com/team': the host part 'aaaaaaaaaaaaaaaaaaaa…' ` +
      'has 64 characters; DNS allows at most 63 between dots',
  ],
  [
    'registries: the same registry twice, differing in case',
    { registries: 'GHCR.io/My-Org\nquay.io/org\nghcr.io/my-org' },
    "Input 'registries': line 3 repeats line 1 ('ghcr.io/my-org'); each registry gets its image once, remove one",
  ],
  [
    'registry and registries together',
    { registry: 'ghcr.io/my-org', registries: 'quay.io/org' },
    "Input 'registry', 'registries': both are set, and 'registries' gives every image its registry, so " +
      "'registry' would be ignored. Keep one: add the registry as a line of 'registries', or remove " +
      "'registries' to build for 'registry' alone",
  ],
  [
    'registry: port 70000',
    { registry: 'localhost:70000' },
    "Input 'registry': 'localhost:70000': port 70000 is out of range: a port is 1 to 65535",
  ],
  [
    'registry: a backslash in the host',
    { registry: 'ghcr.io\\org' },
    "Input 'registry': 'ghcr.io\\org': the host 'ghcr.io\\org' is not a DNS name or IP address with an " +
      'optional :port, e.g. registry.example.com:5000',
  ],
  // --- username / password ----------------------------------------------------------------------------------
  [
    'username without password',
    { username: 'ci-user' },
    "Input 'username', 'password': 'username' is set but 'password' is empty: set both (password: " +
      "${{ secrets.REGISTRY_PASSWORD }}), or neither to use the runner's Docker logins (a docker/login-action " +
      'step before this one). A password from a secret is empty when the secret does not exist or is not given ' +
      'to this workflow',
  ],
  [
    'password without username, for a registry that needs a user',
    { password: 'Hunter2Hunter2', registry: 'registry.example.com/team' },
    "Input 'username', 'password': 'password' is set but 'username' is empty, and registry.example.com/team " +
      "needs both (only ghcr.io logs in as the workflow's actor without one): set the user name the registry " +
      'knows this password by',
    ['Hunter2Hunter2'],
  ],
  // --- provenance / sbom --------------------------------------------------------------------------------------
  [
    'provenance: yes (Go booleans only)',
    { provenance: 'yes' },
    `Input 'provenance': 'yes': 'yes' is neither true/false nor key=value; ${PROVENANCE_FIX}`,
  ],
  [
    'provenance: max without mode=',
    { provenance: 'max' },
    `Input 'provenance': 'max': 'max' is neither true/false nor key=value; ${PROVENANCE_FIX}`,
  ],
  [
    'provenance: mode=full',
    { provenance: 'mode=full' },
    `Input 'provenance': 'mode=full': mode is min or max, not 'full'; ${PROVENANCE_FIX}`,
  ],
  [
    'provenance: an unknown parameter',
    { provenance: 'mode=max,builder=ci' },
    "Input 'provenance': 'mode=max,builder=ci': 'builder' is not a provenance parameter (mode, builder-id, " +
      `version, reproducible, inline-only, disabled); ${PROVENANCE_FIX}`,
  ],
  [
    'provenance: version=v2',
    { provenance: 'mode=min,version=v2' },
    `Input 'provenance': 'mode=min,version=v2': version is v0.2 or v1, not 'v2'; ${PROVENANCE_FIX}`,
  ],
  [
    'provenance: an empty builder-id',
    { provenance: 'builder-id=' },
    `Input 'provenance': 'builder-id=': builder-id needs a value (a URI naming the builder); ${PROVENANCE_FIX}`,
  ],
  [
    'provenance: a stray quote',
    { provenance: 'mode="max' },
    `Input 'provenance': 'mode="max' is not a comma-separated key=value list (a stray '"'); ${PROVENANCE_FIX}`,
  ],
  [
    'sbom: an empty generator',
    { sbom: 'generator=' },
    `Input 'sbom': 'generator=': generator needs a value (the scanner image); ${SBOM_FIX}`,
  ],
  [
    'sbom: a provenance parameter',
    { sbom: 'mode=max' },
    `Input 'sbom': 'mode=max': 'mode' is not an SBOM parameter (generator, disabled); ${SBOM_FIX}`,
  ],
  [
    'sbom: enabled',
    { sbom: 'enabled' },
    `Input 'sbom': 'enabled': 'enabled' is neither true/false nor key=value; ${SBOM_FIX}`,
  ],
  [
    'sbom: disabled=maybe',
    { sbom: 'disabled=maybe' },
    `Input 'sbom': 'disabled=maybe': disabled is true or false, not 'maybe'; ${SBOM_FIX}`,
  ],
  // --- secrets ---------------------------------------------------------------------------------------------
  ['secrets: no id', { secrets: 'src=/etc/hostname' }, `Input 'secrets': line 1 has no id=; ${SECRET_FIX}`],
  [
    'secrets: an unknown field',
    { secrets: `id=netrc,file=${'/x'}` },
    `Input 'secrets': line 1 has 'file', which is not a secret field (type, id, src, env); ${SECRET_FIX}`,
  ],
  [
    'secrets: a field without =, whose text is not repeated',
    { secrets: 'id=token,ghp_NotAVariableName123' },
    `Input 'secrets': line 1 has a field without '=' (field 2; fields are key=value); ${SECRET_FIX}`,
    ['ghp_NotAVariableName123'],
  ],
  [
    'secrets: no source',
    { secrets: 'id=netrc' },
    `Input 'secrets': line 1 (id=netrc) names no source; ${SECRET_FIX}`,
  ],
  [
    'secrets: both src and env',
    { secrets: 'id=netrc,src=/etc/hostname,env=HOME' },
    "Input 'secrets': line 1 (id=netrc) gives both src= and env=; keep one",
  ],
  [
    'secrets: type=ssh',
    { secrets: 'type=ssh,id=key,src=/etc/hostname' },
    "Input 'secrets': line 1 has type=ssh; the type is file or env",
  ],
  [
    'secrets: a stray quote',
    { secrets: 'id=netrc,"src=/etc/hostname' },
    `Input 'secrets': line 1 is not one comma-separated record (a stray '"'); ${SECRET_FIX}`,
  ],
  [
    'secrets: an env variable that is not set',
    { secrets: 'id=token,env=IMAGESPEC_TEST_UNSET_TOKEN' },
    "Input 'secrets': line 1 (id=token): the environment variable IMAGESPEC_TEST_UNSET_TOKEN is not set in " +
      "this step; set it in the step's env: (IMAGESPEC_TEST_UNSET_TOKEN: ${{ secrets.IMAGESPEC_TEST_UNSET_TOKEN }})",
  ],
  [
    'secrets: env= given a value, which is not repeated',
    { secrets: 'id=token,env=s3cr3t-t0ken/value' },
    "Input 'secrets': line 1 (id=token): env= takes the name of an environment variable (letters, digits, _), " +
      'not its value',
    ['s3cr3t-t0ken/value'],
  ],
  [
    'secrets: type=env with a variable that is not set',
    { secrets: 'type=env,id=tok,src=IMAGESPEC_TEST_UNSET_TOKEN' },
    "Input 'secrets': line 1 (id=tok): the environment variable IMAGESPEC_TEST_UNSET_TOKEN is not set in this " +
      "step; set it in the step's env: (IMAGESPEC_TEST_UNSET_TOKEN: ${{ secrets.IMAGESPEC_TEST_UNSET_TOKEN }})",
  ],
  [
    'secrets: an id given twice',
    { secrets: 'id=netrc,src=/etc/hostname\n\nid=netrc,env=HOME' },
    "Input 'secrets': line 3 repeats id=netrc of line 1: ids name one secret each; give each its own id, or remove one",
  ],
  // --- build-args / labels -----------------------------------------------------------------------------------
  [
    'build-args: a line without =, whose text is not repeated',
    { 'build-args': 'VERSION=1\nghp_TokenLookingValue' },
    "Input 'build-args': line 2 has no '=': write one KEY=VALUE per line",
    ['ghp_TokenLookingValue'],
  ],
  [
    'build-args: no key',
    { 'build-args': '=value' },
    "Input 'build-args': line 1 has no KEY before '=': write one KEY=VALUE per line",
  ],
  [
    'build-args: a key with a space',
    { 'build-args': 'PIP INDEX=https://pypi.example/simple' },
    "Input 'build-args': line 1: the key 'PIP INDEX' has a space; keys are one word, e.g. PIP_INDEX_URL=...",
  ],
  [
    'build-args: a key twice',
    { 'build-args': 'A=1\nB=2\nA=3' },
    "Input 'build-args': line 3 sets A again (line 1 set it): keep one",
  ],
  [
    'labels: a line without =',
    { labels: 'org.opencontainers.image.title' },
    "Input 'labels': line 1 has no '=': write one KEY=VALUE per line",
  ],
  [
    'labels: a key twice',
    { labels: 'team=ml\n# owner\nteam=data' },
    "Input 'labels': line 3 sets team again (line 1 set it): keep one",
  ],
  // --- numbers and versions --------------------------------------------------------------------------------
  [
    'parallel-builds: -1',
    { 'parallel-builds': '-1' },
    "Input 'parallel-builds': '-1' is not a whole number of builds; write digits only, e.g. 2",
  ],
  [
    'parallel-builds: 0',
    { 'parallel-builds': '0' },
    "Input 'parallel-builds': must be at least 1 (or empty for the default)",
  ],
  [
    'flytekit-version: latest',
    { 'flytekit-version': 'latest' },
    "Input 'flytekit-version': 'latest' is not a version; use e.g. 1.16.24, a requirement such as " +
      'flytekit>=1.16, or none',
  ],
]

describe('the bad-input catalogue', () => {
  test.each(rows())('%s', (_what, vars, message, credentials = []) => {
    const { error } = failure(vars)
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toBe(message)
    for (const secret of credentials) expect(`${error.message}\n${error.stack ?? ''}`).not.toContain(secret)
  })

  test('secrets: src files that are missing, relative to the working directory, or folders', () => {
    const missing = path.join(dir, 'nope.netrc')
    const { error } = failure({
      secrets: [
        `id=a,src=${missing}`,
        'id=b,src=missing/pip.conf',
        `id=c,src=${path.join(dir, 'folder')}`,
      ].join('\n'),
    })
    expect(error.message).toBe(
      'The inputs have 3 problems:\n' +
        `  - Input 'secrets': line 1 (id=a): the src file '${missing}' does not exist; create it in an earlier ` +
        'step or fix the path\n' +
        `  - Input 'secrets': line 2 (id=b): the src file 'missing/pip.conf' (relative to ${process.cwd()}) does ` +
        'not exist; create it in an earlier step or fix the path\n' +
        `  - Input 'secrets': line 3 (id=c): src '${path.join(dir, 'folder')}' is not a file; a secret is read ` +
        'from one file',
    )
  })
})

describe('everything is checked before the first push, and reported together', () => {
  test('a bad second registries line, a provenance value and a secret: one error naming each input', () => {
    const { error } = failure({
      registries: '127.0.0.1:5000/ok\n127.0.0.1:5001/Bad_',
      provenance: 'mode=maximum',
      secrets: 'id=x',
      force: 'maybe',
    })
    expect(error).toBeInstanceOf(InputProblems)
    expect((error as InputProblems).problems.map((p) => p.input)).toEqual([
      'force',
      'secrets',
      'provenance',
      'registries',
    ])
    expect(error.message).toBe(
      'The inputs have 4 problems:\n' +
        "  - Input 'force': 'maybe' is not a boolean; use true or false\n" +
        `  - Input 'secrets': line 1 (id=x) names no source; ${SECRET_FIX}\n` +
        `  - Input 'provenance': 'mode=maximum': mode is min or max, not 'maximum'; ${PROVENANCE_FIX}\n` +
        "  - Input 'registries': line 2: '127.0.0.1:5001/Bad_': the path part 'bad_' is not valid in an image " +
        'name; use lower-case letters, digits and single separators (. _ __ -)',
    )
  })

  test('the password of a registry with credentials is masked as soon as inputs are read', () => {
    const { error, stdout } = failure({
      registry: 'ci-user:MiXeDSecret77@127.0.0.1:5000',
      registries: 'https://other:AnotherPass88@quay.io/org',
    })
    // The runner hides every later occurrence of a masked value, as written and as flytekit lower-cases it.
    expect(stdout).toContain('::add-mask::MiXeDSecret77')
    expect(stdout).toContain('::add-mask::mixedsecret77')
    expect(stdout).toContain('::add-mask::AnotherPass88')
    expect(error.message).not.toMatch(
      /MiXeDSecret77|mixedsecret77|AnotherPass88|anotherpass88|ci-user|other:/,
    )
  })
})

describe('values that are accepted', () => {
  const accepted = (vars: Record<string, string>, env: Record<string, string> = {}) => {
    setInputs(vars)
    Object.assign(process.env, env)
    const write = process.stdout.write.bind(process.stdout)
    // `::add-mask::` commands go to stdout; keep them out of the test log.
    process.stdout.write = (() => true) as typeof process.stdout.write
    try {
      return getInputs()
    } finally {
      process.stdout.write = write
    }
  }

  test.each([
    ['true'],
    ['False'],
    ['1'],
    ['mode=max'],
    ['mode=max,version=v1,builder-id=https://github.com/org/repo/actions/runs/1'],
    ['disabled=true'],
  ])('provenance: %s', (value) => {
    expect(accepted({ provenance: value }).provenance).toBe(value)
  })

  test.each([['true'], ['generator=docker/buildkit-syft-scanner:stable-1'], ['disabled=false']])(
    'sbom: %s',
    (value) => {
      expect(accepted({ sbom: value }).sbom).toBe(value)
    },
  )

  test('secrets: an existing file (quoted, with commas in its path), a set variable, type=env', () => {
    const inputs = accepted(
      {
        secrets: [
          `id=netrc,src=${path.join(dir, 'netrc')}`,
          `id=pip,"src=${path.join(dir, 'a,b.conf')}"`,
          'id=token,env=IMAGESPEC_TEST_TOKEN',
          'type=env,id=other,src=IMAGESPEC_TEST_TOKEN',
        ].join('\n'),
      },
      { IMAGESPEC_TEST_TOKEN: 'value' },
    )
    expect(inputs.secrets).toHaveLength(4)
  })

  test('registries: one per region, case kept as written; registry alone', () => {
    expect(
      accepted({ registries: '123456789012.dkr.ecr.us-east-1.amazonaws.com\nlocalhost:65535/Team' })
        .registries,
    ).toEqual(['123456789012.dkr.ecr.us-east-1.amazonaws.com', 'localhost:65535/Team'])
    expect(accepted({ registry: 'ghcr.io/my-org', registries: '' }).inline).toEqual({
      registry: 'ghcr.io/my-org',
    })
  })

  test("password without username for ghcr.io: the login is the workflow's actor", () => {
    expect(accepted({ password: 'pat-value-123', registry: 'ghcr.io/my-org' }).password).toBe('pat-value-123')
  })

  test('username with an empty password on a pull request from a fork: the fork stop explains it later', () => {
    const event = path.join(dir, 'event.json')
    writeFileSync(
      event,
      JSON.stringify({
        pull_request: {
          number: 7,
          base: { repo: { full_name: 'example-org/flyte-project' } },
          head: { repo: { full_name: 'someone/flyte-project' } },
        },
      }),
    )
    const inputs = accepted(
      { username: 'ci-user', password: '' },
      {
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: event,
        GITHUB_REPOSITORY: 'example-org/flyte-project',
      },
    )
    expect(inputs.username).toBe('ci-user')
  })
})
