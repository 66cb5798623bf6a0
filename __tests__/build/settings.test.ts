/**
 * The time images are stamped with (SOURCE_DATE_EPOCH): the user's, else the commit's from a real git repository,
 * else 0; errors that say where a bad value was set. Commit times are set here by hand (GIT_COMMITTER_DATE).
 */
import { execFileSync } from 'node:child_process'
import { afterAll, afterEach, describe, expect, test } from '@jest/globals'
import {
  buildSettings,
  chosenSourceDateEpoch,
  commitTime,
  sourceDateEpoch,
} from '../../src/build/settings.js'
import { ActionError, InputError } from '../../src/errors.js'
import { CommandNotFoundError, exec } from '../../src/exec.js'
import { readRunContext } from '../../src/github.js'
import { getInputs } from '../../src/inputs.js'
import { MemoryLogger } from '../../src/log.js'
import { fakeExec, ok } from '../support/fake-exec.js'
import { TempDirs } from '../support/temp-dirs.js'

const dirs = new TempDirs()
afterAll(() => dirs.removeAll())
afterEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) delete process.env[k]
})

/** A git repository whose one commit was made at `seconds` (committer time), in UTC. */
async function repository(seconds: number): Promise<string> {
  const dir = await dirs.make('imagespec-git-')
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'a',
    GIT_AUTHOR_EMAIL: 'a@example.test',
    GIT_COMMITTER_NAME: 'c',
    GIT_COMMITTER_EMAIL: 'c@example.test',
    // The author time differs on purpose: the committer time is the one that counts.
    GIT_AUTHOR_DATE: '@1000000000 +0000',
    GIT_COMMITTER_DATE: `@${seconds} +0200`,
  }
  execFileSync('git', ['init', '-q', dir], { env })
  execFileSync('git', ['-C', dir, 'commit', '-q', '--allow-empty', '-m', 'one'], { env })
  return dir
}

describe("the user's SOURCE_DATE_EPOCH", () => {
  test.each<[string, Record<string, string>, string, ReturnType<typeof chosenSourceDateEpoch>]>([
    ['none', {}, '', undefined],
    [
      'the environment',
      {},
      '1700000000',
      { seconds: 1700000000, from: "SOURCE_DATE_EPOCH in the step's environment" },
    ],
    [
      'build-args wins over the environment',
      { SOURCE_DATE_EPOCH: '42' },
      '1700000000',
      { seconds: 42, from: "the 'build-args' input" },
    ],
    ['0 is a time', {}, '0', { seconds: 0, from: "SOURCE_DATE_EPOCH in the step's environment" }],
  ])('%s', (_name, buildArgs, environment, expected) => {
    expect(chosenSourceDateEpoch(buildArgs, environment)).toEqual(expected)
  })

  test.each([['yesterday'], ['-1'], ['1.5'], ['99999999999999']])(
    'SOURCE_DATE_EPOCH=%s in the environment is an error saying how to fix it',
    (value) => {
      expect(() => chosenSourceDateEpoch({}, value)).toThrow(
        new ActionError(
          `SOURCE_DATE_EPOCH in the step's environment is '${value}', which is not a time: write whole seconds since 1970-01-01 UTC, e.g. the output of \`git log -1 --format=%ct\`, or unset it to stamp images with the commit time`,
        ),
      )
    },
  )

  test('a bad SOURCE_DATE_EPOCH build arg names the build-args input', () => {
    let err: unknown
    try {
      chosenSourceDateEpoch({ SOURCE_DATE_EPOCH: '2026-01-02' }, '')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InputError)
    expect((err as Error).message).toBe(
      "Input 'build-args': SOURCE_DATE_EPOCH=2026-01-02 is not a time: write whole seconds since 1970-01-01 UTC, e.g. the output of `git log -1 --format=%ct`",
    )
  })
})

describe('the commit time', () => {
  test("is HEAD's committer time, read by git", async () => {
    const dir = await repository(1767323045)
    await expect(commitTime(dir, exec)).resolves.toEqual({ seconds: 1767323045 })
  })

  test('outside a git checkout, says what git said', async () => {
    const dir = await dirs.make('imagespec-nogit-')
    const result = await commitTime(dir, exec)
    expect('why' in result && result.why).toMatch(/not a git repository/)
  })

  test('without git, says so', async () => {
    const noGit = fakeExec(() => {
      throw new CommandNotFoundError('git')
    })
    await expect(commitTime('/w', noGit)).resolves.toEqual({ why: 'git is not installed' })
  })

  test('asks git to read a checkout another user owns (container jobs)', async () => {
    const git = fakeExec(() => ok('1700000000\n'))
    await commitTime('/w', git)
    expect(git.calls.map((c) => [c.command, c.args, c.options.cwd])).toEqual([
      ['git', ['-c', 'safe.directory=*', 'log', '-1', '--format=%ct'], '/w'],
    ])
  })
})

describe('sourceDateEpoch', () => {
  test("the user's wins, without asking git", async () => {
    const logger = new MemoryLogger()
    const git = fakeExec()
    const chosen = { seconds: 1700000000, from: "SOURCE_DATE_EPOCH in the step's environment" }
    await expect(sourceDateEpoch(chosen, '/w', logger, git)).resolves.toBe(1700000000)
    expect(git.calls).toEqual([])
    expect(logger.lines).toEqual([
      "info: Images are stamped with SOURCE_DATE_EPOCH=1700000000 (2023-11-14T22:13:20Z) from SOURCE_DATE_EPOCH in the step's environment: the created label, the image's times and its layers' file times",
    ])
  })

  test('else the commit time', async () => {
    const logger = new MemoryLogger()
    const dir = await repository(1767323045)
    await expect(sourceDateEpoch(undefined, dir, logger)).resolves.toBe(1767323045)
    expect(logger.lines).toEqual([
      "info: Images are stamped with the commit time of HEAD, 2026-01-02T03:04:05Z (SOURCE_DATE_EPOCH=1767323045), not the time of the run: the same spec at the same commit makes the same image. Set SOURCE_DATE_EPOCH in the step's env to choose another time.",
    ])
  })

  test('else 0, said once in the log', async () => {
    const logger = new MemoryLogger()
    const dir = await dirs.make('imagespec-nogit-')
    await expect(sourceDateEpoch(undefined, dir, logger)).resolves.toBe(0)
    expect(logger.lines).toHaveLength(1)
    expect(logger.lines[0]).toMatch(
      new RegExp(
        `^info: ${dir} is not in a git checkout \\(.*not a git repository.*\\), so images are stamped with SOURCE_DATE_EPOCH=0 \\(1970-01-01T00:00:00Z\\)`,
      ),
    )
  })
})

describe('buildSettings', () => {
  test('the commit time of the working directory, asked once for every image', async () => {
    const dir = await repository(1700000000)
    process.env['INPUT_WORKING-DIRECTORY'] = '.'
    const git = fakeExec(async (call) => exec(call.command, call.args, call.options))
    const settings = buildSettings(
      getInputs(),
      readRunContext({ GITHUB_WORKSPACE: dir }),
      new MemoryLogger(),
      git,
    )

    expect(settings.plan.labels).toEqual({})
    const epochs = await Promise.all([settings.sourceDateEpoch?.(), settings.sourceDateEpoch?.()])
    expect(epochs).toEqual([1700000000, 1700000000])
    expect(git.calls.filter((c) => c.command === 'git')).toHaveLength(1)
    expect(git.calls[0]?.options.cwd).toBe(dir)
  })

  test('a bad SOURCE_DATE_EPOCH stops the step before anything is built', () => {
    expect(() =>
      buildSettings(
        getInputs(),
        readRunContext({ SOURCE_DATE_EPOCH: 'now' }),
        new MemoryLogger(),
        fakeExec(),
      ),
    ).toThrow("SOURCE_DATE_EPOCH in the step's environment is 'now'")
  })
})
