import * as core from '@actions/core'
import type { Mask } from './types.js'

/**
 * The production mask. Empty strings are skipped: `::add-mask::` with an empty value is rejected by the runner,
 * and there is nothing to hide anyway.
 */
export const maskInLog: Mask = (secret) => {
  if (secret) core.setSecret(secret)
}
