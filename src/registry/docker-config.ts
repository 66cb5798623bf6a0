/**
 * Reads registry credentials from a DOCKER_CONFIG directory the way the Docker CLI does, so the existence check
 * authenticates exactly as the later `docker buildx build --push` will: a per-host credential helper first, then
 * the default credential store, then the inline `auths` entry.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { ActionError, errorMessage } from '../errors.js'
import { exec as defaultExec, type Exec } from '../exec.js'
import { NullLogger, type Logger } from '../log.js'
import { DOCKER_HUB, DOCKER_HUB_CONFIG_KEY, normaliseRegistry } from './reference.js'

/** The parts of config.json this action reads or writes. Other keys are preserved untouched. */
export interface DockerConfigFile {
  auths?: Record<string, DockerAuthEntry>
  credHelpers?: Record<string, string>
  credsStore?: string
  [key: string]: unknown
}

export interface DockerAuthEntry {
  auth?: string
  username?: string
  password?: string
  identitytoken?: string
}

/**
 * What a registry accepts from us. An identity token is an OAuth2 refresh token (what `docker login` stores for
 * registries such as ACR): it is exchanged at the token endpoint, never sent as a password.
 */
export type RegistryCredentials =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'identity-token'; username: string; token: string }

export const CONFIG_FILE = 'config.json'

export async function readDockerConfig(configDir: string): Promise<DockerConfigFile> {
  const path = join(configDir, CONFIG_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (isMissingFile(err)) return {}
    throw new ActionError(`Could not read the Docker config ${path}: ${errorMessage(err)}`)
  }
  if (text.trim() === '') return {}
  try {
    const parsed: unknown = JSON.parse(text)
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object')
    return parsed as DockerConfigFile
  } catch (err) {
    throw new ActionError(`The Docker config ${path} is not valid JSON: ${errorMessage(err)}`)
  }
}

export interface ResolveCredentialsOptions {
  exec?: Exec
  logger?: Logger
}

/**
 * Credentials for `registry` (as written in an image reference) from the config in `configDir`, or undefined
 * when there are none (the registry is then tried anonymously).
 */
export async function resolveCredentials(
  configDir: string,
  registry: string,
  options: ResolveCredentialsOptions = {},
): Promise<RegistryCredentials | undefined> {
  const config = await readDockerConfig(configDir)
  const host = normaliseRegistry(registry)
  const helper = config.credHelpers?.[host] ?? config.credHelpers?.[configKey(host)] ?? config.credsStore
  if (helper) return fromHelper(helper, host, configDir, options)
  return fromAuthEntry(findAuthEntry(config.auths ?? {}, host), host)
}

/** Docker Hub's credentials are stored under its old v1 URL; every other registry under its host. */
export function configKey(registry: string): string {
  return normaliseRegistry(registry) === DOCKER_HUB ? DOCKER_HUB_CONFIG_KEY : normaliseRegistry(registry)
}

/** `auths` keys may carry a scheme and path (`https://host/v1/`); docker matches them by host. */
function findAuthEntry(auths: Record<string, DockerAuthEntry>, host: string): DockerAuthEntry | undefined {
  for (const [key, entry] of Object.entries(auths)) if (normaliseRegistry(key) === host) return entry
  return undefined
}

function fromAuthEntry(entry: DockerAuthEntry | undefined, host: string): RegistryCredentials | undefined {
  if (!entry) return undefined
  let username = entry.username ?? ''
  let password = entry.password ?? ''
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) {
      throw new ActionError(
        `The Docker config entry for ${host} has a malformed 'auth' value; run docker login for ${host} again`,
      )
    }
    username = decoded.slice(0, colon)
    password = decoded.slice(colon + 1)
  }
  if (entry.identitytoken) return { kind: 'identity-token', username, token: entry.identitytoken }
  if (username === '' && password === '') return undefined
  return { kind: 'basic', username, password }
}

interface HelperReply {
  Username?: string
  Secret?: string
}

/**
 * Runs `docker-credential-<helper> get` with the server on stdin, as the Docker CLI does. A helper that has no
 * entry for the server answers with an error on stdout and a non-zero exit; that means "anonymous", not a failure.
 */
async function fromHelper(
  helper: string,
  host: string,
  configDir: string,
  options: ResolveCredentialsOptions,
): Promise<RegistryCredentials | undefined> {
  const command = `docker-credential-${helper}`
  const run = options.exec ?? defaultExec
  const result = await run(command, ['get'], {
    stdin: Buffer.from(configKey(host)),
    env: { DOCKER_CONFIG: configDir },
    logger: options.logger ?? new NullLogger(),
  }).catch((err: unknown) => {
    throw new ActionError(
      `The Docker config in ${configDir} names the credential helper '${helper}' for ${host}, but ${command} ` +
        `could not be run (${errorMessage(err)}). Install it on the runner or remove it from the config.`,
    )
  })
  if (result.exitCode !== 0) {
    const said = (result.stdout + result.stderr).trim()
    if (/credentials not found/i.test(said)) return undefined
    throw new ActionError(
      `The credential helper ${command} failed for ${host} (exit code ${result.exitCode}): ${firstLine(said)}`,
    )
  }
  return parseHelperReply(result.stdout, command, host)
}

function parseHelperReply(stdout: string, command: string, host: string): RegistryCredentials | undefined {
  let reply: HelperReply
  try {
    reply = JSON.parse(stdout) as HelperReply
  } catch {
    // Do not quote stdout: it may hold the secret in a format we failed to parse.
    throw new ActionError(`The credential helper ${command} returned something other than JSON for ${host}`)
  }
  const username = reply.Username ?? ''
  const secret = reply.Secret ?? ''
  if (secret === '') return undefined
  // Helpers mark an identity (refresh) token with this fixed user name.
  if (username === '<token>') return { kind: 'identity-token', username: '', token: secret }
  return { kind: 'basic', username, password: secret }
}

/** The secret strings inside credentials, for scrubbing messages before they are shown. */
export function secretsOf(credentials: RegistryCredentials | undefined): string[] {
  if (!credentials) return []
  if (credentials.kind === 'identity-token') return [credentials.token]
  const basic = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')
  return [credentials.password, basic]
}

export function isMissingFile(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT'
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? ''
}
