import type { EcrConnection } from '../cloud/aws/ecr.js'
import type { ArSession } from '../cloud/gcp/artifact-registry.js'
import type { GarImageTarget } from '../registry/hosts.js'
import type { GitHubPackagesApi } from '../cloud/github-packages.js'
import type { CheckResult } from '../registry/check.js'
import type { RegistryCredentials } from '../registry/docker-config.js'

/**
 * Everything the pipeline does with one registry, behind one interface so that ECR, Artifact Registry and
 * password registries are siblings: adding a kind of registry means adding a file, not touching main.
 */
export interface RegistryConnection {
  /** The registry as the spec names it (host and path). */
  readonly registry: string
  /** Short description for logs, e.g. "ECR 123456789012 us-east-1 (assumed role)". */
  readonly describe: string
  /** Whether `name:tag` is in the registry. Throws when the registry cannot say (fail closed). */
  check(name: string, tag: string): Promise<CheckResult>
  /** Makes sure the repository for `name` exists before a push (ECR and Artifact Registry need it). */
  prepareRepository(name: string): Promise<{ immutable: boolean }>
  /** Logs docker in (into the job's DOCKER_CONFIG) right before a push; refreshes short-lived tokens. */
  loginForPush(configDir: string): Promise<void>
  /**
   * Credentials that may expire during a long build (a federated Google token). The image is then built into
   * the builder's cache first, and logged in and pushed from the cache afterwards with a fresh token.
   */
  readonly shortLivedCredentials?: boolean
  /** How to reach the registry's own API for tagging and deleting images (preview tags). */
  readonly api?: RegistryApi
}

/** The API behind a connection: the distribution API with credentials, or a cloud registry's own API. */
export type RegistryApi =
  | {
      kind: 'distribution'
      credentials: () => Promise<RegistryCredentials | undefined>
      /** ghcr.io: the GitHub Packages API, which deletes what the registry API refuses to. */
      githubPackages?: GitHubPackagesApi
    }
  | { kind: 'ecr'; ecr: EcrConnection; repository: (name: string) => string }
  | {
      kind: 'gar'
      session: ArSession
      target: (name: string) => GarImageTarget
      credentials: () => Promise<RegistryCredentials | undefined>
    }

/** Credentials a check can send directly, without waiting for `docker login`. */
export type CheckCredentials = RegistryCredentials | undefined
