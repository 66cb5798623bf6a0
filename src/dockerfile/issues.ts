import { SpecError, type SpecIssue } from '../errors.js'
import { pyStr } from '../pyvalues/repr.js'
import { PyDict, PyTuple, type PyValue } from '../pyvalues/values.js'
import { codePointName, firstUnsafeChar } from './escape.js'

/**
 * Collects every problem of one Dockerfile generation, so that a spec with three bad fields reports all three at
 * once, each under its field path (`env.FOO`, `copy[2]`).
 */
export class Issues {
  private readonly issues: SpecIssue[] = []

  add(path: string, message: string): void {
    this.issues.push({ path, message })
  }

  /**
   * Accepts `value` for one Dockerfile line, or records why it cannot go there. `where` completes the sentence
   * "cannot be written into a Dockerfile ...".
   */
  lineSafe(path: string, value: string, where: string): boolean {
    const bad = firstUnsafeChar(value)
    if (bad === undefined) return true
    this.add(
      path,
      `contains ${bad}, a line break or control character, which cannot be written into a Dockerfile ${where}; remove it`,
    )
    return false
  }

  /** Accepts `value` as text a program can be given: no NUL (it ends a C string), no lone surrogate (not UTF-8). */
  programText(path: string, value: string, holder: string): boolean {
    const bad = /\0|\p{Cs}/u.exec(value)?.[0]
    if (bad === undefined) return true
    const what =
      bad === '\0' ? 'NUL (U+0000)' : `a lone surrogate (${codePointName(bad)}), which is not Unicode text`
    this.add(path, `contains ${what}; ${holder} cannot hold it, remove it`)
    return false
  }

  throwIfAny(): void {
    if (this.issues.length > 0) throw new SpecError([...this.issues])
  }
}

/** Python truthiness: flytekit tests most optional fields with `if spec.x:`, so `""`, `0` and `[]` count as unset. */
export function pyTruthy(v: PyValue | undefined): boolean {
  if (v === undefined || v === null) return false
  if (typeof v === 'boolean') return v
  if (typeof v === 'bigint') return v !== 0n
  if (typeof v === 'number') return v !== 0
  if (typeof v === 'string' || Array.isArray(v)) return v.length > 0
  if (v instanceof PyDict) return v.size > 0
  if (v instanceof PyTuple) return v.items.length > 0
  return true
}

/** The text flytekit's f-strings give a value: Python's str() (YAML `3.10` is the float 3.1 and prints `3.1`). */
export function pyText(v: PyValue): string {
  return pyStr(v)
}

/** A value inside a message, JSON-quoted so that control characters in it cannot break the log line. */
export function shown(value: string): string {
  return JSON.stringify(value)
}
