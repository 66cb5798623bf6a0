import type { BaseExternalAccountClient } from 'google-auth-library'
import { ActionError, InputError } from '../../errors.js'
import { NullLogger, type Logger } from '../../log.js'
import { realSleep, type Sleep } from '../types.js'
import type { GcpSession } from './credentials.js'
import { googleErrorInfo, type GoogleErrorInfo } from './errors.js'

export interface GarRepositoryRef {
  /** Project ID (as in the docker path), not the number. */
  project: string
  location: string
  repository: string
}

export interface EnsureGarRepositoryOptions {
  /** Only used when the repository is created. */
  immutableTags?: boolean
  description?: string
  labels?: Record<string, string>
  /** Customer-managed encryption key; only used when the repository is created. */
  kmsKeyName?: string
  logger?: Logger
  sleep?: Sleep
  /** How long to wait for the create operation, default 60 s. */
  timeoutMs?: number
}

export interface EnsureGarRepositoryResult {
  created: boolean
  /** Tags cannot be moved: re-pushing an existing tag fails. */
  immutable: boolean
}

/** What the module needs from a session: the authorized client, the endpoint, and who it acts as (for errors). */
export type ArSession = Pick<GcpSession, 'endpoints' | 'serviceAccount' | 'provider'> & {
  client: Pick<BaseExternalAccountClient, 'request'>
}

interface Repository {
  name?: string
  format?: string
  dockerConfig?: { immutableTags?: boolean }
}

interface Operation {
  name?: string
  done?: boolean
  error?: { code?: number; message?: string }
}

/**
 * Makes sure a Docker-format Artifact Registry repository exists. Looks it up first, so the common case needs
 * only read access; creates it otherwise and waits for the operation; ALREADY_EXISTS (a parallel job won the
 * race) counts as success.
 */
export async function ensureGarRepository(
  session: ArSession,
  ref: GarRepositoryRef,
  options: EnsureGarRepositoryOptions = {},
): Promise<EnsureGarRepositoryResult> {
  const logger = options.logger ?? new NullLogger()
  const existing = await getRepository(session, ref)
  if (existing) return { created: false, immutable: checkFormat(existing, ref) }
  const created = await createRepository(session, ref, options)
  if (!created) {
    logger.info(`Artifact Registry repository ${ref.repository} was created by another job`)
    const repo = await getRepository(session, ref)
    return { created: false, immutable: repo ? checkFormat(repo, ref) : false }
  }
  logger.info(`Created Artifact Registry repository ${repositoryName(ref)}`)
  return { created: true, immutable: options.immutableTags ?? false }
}

function parent(ref: GarRepositoryRef): string {
  return `projects/${ref.project}/locations/${ref.location}`
}

function repositoryName(ref: GarRepositoryRef): string {
  return `${parent(ref)}/repositories/${ref.repository}`
}

function checkFormat(repo: Repository, ref: GarRepositoryRef): boolean {
  if (repo.format && repo.format !== 'DOCKER') {
    throw new ActionError(
      `Artifact Registry repository ${repositoryName(ref)} has format ${repo.format}; container images need a ` +
        'DOCKER repository. Point the registry at a Docker-format repository.',
    )
  }
  return repo.dockerConfig?.immutableTags === true
}

async function getRepository(session: ArSession, ref: GarRepositoryRef): Promise<Repository | undefined> {
  try {
    const res = await session.client.request<Repository>({
      url: `${session.endpoints.artifactRegistry}/v1/${repositoryName(ref)}`,
      method: 'GET',
      responseType: 'json',
      retry: true,
    })
    return res.data
  } catch (error) {
    const info = googleErrorInfo(error)
    if (info.status === 404) return undefined
    throw arError(info, session, ref, 'look up', 'artifactregistry.repositories.get')
  }
}

/** True when this call created it, false when it already existed. */
async function createRepository(
  session: ArSession,
  ref: GarRepositoryRef,
  o: EnsureGarRepositoryOptions,
): Promise<boolean> {
  let operation: Operation
  try {
    const res = await session.client.request<Operation>({
      url: `${session.endpoints.artifactRegistry}/v1/${parent(ref)}/repositories?repositoryId=${encodeURIComponent(ref.repository)}`,
      method: 'POST',
      responseType: 'json',
      data: {
        format: 'DOCKER',
        ...(o.description ? { description: o.description } : {}),
        ...(o.labels ? { labels: o.labels } : {}),
        ...(o.kmsKeyName ? { kmsKeyName: o.kmsKeyName } : {}),
        ...(o.immutableTags !== undefined ? { dockerConfig: { immutableTags: o.immutableTags } } : {}),
      },
    })
    operation = res.data
  } catch (error) {
    const info = googleErrorInfo(error)
    if (info.status === 409 || info.apiStatus === 'ALREADY_EXISTS') return false
    throw arError(info, session, ref, 'create', 'artifactregistry.repositories.create')
  }
  await waitForOperation(session, operation, ref, o)
  return true
}

async function waitForOperation(
  session: ArSession,
  first: Operation,
  ref: GarRepositoryRef,
  o: EnsureGarRepositoryOptions,
): Promise<void> {
  const sleep = o.sleep ?? realSleep
  const timeout = o.timeoutMs ?? 60_000
  let op = first
  // The budget counts time spent waiting between polls, so it does not depend on the wall clock.
  let waited = 0
  for (let delay = 250; !op.done; delay = Math.min(delay * 2, 5000)) {
    if (!op.name || waited + delay > timeout) {
      throw new ActionError(
        `Creating Artifact Registry repository ${repositoryName(ref)} did not finish in time.`,
      )
    }
    await sleep(delay)
    waited += delay
    try {
      op = (
        await session.client.request<Operation>({
          url: `${session.endpoints.artifactRegistry}/v1/${op.name}`,
          method: 'GET',
          responseType: 'json',
          retry: true,
        })
      ).data
    } catch (error) {
      throw arError(googleErrorInfo(error), session, ref, 'create', 'artifactregistry.repositories.create')
    }
  }
  if (op.error) {
    throw new ActionError(
      `Creating Artifact Registry repository ${repositoryName(ref)} failed: ${op.error.message ?? 'unknown error'}.`,
    )
  }
}

function identity(session: ArSession): string {
  if (session.serviceAccount) return `serviceAccount:${session.serviceAccount}`
  const p = session.provider
  return `principalSet://iam.googleapis.com/projects/${p.projectNumber}/locations/global/workloadIdentityPools/${p.pool}/attribute.repository/OWNER/REPO`
}

function arError(
  info: GoogleErrorInfo,
  session: ArSession,
  ref: GarRepositoryRef,
  doing: 'look up' | 'create',
  permission: string,
): ActionError {
  const what = `Artifact Registry repository ${repositoryName(ref)}`
  const reason = info.apiStatus ? `${info.apiStatus}: ${info.message}` : info.message
  const numberHint = /^\d+$/.test(ref.project)
    ? ` '${ref.project}' looks like a project number; Artifact Registry image paths use the project ID ` +
      `(LOCATION-docker.pkg.dev/PROJECT_ID/REPOSITORY).`
    : ''
  if (
    info.reasons.includes('SERVICE_DISABLED') ||
    /has not been used in project|is disabled/i.test(info.message)
  ) {
    return new ActionError(
      `Could not ${doing} ${what} because the Artifact Registry API is not enabled (${reason}). Enable it: ` +
        `gcloud services enable artifactregistry.googleapis.com --project=${ref.project}`,
    )
  }
  if (info.status === 403) {
    const fix =
      doing === 'create'
        ? ` Grant ${identity(session)} a role with ${permission} on project ${ref.project} (e.g. ` +
          `roles/artifactregistry.admin), or set 'create-repository: false' and create it once: gcloud artifacts ` +
          `repositories create ${ref.repository} --repository-format=docker --location=${ref.location} ` +
          `--project=${ref.project}`
        : ` Grant ${identity(session)} ${permission} (roles/artifactregistry.reader or writer) on it, and check ` +
          `that project '${ref.project}' exists.`
    return new ActionError(`Not allowed to ${doing} ${what} (${reason}).${fix}${numberHint}`)
  }
  if (info.status === 400) return new InputError('registry', `Artifact Registry refused ${what} (${reason}).`)
  if (info.status === 404)
    return new ActionError(
      `Could not ${doing} ${what}: project or location not found (${reason}).${numberHint}`,
    )
  return new ActionError(`Could not ${doing} ${what} (${reason}).`)
}
