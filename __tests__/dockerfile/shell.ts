import { execFileSync } from 'node:child_process'

/**
 * A real POSIX shell as the oracle for shell text: /bin/sh (dash on Debian, what RUN uses before the template's
 * SHELL line) and bash (what base images such as RHEL's have as /bin/sh).
 */
export const SHELLS = ['sh', 'bash'] as const

/** The words `text` stands for, as the shell splits and unquotes them (globbing off, nothing executed). */
export function shellWords(text: string, shell: (typeof SHELLS)[number] = 'sh'): string[] {
  const out = execFileSync(shell, ['-c', `set -f; printf '%s\\0' ${text}`], {
    encoding: 'utf8',
    stdio: 'pipe',
  })
  // printf repeats its format for each word; with no words at all it still prints one empty word.
  return out === '\0' && !/\S/.test(text) ? [] : out.split('\0').slice(0, -1)
}

/** stdout of running `script` with the shell, in a scratch folder. */
export function runScript(script: string, cwd: string, shell: (typeof SHELLS)[number] = 'sh'): string {
  return execFileSync(shell, ['-c', script], { encoding: 'utf8', cwd, stdio: 'pipe' })
}
