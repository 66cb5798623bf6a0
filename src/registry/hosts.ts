import { InputError } from '../errors.js'
import { CREDENTIALS_IN_REGISTRY, hasCredentials } from '../plan/reference.js'

/**
 * Classifies a registry string (`host[/path]`) so the action knows which cloud credentials it needs and how the
 * cloud APIs name the repository. Pure: no I/O, no SDKs, safe on the start-up path.
 */

export type AwsPartition = 'aws' | 'aws-cn' | 'aws-us-gov' | 'aws-eusc'

export interface EcrRegistry {
  kind: 'ecr'
  host: string
  /** Path after the host, without leading or trailing slashes; '' when none. */
  path: string
  accountId: string
  region: string
  partition: AwsPartition
  /** `dkr.ecr-fips.` / `dkr-ecr-fips.` hosts: the API calls must go to the FIPS endpoints too. */
  fips: boolean
  /** `dkr-ecr.REGION.on.aws` hosts: IPv6-capable endpoints. */
  dualStack: boolean
}

export interface EcrPublicRegistry {
  kind: 'ecr-public'
  host: string
  path: string
  /** ECR Public's API lives only in us-east-1, whatever region the job runs in. */
  region: 'us-east-1'
}

export interface GarRegistry {
  kind: 'gar'
  host: string
  path: string
  /** `us-east1`, `europe`, ... : the part before `-docker.pkg.dev`. */
  location: string
  /**
   * The project and Artifact Registry repository: the first two path segments. Absent when the registry string
   * stops early (the image name may then supply them; see `garImageTarget`).
   */
  project?: string
  repository?: string
  /** Path segments after the repository, '' when none; part of the docker image path, not of the repository. */
  extraPath: string
}

export interface OtherRegistry {
  kind: 'ghcr' | 'dockerhub' | 'other'
  host: string
  path: string
}

export type ParsedRegistry = EcrRegistry | EcrPublicRegistry | GarRegistry | OtherRegistry

const DOCKER_HUB_HOSTS = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
])

/**
 * ECR private hosts, as AWS documents them:
 *   ACCOUNT.dkr.ecr.REGION.amazonaws.com        (commercial, GovCloud)
 *   ACCOUNT.dkr.ecr.REGION.amazonaws.com.cn     (China)
 *   ACCOUNT.dkr.ecr-fips.REGION.amazonaws.com   (FIPS)
 *   ACCOUNT.dkr.ecr.REGION.amazonaws.eu         (European Sovereign Cloud)
 *   ACCOUNT.dkr-ecr[-fips].REGION.on.aws        (dual-stack)
 *   ACCOUNT.dkr-ecr.REGION.on.amazonwebservices.com.cn (China dual-stack)
 */
const ECR_HOST =
  /^(?<account>\d{12})\.(?<service>dkr\.ecr|dkr\.ecr-fips|dkr-ecr|dkr-ecr-fips)\.(?<region>[a-z]{2,}(?:-[a-z]+)+-\d+)\.(?<suffix>amazonaws\.com|amazonaws\.com\.cn|amazonaws\.eu|on\.aws|on\.amazonwebservices\.com\.cn)$/

const GAR_HOST = /^(?<location>[a-z][a-z0-9-]*[a-z0-9])-docker\.pkg\.dev$/

export function parseRegistry(registry: string): ParsedRegistry {
  const { host, path } = splitRegistry(registry)
  return parseEcr(host, path) ?? parseGar(host, path) ?? parseByHost(host, path)
}

/** Splits `[scheme://]host[/path][/]` into a lower-cased host and a path without outer slashes. */
export function splitRegistry(registry: string): { host: string; path: string } {
  // Said without the value: a `user:password@` in it is not masked by anything.
  if (hasCredentials(registry)) throw new InputError('registry', CREDENTIALS_IN_REGISTRY)
  const trimmed = registry
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/+$/, '')
  if (!trimmed) throw new InputError('registry', 'is empty; give a registry host such as ghcr.io/OWNER.')
  const slash = trimmed.indexOf('/')
  const first = slash < 0 ? trimmed : trimmed.slice(0, slash)
  const rest = slash < 0 ? '' : trimmed.slice(slash + 1)
  // Docker's own rule: the first component is a host only if it has a dot, a port or is localhost; otherwise the
  // whole string is a Docker Hub namespace (`myorg` means docker.io/myorg).
  if (!/[.:]/.test(first) && first.toLowerCase() !== 'localhost') {
    return { host: 'docker.io', path: trimmed }
  }
  return { host: first.toLowerCase(), path: rest.replace(/^\/+/, '') }
}

function parseEcr(host: string, path: string): EcrRegistry | undefined {
  const m = ECR_HOST.exec(host)?.groups
  if (!m?.account || !m.service || !m.region || !m.suffix) return undefined
  return {
    kind: 'ecr',
    host,
    path,
    accountId: m.account,
    region: m.region,
    partition: partitionOf(m.region, m.suffix),
    fips: m.service.endsWith('-fips'),
    dualStack: m.service.startsWith('dkr-ecr'),
  }
}

function partitionOf(region: string, suffix: string): AwsPartition {
  if (suffix.endsWith('.cn')) return 'aws-cn'
  if (suffix === 'amazonaws.eu') return 'aws-eusc'
  if (region.startsWith('us-gov-')) return 'aws-us-gov'
  return 'aws'
}

function parseGar(host: string, path: string): GarRegistry | undefined {
  const location = GAR_HOST.exec(host)?.groups?.location
  if (!location) return undefined
  const [project, repository, ...more] = path.split('/').filter(Boolean)
  return { kind: 'gar', host, path, location, project, repository, extraPath: more.join('/') }
}

function parseByHost(host: string, path: string): ParsedRegistry {
  if (host === 'public.ecr.aws') return { kind: 'ecr-public', host, path, region: 'us-east-1' }
  if (host === 'ghcr.io') return { kind: 'ghcr', host, path }
  if (DOCKER_HUB_HOSTS.has(host)) return { kind: 'dockerhub', host: 'docker.io', path }
  return { kind: 'other', host, path }
}

/** Joins non-empty path parts with `/`. */
function joinPath(...parts: string[]): string {
  return parts.filter(Boolean).join('/')
}

/**
 * The ECR repository that holds `name` pushed under `registry`: everything after the host plus the image name
 * (registry `….amazonaws.com/team`, name `app` -> `team/app`). ECR has no namespaces separate from the name.
 */
export function ecrRepositoryName(registry: EcrRegistry | EcrPublicRegistry, imageName: string): string {
  if (registry.kind === 'ecr-public') {
    // The first path segment of public.ecr.aws is the registry alias, not part of the repository name.
    const [, ...rest] = registry.path.split('/').filter(Boolean)
    return joinPath(...rest, trimSlashes(imageName))
  }
  return joinPath(registry.path, trimSlashes(imageName))
}

/** The ECR Public registry alias (first path segment), if the registry names one. */
export function ecrPublicAlias(registry: EcrPublicRegistry): string | undefined {
  return registry.path.split('/').find(Boolean)
}

export interface GarImageTarget {
  project: string
  location: string
  /** The Artifact Registry repository (third segment of the full image path). */
  repository: string
  /** The docker image path inside that repository: the rest of the path plus the image name. */
  imagePath: string
}

/**
 * Where `imageName` pushed under `registry` lands in Artifact Registry. The full image path is
 * `HOST/PROJECT/REPOSITORY/IMAGE...`; registry `…/proj/repo/team` with name `app` gives repository `repo` and
 * image path `team/app`. The split is done on the joined path so `…/proj` + `repo/app` works as well.
 */
export function garImageTarget(registry: GarRegistry, imageName: string): GarImageTarget {
  const [project, repository, ...rest] = joinPath(registry.path, trimSlashes(imageName))
    .split('/')
    .filter(Boolean)
  if (!project || !repository || rest.length === 0) {
    throw new InputError(
      'registry',
      `'${joinPath(registry.host, registry.path)}' with image '${imageName}' is not a complete Artifact Registry ` +
        `image path: images there are ${registry.host}/PROJECT_ID/REPOSITORY/IMAGE, so set the registry to ` +
        `${registry.host}/PROJECT_ID/REPOSITORY (a Docker-format Artifact Registry repository).`,
    )
  }
  return { project, location: registry.location, repository, imagePath: rest.join('/') }
}

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, '')
}
