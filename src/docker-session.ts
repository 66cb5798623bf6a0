import * as core from '@actions/core'
import os from 'node:os'
import path from 'node:path'
import { createDockerConfigDir } from './docker/login.js'
import type { Logger } from './log.js'
import { STATE } from './state.js'

/**
 * Where docker keeps credentials for this job. The job's own DOCKER_CONFIG is made on first need (a login, a
 * local load) under the runner's temp folder, never the user's ~/.docker, and recorded for the post step, which
 * logs out of every registry recorded here and deletes the folder. It starts with a copy of the runner's logins
 * (an earlier step's login to a private base image registry keeps working); this action's logins go only there.
 */
export class DockerSession {
  readonly ambientConfigDir = process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker')
  private jobConfig: Promise<string> | undefined
  private readonly registries = new Set<string>()

  constructor(
    private readonly runnerTemp: string,
    private readonly logger: Logger,
  ) {}

  /** The job's DOCKER_CONFIG, created the first time it is asked for. */
  jobConfigDir = (): Promise<string> =>
    (this.jobConfig ??= createDockerConfigDir(this.runnerTemp, {
      logger: this.logger,
      inheritCredentials: true,
    }).then((dir) => {
      core.saveState(STATE.dockerConfig, dir)
      return dir
    }))

  /** Remembers a registry host for the post step's logout. */
  usedRegistry(registry: string): void {
    this.registries.add(registry.split('/')[0] as string)
    core.saveState(STATE.registries, JSON.stringify([...this.registries]))
  }
}
