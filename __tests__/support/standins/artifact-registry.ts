import { randomUUID } from 'node:crypto'
import { bearer, json, listen, type Reply, type ListenOptions } from './http.js'
import { apiError } from './gcp-iam-credentials.js'

/**
 * Stand-in for the Artifact Registry REST API (v1): repository get and create (a long-running operation),
 * operation polling, and a package's tags (create, get, list, delete). Pass its URL as the Artifact Registry
 * endpoint.
 */

export interface ArRepository {
  name: string
  format: string
  description?: string
  labels?: Record<string, string>
  dockerConfig?: { immutableTags?: boolean }
  kmsKeyName?: string
}

export interface ArtifactRegistryOptions {
  /** Address, port, TLS and name to serve on (see ListenOptions); default a free loopback port. */
  listen?: ListenOptions
  /** Bearer tokens it accepts (e.g. the tokens the Google stand-ins minted). */
  acceptToken?: (token: string) => boolean
  /** Repositories that exist from the start, by full name `projects/P/locations/L/repositories/R`. */
  repositories?: ArRepository[]
  /** Polls an operation needs before it reports done. */
  operationPolls?: number
  /**
   * Docker tags that exist from the start: full tag name (the package URL-encoded, as the API names it,
   * `projects/P/locations/L/repositories/R/packages/team%2Fapp/tags/TAG`) -> the version digest.
   */
  tags?: Record<string, string>
  /** Refuse calls: return an HTTP status + API status + message. */
  refuse?: (call: ArCall) => { code: number; status: string; message: string; reason?: string } | undefined
}

export interface ArCall {
  method: string
  path: string
  kind:
    | 'get-repository'
    | 'create-repository'
    | 'get-operation'
    | 'create-tag'
    | 'get-tag'
    | 'list-tags'
    | 'delete-tag'
    | 'unknown'
  repositoryId?: string
  /** Tag calls: the tag (decoded). */
  tag?: string
  body?: Record<string, unknown>
  bearer?: string
  status?: number
}

export interface ArtifactRegistryStandIn {
  url: string
  calls: ArCall[]
  repositories: Map<string, ArRepository>
  /** Live tags: full tag name -> version digest. */
  tags: Map<string, string>
  close: () => Promise<void>
}

const REPO = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/repositories\/[^/]+)$/
const REPOS = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+)\/repositories$/
const TAGS = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/repositories\/[^/]+\/packages\/[^/]+)\/tags$/
const TAG = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/repositories\/[^/]+\/packages\/[^/]+)\/tags\/([^/]+)$/
const OPERATION = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/operations\/[^/]+)$/

export async function start(options: ArtifactRegistryOptions = {}): Promise<ArtifactRegistryStandIn> {
  const calls: ArCall[] = []
  const repositories = new Map((options.repositories ?? []).map((r) => [r.name, r]))
  const operations = new Map<string, { polls: number; repository: ArRepository }>()
  const tags = new Map(Object.entries(options.tags ?? {}))

  const server = await listen((req) => {
    const call: ArCall = {
      method: req.method,
      path: req.path,
      kind: kindOf(req.method, req.path),
      bearer: bearer(req.headers),
    }
    if (call.kind === 'create-repository') {
      call.repositoryId = req.query.get('repositoryId') ?? undefined
      call.body = req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {}
    }
    if (call.kind === 'create-tag') {
      call.tag = req.query.get('tagId') ?? undefined
      call.body = req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {}
    }
    if (call.kind === 'get-tag' || call.kind === 'delete-tag')
      call.tag = decodeURIComponent(TAG.exec(call.path)?.[2] ?? '')
    calls.push(call)
    const reply = answer(call, req.query)
    call.status = reply.status
    return reply
  }, options.listen)

  function answer(call: ArCall, query: URLSearchParams): Reply {
    if (!call.bearer || (options.acceptToken && !options.acceptToken(call.bearer))) {
      return apiError(
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token.',
      )
    }
    const refused = options.refuse?.(call)
    if (refused) return apiError(refused.code, refused.status, refused.message, refused.reason)
    if (call.kind === 'get-repository') return getRepository(REPO.exec(call.path)?.[1] ?? '')
    if (call.kind === 'create-repository') return createRepository(REPOS.exec(call.path)?.[1] ?? '', call)
    if (call.kind === 'get-operation') return getOperation(OPERATION.exec(call.path)?.[1] ?? '')
    if (call.kind === 'list-tags') {
      const pageSize = Math.min(Number(query.get('pageSize') ?? 100) || 100, 1000)
      return listTags(TAGS.exec(call.path)?.[1] ?? '', pageSize, query.get('pageToken') ?? '')
    }
    if (call.kind === 'create-tag') return createTag(TAGS.exec(call.path)?.[1] ?? '', call)
    if (call.kind === 'get-tag' || call.kind === 'delete-tag') {
      const m = TAG.exec(call.path)
      const name = `${m?.[1] ?? ''}/tags/${m?.[2] ?? ''}`
      const version = tags.get(name)
      if (version === undefined) return apiError(404, 'NOT_FOUND', `Requested entity was not found.`)
      if (call.kind === 'delete-tag') {
        tags.delete(name)
        return json(200, {})
      }
      return json(200, tagResource(name, version))
    }
    return apiError(404, 'NOT_FOUND', 'Not found')
  }

  function tagResource(name: string, version: string) {
    return { name, version: `${name.replace(/\/tags\/[^/]+$/, '')}/versions/${version}` }
  }

  function createTag(pkg: string, call: ArCall): Reply {
    if (!call.tag) return apiError(400, 'INVALID_ARGUMENT', 'tag_id is required')
    const name = `${pkg}/tags/${encodeURIComponent(call.tag)}`
    if (tags.has(name)) return apiError(409, 'ALREADY_EXISTS', 'the tag already exists')
    const version = String(call.body?.version ?? '')
      .split('/versions/')
      .at(-1)
    if (!version) return apiError(400, 'INVALID_ARGUMENT', 'version is required')
    tags.set(name, version)
    return json(200, tagResource(name, version))
  }

  function listTags(pkg: string, pageSize: number, pageToken: string): Reply {
    const all = [...tags].filter(([name]) => name.startsWith(`${pkg}/tags/`))
    const start = Number(pageToken || 0)
    const page = all.slice(start, start + pageSize)
    const next = start + pageSize < all.length ? String(start + pageSize) : undefined
    return json(200, {
      tags: page.map(([name, version]) => tagResource(name, version)),
      ...(next ? { nextPageToken: next } : {}),
    })
  }

  function getRepository(name: string): Reply {
    const repo = repositories.get(name)
    return repo ? json(200, repo) : apiError(404, 'NOT_FOUND', `Requested entity was not found.`)
  }

  function createRepository(parent: string, call: ArCall): Reply {
    const name = `${parent}/repositories/${call.repositoryId ?? ''}`
    if (!call.repositoryId) return apiError(400, 'INVALID_ARGUMENT', 'repository_id is required')
    if (repositories.has(name)) return apiError(409, 'ALREADY_EXISTS', 'the repository already exists')
    const body = call.body ?? {}
    const repository: ArRepository = {
      name,
      format: String(body.format ?? 'FORMAT_UNSPECIFIED'),
      ...(body.description ? { description: String(body.description) } : {}),
      ...(body.labels ? { labels: body.labels as Record<string, string> } : {}),
      ...(body.dockerConfig ? { dockerConfig: body.dockerConfig as ArRepository['dockerConfig'] } : {}),
    }
    repositories.set(name, repository)
    const opName = `${parent}/operations/${randomUUID()}`
    operations.set(opName, { polls: 0, repository })
    return operationReply(opName, (options.operationPolls ?? 1) === 0)
  }

  function getOperation(name: string): Reply {
    const op = operations.get(name)
    if (!op) return apiError(404, 'NOT_FOUND', 'operation not found')
    op.polls++
    return operationReply(name, op.polls >= (options.operationPolls ?? 1), op.repository)
  }

  return { url: server.url, calls, repositories, tags, close: server.close }
}

function operationReply(name: string, done: boolean, repository?: ArRepository): Reply {
  return json(200, {
    name,
    metadata: { '@type': 'type.googleapis.com/google.devtools.artifactregistry.v1.OperationMetadata' },
    done,
    ...(done && repository
      ? {
          response: {
            '@type': 'type.googleapis.com/google.devtools.artifactregistry.v1.Repository',
            ...repository,
          },
        }
      : {}),
  })
}

function kindOf(method: string, path: string): ArCall['kind'] {
  if (method === 'GET' && REPO.test(path)) return 'get-repository'
  if (method === 'POST' && REPOS.test(path)) return 'create-repository'
  if (method === 'GET' && OPERATION.test(path)) return 'get-operation'
  if (method === 'POST' && TAGS.test(path)) return 'create-tag'
  if (method === 'GET' && TAGS.test(path)) return 'list-tags'
  if (method === 'GET' && TAG.test(path)) return 'get-tag'
  if (method === 'DELETE' && TAG.test(path)) return 'delete-tag'
  return 'unknown'
}
