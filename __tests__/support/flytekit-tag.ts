import { execFileSync } from 'node:child_process'

/**
 * The tag flytekit gives a spec, computed by Python itself: `str()` of the spec as a Python dict literal (fields
 * in ImageSpec's order, unset ones left out), md5, urlsafe base64 without padding, '-' replaced by '_'.
 */
export function pythonTag(specDictLiteral: string): string {
  const script = `
import base64, hashlib
d = ${specDictLiteral}
print(base64.urlsafe_b64encode(hashlib.md5(str(d).encode()).digest()).decode().rstrip('=').replace('-', '_'))
`
  return execFileSync('python3', ['-c', script], { encoding: 'utf8' }).trim()
}

/** A string as a Python literal (JSON's escaping is valid Python for these ASCII values). */
export const py = (s: string): string => JSON.stringify(s)
