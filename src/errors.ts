/**
 * Errors the action reports. Each message names the input or spec field at fault and says how to fix it; the
 * top level prints the message and fails the step, never a stack trace.
 */
export class ActionError extends Error {
  override name = 'ActionError'
}

/** One problem in an ImageSpec: the field path (`env.FOO`, `packages[2]`), where it is, and what to do. */
export interface SpecIssue {
  path: string
  message: string
  /** `file:line` of the value in the spec file, when the value came from one. */
  location?: string
}

/** Every problem found in one validation pass, reported together. */
export class SpecError extends ActionError {
  override name = 'SpecError'
  /** `specs`: how many spec files the issues were collected from (the heading says "The ImageSpecs" for several). */
  constructor(
    readonly issues: SpecIssue[],
    specs = 1,
  ) {
    super(formatIssues(issues, specs))
  }
}

export function formatIssues(issues: SpecIssue[], specs = 1): string {
  const lines = issues.map(
    (i) => `  - ${i.location ? `${i.location}: ` : ''}${i.path ? `${i.path}: ` : ''}${i.message}`,
  )
  const count = `${issues.length} problem${issues.length === 1 ? '' : 's'}`
  const heading = specs > 1 ? `The ImageSpecs have ${count}` : `The ImageSpec has ${count}`
  return `${heading}:\n${lines.join('\n')}`
}

/** A problem with an action input (not the spec): names the input. */
export class InputError extends ActionError {
  override name = 'InputError'
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`Input '${input}': ${message}`)
  }
}

export function errorMessage(err: unknown): string {
  // Duck-typed: errors from Node itself fail `instanceof Error` across realms (jest's ESM VM contexts).
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message
  }
  if (typeof err === 'string') return err
  try {
    return JSON.stringify(err)
  } catch {
    return String(err)
  }
}
