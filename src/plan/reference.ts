/**
 * The image reference grammar (distribution/reference, as the OCI distribution spec writes it), as pure checks.
 * The parser at the edge (registry/reference.ts), the `registry`/`registries` inputs and the plan's preflight all
 * use these, so a reference the plan accepts is one docker and the registry accept too, and a reference that
 * cannot work is refused before any network call instead of being blamed on the registry.
 *
 * It lives in the pure core (the core may not import registry/), and registry/reference.ts re-uses it.
 */
import { REGISTRY_RE } from '../spec/construct.js'

/** One path component: lower-case alphanumerics joined by '.', '_', '__' or runs of '-'. */
export const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
export const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/
export const TAG_LENGTH_MAX = 128
export const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/
/** `host[:port]` as docker reads it: DNS labels or a bracketed IPv6 address. */
export const HOST =
  /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::\d+)?$/
/** distribution/reference's NameTotalLengthMax: the repository name including the registry host. */
export const NAME_TOTAL_LENGTH_MAX = 255
/** A DNS label (RFC 1035); resolvers refuse longer ones, so the registry cannot be reached. */
const DNS_LABEL_MAX = 63

const FIX_CREDENTIALS =
  "Remove them: log in with the 'username' and 'password' inputs (from secrets), or with a docker/login-action " +
  'step before this one'

/**
 * Why a registry string holding `user:password@` is refused. It never repeats the value: whatever is in it may be
 * a password, and GitHub masks only what it was told is secret.
 */
export const CREDENTIALS_IN_REGISTRY =
  "holds a user name or password ('user:password@host'): a registry is host[:port][/path] and is printed in " +
  `logs, outputs and image names. ${FIX_CREDENTIALS}`

/**
 * True when a registry string carries userinfo (`user:pass@host`, `https://user:tok@host/path`, `token@host`).
 * No registry, path or image name may contain '@', so any '@' is taken as credentials: better to refuse and say
 * nothing of the value than to print a password.
 */
export function hasCredentials(registry: string): boolean {
  return registry.includes('@')
}

/**
 * The secret part of a registry's userinfo (the password; a lone `token@host` user is a token), as written and
 * lower-cased (flytekit lower-cases registries), for masking. Empty when there is none.
 */
export function registrySecrets(registry: string): string[] {
  if (!hasCredentials(registry)) return []
  const stripped = registry.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
  const userinfo = stripped.slice(0, stripped.lastIndexOf('@'))
  const colon = userinfo.indexOf(':')
  const secret = colon < 0 ? userinfo : userinfo.slice(colon + 1)
  if (secret === '') return []
  return [...new Set([secret, secret.toLowerCase(), decodeOrSelf(secret)])]
}

function decodeOrSelf(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/**
 * What is wrong with a registry as written in `registry` or a `registries` line (before flytekit lower-cases
 * it), or undefined. The checks are the ones docker and the registry would fail on later: credentials, a URL
 * scheme, the host (DNS labels, port 1-65535), the path components, and flytekit's own registry pattern.
 */
export function registryProblem(registry: string): string | undefined {
  const text = registry.trim()
  if (text === '') return 'is empty; give a registry host such as ghcr.io/my-org'
  if (hasCredentials(text)) return CREDENTIALS_IN_REGISTRY
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)
  if (scheme) {
    return `'${text}' starts with '${scheme[0]}': a registry is host[:port][/path] without a scheme; write '${text.slice(scheme[0].length).replace(/\/+$/, '')}'`
  }
  const lower = text.toLowerCase()
  const [host = '', ...path] = lower.split('/')
  const hostIssue = hostProblem(host)
  if (hostIssue) return `'${text}': ${hostIssue}`
  if (path.some((c) => c === '')) {
    return `'${text}' has an empty path part (a '//' or a trailing '/'); write it as host/part/part without them`
  }
  const bad = path.find((c) => !PATH_COMPONENT.test(c))
  if (bad !== undefined) {
    return `'${text}': the path part '${bad}' is not valid in an image name; use lower-case letters, digits and single separators (. _ __ -)`
  }
  if (!REGISTRY_RE.test(lower)) {
    return `'${text}' is not a registry flytekit accepts; use a host with an optional path, e.g. ghcr.io/my-org, 123456789012.dkr.ecr.us-east-1.amazonaws.com/team or localhost:30000`
  }
  return undefined
}

/** What is wrong with `host[:port]`: its shape, a DNS label over 63 characters, a port outside 1-65535. */
export function hostProblem(host: string): string | undefined {
  if (!HOST.test(host)) {
    return `the host '${host}' is not a DNS name or IP address with an optional :port, e.g. registry.example.com:5000`
  }
  const port = /:(\d+)$/.exec(host)?.[1]
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    return `port ${port} is out of range: a port is 1 to 65535`
  }
  const long = host
    .replace(/:\d+$/, '')
    .split('.')
    .find((label) => label.length > DNS_LABEL_MAX)
  if (long !== undefined && !host.startsWith('[')) {
    return `the host part '${abbreviate(long, 20)}' has ${long.length} characters; DNS allows at most ${DNS_LABEL_MAX} between dots`
  }
  return undefined
}

/** One problem of a full reference, on the spec field that causes it. */
export interface ReferenceProblem {
  field: 'registry' | 'name' | 'tag_format' | 'tag'
  message: string
}

export interface ReferenceParts {
  /** The spec's registry after flytekit's normalisation (lower-cased); '' or undefined: no registry prefix. */
  registry?: string
  name: string
  /** The tag after `tag_format`. */
  tag: string
  tagFormat?: string
}

/**
 * The full reference `registry/name:tag` that flytekit's `image_name()` gives, checked as docker will read it
 * when it pushes: the registry, every name path component, the repository length including the host (255), and
 * the tag (a `tag_format` that makes ':' or '/' or more than 128 characters is that field's problem).
 */
export function referenceProblems(ref: ReferenceParts): ReferenceProblem[] {
  const problems: ReferenceProblem[] = []
  const registry = ref.registry ?? ''
  const registryIssue = registry ? registryProblem(registry) : undefined
  if (registryIssue) problems.push({ field: 'registry', message: registryIssue })
  const bad = ref.name.split('/').find((c) => !PATH_COMPONENT.test(c))
  if (bad !== undefined) {
    problems.push({
      field: 'name',
      message: `'${ref.name}' is not a valid image name: '${bad}' is not a path component (lower-case letters, digits and single separators . _ __ -, with '/' between parts), e.g. my-team/train`,
    })
  }
  const repository = registry && !registryIssue ? `${registry}/${ref.name}` : ref.name
  if (!registryIssue && repository.length > NAME_TOTAL_LENGTH_MAX) {
    problems.push({
      field: 'name',
      message:
        `the image name '${abbreviate(repository, 60)}' has ${repository.length} characters; a repository name ` +
        `including the registry host may have at most ${NAME_TOTAL_LENGTH_MAX}. Shorten the name (or the registry path)`,
    })
  }
  const tagIssue = tagProblem(ref.tag)
  if (tagIssue && ref.tagFormat !== undefined) {
    problems.push({
      field: 'tag_format',
      message:
        `${JSON.stringify(ref.tagFormat)} gives the tag '${ref.tag}', which ${tagIssue}. A tag is ` +
        `letters, digits, '_', '.' and '-', at most ${TAG_LENGTH_MAX}, not starting with '.' or '-': keep ` +
        "{spec_hash} and join the rest with '-', '_' or '.', e.g. '{spec_hash}-dev'",
    })
  } else if (tagIssue) {
    problems.push({ field: 'tag', message: `the tag '${ref.tag}' ${tagIssue}` })
  }
  return problems
}

/** Why a tag is not one docker accepts, in words ('has a ':''), or undefined. */
export function tagProblem(tag: string): string | undefined {
  if (TAG.test(tag)) return undefined
  if (tag === '') return 'is empty'
  if (tag.length > TAG_LENGTH_MAX) return `has ${tag.length} characters (at most ${TAG_LENGTH_MAX})`
  const bad = [...new Set([...tag].filter((ch) => !/[A-Za-z0-9_.-]/.test(ch)))]
  if (bad.length > 0) return `has ${bad.map((ch) => JSON.stringify(ch)).join(', ')}, which a tag cannot hold`
  return `starts with '${tag[0]}'`
}

/** Long values are shown by their start and length, so that one bad value does not flood the message. */
export function abbreviate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`
}
