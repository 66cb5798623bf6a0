import { expect } from '@jest/globals'

/**
 * Secrets in a job log. `core.setSecret(v)` prints `::add-mask::v`; the runner consumes that line and hides `v`
 * everywhere else. On any other line a secret is a leak.
 */
export function linesOutsideMasks(log: string): string {
  return log
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n')
}

export function maskedValues(log: string): string[] {
  return log
    .split('\n')
    .filter((line) => line.startsWith('::add-mask::'))
    .map((line) => line.slice('::add-mask::'.length))
}

/** None of `secrets` appears in the log except on `::add-mask::` lines. */
export function expectNoLeaks(log: string, secrets: string[]): void {
  const visible = linesOutsideMasks(log)
  const leaked = secrets.filter((s) => s.length >= 8 && visible.includes(s))
  expect(leaked).toEqual([])
}
