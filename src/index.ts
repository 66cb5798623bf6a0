import * as core from '@actions/core'
import { run } from './main.js'
import { post } from './post.js'
import { STATE } from './state.js'

// One bundle serves both `main` and `post` (action.yml). The main step records that it ran, so the runner's second
// call of the same file is recognised as the post step.
if (core.getState(STATE.isPost)) {
  await post()
} else {
  core.saveState(STATE.isPost, 'true')
  await run()
}
