/**
 * One interface over the ways to tag and untag images: the distribution API (any registry, GHCR, Artifact
 * Registry's docker endpoint), ECR's API, Artifact Registry's REST API and, to delete on ghcr.io, the GitHub
 * Packages API. Cleanup differs in one point, which `deletesByDigest` states: the distribution API (and a GHCR
 * package version) can only delete a manifest, and with it every tag on it.
 */
import type { RegistryApi } from '../connections/connection.js'
import type { Logger } from '../log.js'
import type { RegistryCredentials } from '../registry/docker-config.js'
import { ActionError } from '../errors.js'
import { parseReference } from '../registry/reference.js'
import { DistributionClient } from './distribution.js'
import {
  DEFAULT_GITHUB_API_URL,
  GhcrPackages,
  ghcrPackageOf,
  type PackageVersion,
} from '../cloud/github-packages.js'

export type AddOutcome = 'tagged' | 'already-tagged' | 'immutable-elsewhere'

export interface TagStore {
  /** True when deleting a tag deletes the image (and every other tag on it). */
  readonly deletesByDigest: boolean
  /** Points `name:tag` at the image `digest` already in the registry: no build, no layer upload. */
  addTag(name: string, digest: string, tag: string): Promise<AddOutcome>
  /** Tags of the repository, each with the digest it points at. */
  listTags(name: string): Promise<Map<string, string>>
  /** Deletes tags (by digest when `deletesByDigest`). Already gone is success. */
  deleteTags(name: string, digest: string, tags: readonly string[]): Promise<'deleted' | 'gone'>
}

export function tagStore(registry: string, api: RegistryApi, logger: Logger): TagStore {
  switch (api.kind) {
    case 'ecr':
      return ecrStore(api)
    case 'gar':
      return garStore(registry, api, logger)
    case 'distribution':
      return repositoryOf(registry, 'x').host === 'ghcr.io'
        ? ghcrStore(registry, api, logger)
        : distributionStore(registry, api.credentials, logger)
  }
}

function repositoryOf(registry: string, name: string): { host: string; repository: string } {
  const ref = parseReference(`${registry}/${name}`)
  return { host: ref.registry, repository: ref.repository }
}

function distributionStore(
  registry: string,
  credentials: () => Promise<RegistryCredentials | undefined>,
  logger: Logger,
): TagStore & { client: DistributionClient } {
  const host = repositoryOf(registry, 'x').host
  const client = new DistributionClient(host, { credentials, logger })
  const repo = (name: string) => repositoryOf(registry, name).repository
  return {
    client,
    deletesByDigest: true,
    addTag: async (name, digest, tag) => {
      const repository = repo(name)
      const manifest = await client.getManifest(repository, digest)
      if (!manifest)
        throw new ActionError(`${host}/${repository}@${digest} is not in the registry; cannot tag it ${tag}`)
      if ((await client.tagDigest(repository, tag)) === digest) return 'already-tagged'
      await client.putManifest(repository, tag, manifest)
      return 'tagged'
    },
    listTags: async (name) => {
      const repository = repo(name)
      const out = new Map<string, string>()
      for (const tag of await client.listTags(repository)) {
        const digest = await client.tagDigest(repository, tag)
        if (digest) out.set(tag, digest)
      }
      return out
    },
    deleteTags: (name, digest) => client.deleteManifest(repo(name), digest),
  }
}

function ecrStore(api: Extract<RegistryApi, { kind: 'ecr' }>): TagStore {
  const mod = () => import('./ecr-tags.js')
  return {
    deletesByDigest: false,
    addTag: async (name, digest, tag) =>
      (await mod()).tagEcrImage(api.ecr, api.repository(name), digest, tag),
    listTags: async (name) => (await mod()).listEcrTags(api.ecr, api.repository(name)),
    deleteTags: async (name, _digest, tags) => {
      const r = await (await mod()).deleteEcrTags(api.ecr, api.repository(name), tags)
      return r.deleted.length > 0 ? 'deleted' : 'gone'
    },
  }
}

function garStore(registry: string, api: Extract<RegistryApi, { kind: 'gar' }>, logger: Logger): TagStore {
  const viaRegistry = distributionStore(registry, api.credentials, logger)
  return {
    deletesByDigest: false,
    addTag: viaRegistry.addTag,
    listTags: viaRegistry.listTags,
    deleteTags: async (name, _digest, tags) => {
      const { deleteGarTag } = await import('./gar-tags.js')
      let deleted = false
      for (const tag of tags)
        if ((await deleteGarTag(api.session, api.target(name), tag)) === 'deleted') deleted = true
      return deleted ? 'deleted' : 'gone'
    },
  }
}

/**
 * ghcr.io: tags are added through the distribution API (PUT manifest works there), but ghcr.io refuses manifest
 * DELETE, so tags are listed and images deleted through the GitHub Packages API, one package version per image.
 */
function ghcrStore(
  registry: string,
  api: Extract<RegistryApi, { kind: 'distribution' }>,
  logger: Logger,
): TagStore {
  const viaRegistry = distributionStore(registry, api.credentials, logger)
  const githubApi = api.githubPackages ?? { apiUrl: DEFAULT_GITHUB_API_URL, token: '' }
  const packages = new Map<string, GhcrPackages>()
  const listed = new Map<string, PackageVersion[]>()
  const packageOf = (name: string) => {
    const existing = packages.get(name)
    if (existing) return existing
    const { owner, packageName } = ghcrPackageOf(repositoryOf(registry, name).repository)
    const created = new GhcrPackages(githubApi, owner, packageName)
    packages.set(name, created)
    return created
  }
  return {
    deletesByDigest: true,
    addTag: viaRegistry.addTag,
    listTags: async (name) => {
      const versions = await packageOf(name).listVersions()
      listed.set(name, versions)
      const out = new Map<string, string>()
      for (const v of versions) for (const tag of v.tags) out.set(tag, v.digest)
      return out
    },
    deleteTags: async (name, digest, tags) => {
      const pkg = packageOf(name)
      const versions = listed.get(name) ?? (await pkg.listVersions())
      const version = versions.find((v) => v.digest === digest)
      if (!version) return 'gone'
      const others = version.tags.filter((t) => !tags.includes(t))
      if (others.length > 0) {
        throw new ActionError(
          `Not deleting ${registry}/${name}@${digest}: the package version is also tagged ${others.join(', ')}.`,
        )
      }
      return pkg.deleteVersion(version.id)
    },
  }
}
