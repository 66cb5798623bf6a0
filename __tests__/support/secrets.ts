import { expect } from '@jest/globals'
import type { Mask } from '../../src/cloud/types.js'

/** A mask that records what it was given, standing in for `core.setSecret`. */
export function recordingMask(): Mask & { values: string[] } {
  const values: string[] = []
  const mask = (secret: string) => {
    values.push(secret)
  }
  return Object.assign(mask, { values })
}

/** Runs `fn`, expects it to reject, and returns the error after checking no secret leaked into its text. */
export async function rejectionOf(fn: () => Promise<unknown>, secrets: () => string[]): Promise<Error> {
  let caught: unknown
  try {
    await fn()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(Error)
  const error = caught as Error
  expectNoSecrets(`${error.message}\n${error.stack ?? ''}`, secrets())
  return error
}

export function expectNoSecrets(text: string, secrets: string[]): void {
  for (const secret of secrets.filter((s) => s.length >= 8)) {
    expect(text).not.toContain(secret)
  }
}
