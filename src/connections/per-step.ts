import { connectRegistry, type AuthInputs, type RegistryConnection } from './index.js'
import type { DockerSession } from '../docker/session.js'
import type { RunContext } from '../github.js'
import type { ActionInputs } from '../inputs.js'
import type { Logger } from '../log.js'

/**
 * One connection per registry for the whole step: every image is checked, logged in to and pushed at its own
 * registry (a nested base in another registry included), each registry is connected to once (cloud token
 * exchanges included), and docker logs in to it once.
 */
export function authInputs(inputs: ActionInputs, ctx: RunContext): AuthInputs {
  return {
    username: inputs.username,
    password: inputs.password,
    githubToken: inputs.githubToken,
    actor: ctx.actor,
    aws: inputs.aws,
    ecr: inputs.ecr,
    gcp: inputs.gcp,
  }
}

export type Connect = (registry: string) => Promise<RegistryConnection>

/** How a registry is reached; the real one by default, a fake in tests of the run. */
export function connector(
  inputs: ActionInputs,
  ctx: RunContext,
  session: DockerSession,
  logger: Logger,
): Connect {
  return async (registry) => {
    const connection = await logger.group(`Connect to ${registry}`, () =>
      connectRegistry(
        registry,
        authInputs(inputs, ctx),
        session.ambientConfigDir,
        session.jobConfigDir,
        logger,
      ),
    )
    logger.info(`Registry: ${connection.describe}`)
    return connection
  }
}

/** Hands out one connection per registry, made on first use and shared by every image there. */
export class Connections {
  private readonly byRegistry = new Map<string, Promise<RegistryConnection>>()
  /** `docker login` rewrites one config.json: two at once could each drop the other's entry. */
  private loginQueue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly connect: Connect,
    private readonly usedRegistry: (registry: string) => void,
  ) {}

  get(registry: string): Promise<RegistryConnection> {
    let known = this.byRegistry.get(registry)
    if (!known) {
      known = this.connect(registry).then((c) => this.forThisRun(c))
      this.byRegistry.set(registry, known)
    }
    return known
  }

  /**
   * The connection as this run uses it: a repository is prepared once per image name (a forced rebuild asks
   * first whether its tags are immutable, then again before the push; ECR would repeat its lookup and lifecycle
   * policy), docker logs in once per config folder (short-lived tokens: before every push, freshly), one login
   * at a time, and registries docker logs in to are recorded, so the post step logs out of those only.
   */
  private forThisRun(connection: RegistryConnection): RegistryConnection {
    const prepared = new Map<string, Promise<{ immutable: boolean }>>()
    const loggedIn = new Map<string, Promise<void>>()
    const login = (configDir: string): Promise<void> => {
      const done = this.loginQueue.then(() => connection.loginForPush(configDir))
      this.loginQueue = done.catch(() => undefined)
      return done.then(() => this.usedRegistry(connection.registry))
    }
    return {
      ...connection,
      prepareRepository: (name) => {
        const known = prepared.get(name) ?? connection.prepareRepository(name)
        prepared.set(name, known)
        return known
      },
      loginForPush: (configDir) => {
        if (connection.shortLivedCredentials) return login(configDir)
        const known = loggedIn.get(configDir) ?? login(configDir)
        loggedIn.set(configDir, known)
        return known
      },
    }
  }
}
