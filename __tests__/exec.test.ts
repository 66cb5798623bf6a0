import { describe, expect, test } from '@jest/globals'

import { CommandNotFoundError, exec, formatArgv } from '../src/exec.js'
import { MemoryLogger } from '../src/log.js'

describe('exec (real processes)', () => {
  test('returns a non-zero exit code with both streams instead of throwing', async () => {
    const result = await exec('sh', ['-c', 'echo out; echo err >&2; exit 3'])
    expect(result).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' })
  })

  test('writes stdin to the process', async () => {
    const result = await exec('sh', ['-c', 'cat'], { stdin: Buffer.from('from stdin') })
    expect(result.stdout).toBe('from stdin')
  })

  test('adds env on top of the action environment', async () => {
    const result = await exec('sh', ['-c', 'echo "$DOCKER_CONFIG|${HOME:+home-set}"'], {
      env: { DOCKER_CONFIG: '/tmp/job-docker' },
    })
    expect(result.stdout.trim()).toBe(process.env.HOME ? '/tmp/job-docker|home-set' : '/tmp/job-docker|')
  })

  test('runs in cwd', async () => {
    const result = await exec('pwd', [], { cwd: '/' })
    expect(result.stdout.trim()).toBe('/')
  })

  test('passes arguments as data, without a shell', async () => {
    const result = await exec('printf', ['%s|', 'a b', '$HOME', '; rm -rf /'])
    expect(result.stdout).toBe('a b|$HOME|; rm -rf /|')
  })

  test('logs argv at debug level and never stdin', async () => {
    const logger = new MemoryLogger()
    await exec('sh', ['-c', 'cat >/dev/null', 'arg with space'], { stdin: Buffer.from('hunter2'), logger })
    expect(logger.lines).toEqual([`debug: exec: sh -c "cat >/dev/null" "arg with space"`])
    expect(logger.lines.join('\n')).not.toContain('hunter2')
  })

  test('a missing command is a CommandNotFoundError', async () => {
    const err = await exec('surely-not-a-command-xyz', ['--version']).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CommandNotFoundError)
    expect((err as CommandNotFoundError).command).toBe('surely-not-a-command-xyz')
  })
})

test.each([
  [['docker', ['buildx', 'build', '.']], 'docker buildx build .'],
  [['docker', ['--label', 'k=v w', '']], 'docker --label "k=v w" ""'],
  [['sh', ['-c', 'echo "hi"']], 'sh -c "echo \\"hi\\""'],
])('formatArgv %j', ([command, args], expected) => {
  expect(formatArgv(command as string, args as string[])).toBe(expected)
})
