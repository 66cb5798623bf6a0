import * as core from '@actions/core'
import type { Logger } from './log.js'

/** The Logger the action runs with: the job log, with one collapsible group per phase. */
export const actionsLogger: Logger = {
  info: (m) => core.info(m),
  debug: (m) => core.debug(m),
  warning: (m) => core.warning(m),
  notice: (m) => core.notice(m),
  group: (name, fn) => core.group(name, fn),
}
