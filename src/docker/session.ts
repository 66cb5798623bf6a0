import * as core from '@actions/core'
import { createDockerConfigDir, runnerDockerConfigDir } from './login.js'
import type { Logger } from '../log.js'
import { STATE } from '../state.js'

/**
 * Where docker keeps credentials for this job. The job's own DOCKER_CONFIG is made on first need (a build) under
 * the runner's temp folder, never the user's ~/.docker, and recorded for the post step, which logs out of every
 * registry recorded here (the ones docker logged in to) and deletes the folder. It starts with a copy of the runner's logins
 * (an earlier step's login to a private base image registry keeps working); this action's logins go only there.
 */
export class DockerSession {
  readonly ambientConfigDir = runnerDockerConfigDir()
  private jobConfig: Promise<string> | undefined
  private readonly registries = new Set<string>()

  constructor(
    private readonly runnerTemp: string,
    private readonly logger: Logger,
  ) {}

  /** The job's DOCKER_CONFIG, created the first time it is asked for. */
  jobConfigDir = (): Promise<string> =>
    (this.jobConfig ??= createDockerConfigDir(this.runnerTemp, {
      sourceConfigDir: this.ambientConfigDir,
      logger: this.logger,
      inheritCredentials: true,
    }).then((dir) => {
      core.saveState(STATE.dockerConfig, dir)
      return dir
    }))

  /** Remembers a registry host docker logged in to, for the post step's logout. */
  usedRegistry(registry: string): void {
    this.registries.add(registry.split('/')[0] as string)
    core.saveState(STATE.registries, JSON.stringify([...this.registries]))
  }
}
