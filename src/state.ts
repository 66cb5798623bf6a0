/** Names of the values main saves for the post step (GITHUB_STATE). */
export const STATE = {
  isPost: 'isPost',
  dockerConfig: 'docker-config',
  registries: 'registries',
} as const
