/**
 * Poetry's version constraints (`^1.2`, `~1.2`, `>=1.2,<2`, `1.2.*`, `a || b`) as PEP 440 specifiers, for
 * installing a poetry project with pip. Returns alternatives (`||`) of clause lists (`,` or blanks), or undefined
 * for a form not translated here.
 */
export function poetryConstraint(constraint: string): string[][] | undefined {
  const alternatives = constraint.split('||').map((alt) => clauses(alt.trim()))
  return alternatives.every((a) => a !== undefined) ? (alternatives as string[][]) : undefined
}

function clauses(alt: string): string[] | undefined {
  // `>= 1.2` is one clause, `>=1.2 <2` two: close up operators first, then split on commas and blanks.
  const parts = alt
    .replace(/(==|!=|>=|<=|~=|[<>=^~])\s+/g, '$1')
    .split(/\s*,\s*|\s+/)
    .filter((p) => p !== '')
  const out: string[] = []
  for (const part of parts) {
    const c = clause(part)
    if (c === undefined) return undefined
    out.push(...c)
  }
  return out
}

const VERSION = '[0-9]+(?:\\.[0-9]+)*(?:[a-zA-Z0-9.+!-]*)?'
const NUMERIC = /^[0-9]+(?:\.[0-9]+)*$/

function clause(part: string): string[] | undefined {
  if (part === '*') return []
  if (part.startsWith('^') || (part.startsWith('~') && !part.startsWith('~=')))
    return range(part[0] as '^' | '~', part.slice(1).trim())
  const m = new RegExp(`^(==|!=|>=|<=|>|<|~=|=)?\\s*(${VERSION}(?:\\.\\*)?)$`).exec(part)
  if (!m) return undefined
  const op = m[1] === undefined || m[1] === '=' ? '==' : m[1]
  const version = m[2] as string
  if (version.endsWith('.*') && op !== '==' && op !== '!=') return undefined
  return [`${op}${version}`]
}

/** `^1.2.3` is >=1.2.3,<2.0.0 (the first non-zero component is kept); `~1.2.3` is >=1.2.3,<1.3.0. */
function range(kind: '^' | '~', version: string): string[] | undefined {
  if (!NUMERIC.test(version)) return undefined
  const parts = version.split('.').map(Number)
  let bump: number
  if (kind === '~') bump = parts.length === 1 ? 0 : 1
  else {
    const firstNonZero = parts.findIndex((p) => p !== 0)
    bump = firstNonZero === -1 ? parts.length - 1 : firstNonZero
  }
  const upper = parts.slice(0, bump + 1).map((p, i) => (i === bump ? p + 1 : p))
  return [`>=${version}`, `<${upper.join('.')}`]
}

/**
 * A poetry `python = "..."` restriction as an environment marker (`''` for any Python). Poetry reads a bare
 * `3.8` as 3.8.*.
 */
export function pythonMarker(constraint: string): string | undefined {
  const bare = /^\s*([0-9]+(?:\.[0-9]+)*)\s*$/.exec(constraint)
  const alternatives = poetryConstraint(bare ? `==${bare[1] as string}.*` : constraint)
  if (alternatives === undefined) return undefined
  if (alternatives.some((a) => a.length === 0)) return ''
  const ors = alternatives.map((a) => a.map(markerClause).join(' and '))
  return ors.length === 1 ? (ors[0] as string) : ors.map((o) => `(${o})`).join(' or ')
}

function markerClause(specifier: string): string {
  const m = /^(==|!=|>=|<=|>|<|~=)(.*)$/.exec(specifier) as RegExpExecArray
  return `python_full_version ${m[1] as string} "${m[2] as string}"`
}
