/**
 * Image references (`host[:port]/path[:tag][@digest]`) parsed the way the Docker CLI reads them, so that the host
 * we log in to, the host whose credentials we look up and the repository we query are the ones docker itself
 * will use when it pushes.
 */
import { ActionError } from '../errors.js'
// The grammar (path components, tags, digests, hosts, lengths) is the pure core's, which checks spec references
// with it before any network call.
import { DIGEST, HOST, hostProblem, NAME_TOTAL_LENGTH_MAX, PATH_COMPONENT, TAG } from '../plan/reference.js'

export const DOCKER_HUB = 'docker.io'
/** Docker Hub's registry API lives on a different host from the name users write. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io'
/** The key docker login / credential helpers use for Docker Hub credentials (a historical v1 URL). */
export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/'

const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API_HOST])

export interface ImageReference {
  /** Registry host as docker names it: `docker.io` for Docker Hub, otherwise `host[:port]` lower-cased. */
  registry: string
  /** Repository path inside the registry; Docker Hub's single-name images get `library/`. */
  repository: string
  tag?: string
  /** `algorithm:hex`, e.g. `sha256:...`. */
  digest?: string
}

export class InvalidReferenceError extends ActionError {
  override name = 'InvalidReferenceError'
  constructor(
    readonly reference: string,
    reason: string,
  ) {
    super(`Invalid image reference '${redactCredentials(reference)}': ${reason}`)
  }
}

/**
 * A reference holding `user:password@` is shown without it: the message reaches the job log, and nothing has
 * masked a password written into a registry name.
 */
export function redactCredentials(reference: string): string {
  const at = userinfoEnd(reference)
  if (at < 0) return reference
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(reference)?.[0] ?? ''
  return `${scheme}***@${reference.slice(at + 1)}`
}

/** Where the `user:password@` of a reference ends (its '@'), or -1. The '@' of a digest is not one. */
function userinfoEnd(reference: string): number {
  const last = reference.lastIndexOf('@')
  if (last < 0 || !DIGEST_AFTER_AT.test(reference.slice(last + 1))) return last
  return last === 0 ? -1 : reference.lastIndexOf('@', last - 1)
}

const DIGEST_AFTER_AT = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/

export function parseReference(input: string): ImageReference {
  const text = input.trim()
  if (text === '') throw new InvalidReferenceError(input, 'it is empty')
  if (userinfoEnd(text) >= 0) {
    throw new InvalidReferenceError(
      input,
      "the registry holds a user name or password; log in with the 'username' and 'password' inputs or docker login instead",
    )
  }

  const [nameAndTag, digest] = splitOnce(text, '@')
  if (digest !== undefined && !DIGEST.test(digest)) {
    throw new InvalidReferenceError(input, `'${digest}' is not a digest (expected sha256:<64 hex digits>)`)
  }
  const { name, tag } = splitTag(nameAndTag)
  if (tag !== undefined && !TAG.test(tag)) {
    throw new InvalidReferenceError(
      input,
      `'${tag}' is not a valid tag (letters, digits, '_', '.', '-'; at most 128)`,
    )
  }
  const { registry, path } = splitRegistry(name, input)
  const repository = registry === DOCKER_HUB && !path.includes('/') ? `library/${path}` : path
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT.test(component)) throw new InvalidReferenceError(input, pathProblem(component))
  }
  // distribution counts the name as written (host included), before docker.io's `library/` is added.
  const written = name.length
  if (written > NAME_TOTAL_LENGTH_MAX) {
    throw new InvalidReferenceError(
      input,
      `the repository name has ${written} characters, more than the ${NAME_TOTAL_LENGTH_MAX} a registry accepts`,
    )
  }
  return { registry, repository, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) }
}

/** The fully qualified form, e.g. `docker.io/library/python:3.11` or `host:5000/app@sha256:...`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`
}

/** `registry/repository@digest`: the immutable name to hand to deploy steps (no tag, so nothing can move it). */
export function formatDigestReference(ref: ImageReference, digest: string): string {
  return `${ref.registry}/${ref.repository}@${digest}`
}

/** The host (and port) to send registry API requests to. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry
}

/** Normalises a registry name as users write it (`https://ghcr.io/`, `index.docker.io`, `HOST:5000`). */
export function normaliseRegistry(registry: string): string {
  const host = registry
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase()
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : host
}

/** True for hosts docker treats as insecure (plain HTTP) without configuration: localhost and 127.0.0.0/8, ::1. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = hostWithoutPort(registry)
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host)
}

export function hostWithoutPort(registry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(registry)
  if (bracketed?.[1] !== undefined) return bracketed[1]
  return registry.replace(/:\d+$/, '')
}

function splitOnce(text: string, sep: string): [string, string | undefined] {
  const at = text.indexOf(sep)
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)]
}

/** A ':' after the last '/' starts the tag; one before it is a registry port. */
function splitTag(nameAndTag: string): { name: string; tag?: string } {
  const colon = nameAndTag.lastIndexOf(':')
  if (colon < 0 || colon < nameAndTag.lastIndexOf('/')) return { name: nameAndTag }
  return { name: nameAndTag.slice(0, colon), tag: nameAndTag.slice(colon + 1) }
}

/** Docker's rule: the first component is a registry host only if it has a '.', a ':' or is `localhost`. */
function splitRegistry(name: string, input: string): { registry: string; path: string } {
  const slash = name.indexOf('/')
  const first = slash < 0 ? '' : name.slice(0, slash)
  const isHost = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost')
  if (!isHost) return { registry: DOCKER_HUB, path: name }
  if (!HOST.test(first)) throw new InvalidReferenceError(input, `'${first}' is not a valid registry host`)
  const hostIssue = hostProblem(first)
  if (hostIssue) throw new InvalidReferenceError(input, hostIssue)
  const path = name.slice(slash + 1)
  if (path === '') throw new InvalidReferenceError(input, 'the repository name is missing')
  return { registry: normaliseRegistry(first), path }
}

function pathProblem(component: string): string {
  if (component === '') return 'the repository path has an empty component'
  if (component !== component.toLowerCase()) {
    return `repository names must be lowercase ('${component}' has upper-case letters)`
  }
  return `'${component}' is not a valid repository path component (lowercase letters, digits, '.', '_', '-')`
}
