import { parseRegistry } from '../registry/hosts.js'

/**
 * Pull requests from forks run without an OIDC token and without secrets (GitHub's rule, not a setting). When a
 * registry needs either, the push cannot work, and the step says so instead of failing with a login error.
 */
export interface ForkAuthInputs {
  username: string
  password: string
  awsRoleToAssume: string
  gcpAuth: 'auto' | 'gcloud'
}

/** Why each registry cannot be reached from a fork pull request; empty when all of them can. */
export function forkBlockers(registries: readonly string[], auth: ForkAuthInputs): string[] {
  const reasons: string[] = []
  for (const registry of registries) {
    const parsed = parseRegistry(registry)
    switch (parsed.kind) {
      case 'ecr':
      case 'ecr-public':
        reasons.push(
          auth.awsRoleToAssume
            ? `${registry} is ECR, reached with an OIDC token (aws-role-to-assume), which fork pull requests do not get`
            : `${registry} is ECR, reached with AWS credentials from secrets, which fork pull requests do not get`,
        )
        break
      case 'gar':
        if (auth.gcpAuth === 'auto')
          reasons.push(
            `${registry} is Artifact Registry, reached with an OIDC token (workload identity federation), which fork pull requests do not get`,
          )
        break
      case 'ghcr':
        if (!auth.password)
          reasons.push(
            `${registry} is GHCR, and a fork pull request's GITHUB_TOKEN is read-only (it cannot push packages)`,
          )
        break
      default:
        if (auth.username && !auth.password)
          reasons.push(
            `${registry} needs the 'password' input, and it is empty: fork pull requests get no secrets`,
          )
    }
  }
  return reasons
}

export function forkMessage(
  reasons: readonly string[],
  pr: { headRepo: string; baseRepo: string } | undefined,
): string {
  const from = pr
    ? ` from the fork '${pr.headRepo || '(deleted fork)'}' into '${pr.baseRepo}'`
    : ' from a fork'
  return (
    `This is a pull request${from}, and GitHub never gives pull requests from forks an OIDC token or the ` +
    `repository's secrets, so no image is pushed: ${reasons.join('; ')}. Nothing was built. Push the branch to ` +
    'this repository to get a preview image; set fail-on-fork: true to fail the step instead.'
  )
}
