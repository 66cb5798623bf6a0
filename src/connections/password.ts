import { dockerLogin } from '../docker/login.js'
import type { Logger } from '../log.js'
import { checkImage } from '../registry/check.js'
import { resolveCredentials } from '../registry/docker-config.js'
import type { GitHubPackagesApi } from '../cloud/github-packages.js'
import { normaliseRegistry } from '../registry/reference.js'
import type { RegistryConnection } from './connection.js'

/**
 * Registries reached with a user name and password (GHCR, Docker Hub, Harbor, a self-hosted distribution), and
 * registries reached with whatever the runner's Docker config already holds (no login inputs at all).
 */
export interface PasswordLogin {
  username: string
  password: string
  /** Which inputs to name when the registry refuses the credentials. */
  hint: string
}

export function passwordConnection(
  registry: string,
  login: PasswordLogin | undefined,
  ambientConfigDir: string,
  logger: Logger,
  githubPackages?: GitHubPackagesApi,
): RegistryConnection {
  const host = normaliseRegistry(registry.split('/')[0] ?? registry)
  const credentials = login
    ? ({ kind: 'basic', username: login.username, password: login.password } as const)
    : undefined
  return {
    registry,
    describe: login ? `${host} as ${login.username}` : `${host} with the runner's Docker credentials`,
    api: {
      kind: 'distribution',
      credentials: async () => credentials ?? (await resolveCredentials(ambientConfigDir, host, { logger })),
      ...(githubPackages ? { githubPackages } : {}),
    },
    check: async (name, tag) => {
      const ref = `${registry}/${name}:${tag}`
      // With login inputs the check sends them directly: no `docker login` process on the image-exists path.
      return credentials
        ? checkImage(ref, { credentials, logger })
        : checkImage(ref, { configDir: ambientConfigDir, logger })
    },
    prepareRepository: async () => ({ immutable: false }),
    loginForPush: async (configDir) => {
      if (!login) return
      await dockerLogin({
        registry: host,
        username: login.username,
        password: login.password,
        configDir,
        credentialsHint: login.hint,
        logger,
      })
    },
  }
}

/** GHCR accepts the job's GITHUB_TOKEN as the actor when no password is given (it needs `packages: write`). */
export function ghcrLogin(
  username: string,
  password: string,
  githubToken: string,
  actor: string,
): PasswordLogin | undefined {
  if (password)
    return { username: username || actor, password, hint: "check the 'username' and 'password' inputs" }
  if (!githubToken) return undefined
  return {
    username: actor || 'github-actions',
    password: githubToken,
    hint: "check that the job has 'permissions: packages: write' (the action logs in to ghcr.io with the job's GITHUB_TOKEN)",
  }
}

/** ghcr.io deletes through the GitHub Packages API with the `github-token` input (GITHUB_API_URL on GHES). */
export function ghcrPackagesApi(githubToken: string): GitHubPackagesApi {
  return { apiUrl: process.env.GITHUB_API_URL || 'https://api.github.com', token: githubToken }
}
