import * as core from '@actions/core'
import { logoutAndRemove } from './docker/login.js'
import { actionsLogger } from './actions-logger.js'
import { errorMessage } from './errors.js'
import { STATE } from './state.js'

/**
 * The post step: log out of the registries main logged in to and delete the job's DOCKER_CONFIG, so no
 * credential outlives the job on a self-hosted runner. It never fails the job: the image is already pushed.
 */
export async function post(): Promise<void> {
  try {
    const dir = core.getState(STATE.dockerConfig)
    if (!dir) return
    const registries = JSON.parse(core.getState(STATE.registries) || '[]') as string[]
    const warnings = await logoutAndRemove(dir, registries, { logger: actionsLogger })
    for (const w of warnings) core.warning(w)
    core.info(`Removed the job's Docker credentials (${dir})`)
  } catch (err) {
    core.warning(`Cleanup did not finish: ${errorMessage(err)}`)
  }
}
