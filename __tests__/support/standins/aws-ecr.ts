import { createHash } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { json, listen, randomToken, type Reply, type ListenOptions } from './http.js'

/**
 * Stand-in for Amazon ECR's JSON 1.1 API (`POST /`, `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op>`).
 * Point the SDK at it with `AWS_ENDPOINT_URL_ECR=<url>`. Every call must carry a SigV4 Authorization header;
 * `acceptCredentials` can insist on the keys another stand-in (STS) handed out.
 */

export interface EcrRepository {
  repositoryName: string
  imageTagMutability: string
  scanOnPush: boolean
  encryptionType: string
  kmsKey?: string
  tags: { Key: string; Value: string }[]
  lifecyclePolicyText?: string
}

export interface EcrFailure {
  code: string
  message: string
  status?: number
}

export interface EcrOptions {
  /** Address, port, TLS and name to serve on (see ListenOptions); default a free loopback port. */
  listen?: ListenOptions
  accountId?: string
  region?: string
  /** Password inside the authorization token (`AWS:<password>`); match it to a real htpasswd registry. */
  password?: string
  /** Repositories that exist from the start. */
  repositories?: Partial<EcrRepository>[]
  /** Images that exist: `repository:tag` -> digest. */
  images?: Record<string, string>
  /** Or decide per lookup: a digest means the image exists. Takes precedence over `images`. */
  findImage?: (repository: string, tag: string) => string | undefined
  /** Refuse SigV4 calls signed with other keys (e.g. only those STS issued). */
  acceptCredentials?: (accessKeyId: string, sessionToken: string | undefined) => boolean
  /** Most image ids ListImages returns per page (default 1000), to exercise pagination. */
  pageSize?: number
  /** Fail one operation (by name, e.g. `CreateRepository`) with an AWS error. */
  fail?: Partial<Record<string, EcrFailure>>
  /** Runs before each authenticated call is handled, e.g. to create a repository "from a parallel job". */
  onCall?: (
    call: EcrCall,
    state: { repositories: Map<string, EcrRepository>; images: Map<string, string> },
  ) => void
}

export interface EcrCall {
  operation: string
  input: Record<string, unknown>
  accessKeyId?: string
  /** SigV4 credential scope: region and service the SDK signed for. */
  scope?: { region: string; service: string }
  status?: number
  errorType?: string
}

export interface EcrStandIn {
  url: string
  calls: EcrCall[]
  repositories: Map<string, EcrRepository>
  images: Map<string, string>
  manifests: Map<string, { body: string; mediaType: string }>
  password: string
  close: () => Promise<void>
}

const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.'
const CONTENT_TYPE = 'application/x-amz-json-1.1'

export async function start(options: EcrOptions = {}): Promise<EcrStandIn> {
  const accountId = options.accountId ?? '123456789012'
  const region = options.region ?? 'us-east-1'
  const password = options.password ?? randomToken('ecr-pw-', 40)
  const repositories = new Map<string, EcrRepository>()
  for (const r of options.repositories ?? []) repositories.set(r.repositoryName ?? '', repository(r))
  const images = new Map(Object.entries(options.images ?? {}))
  // Manifests stored by PutImage, by digest; other images answer with manifestFor(digest).
  const manifests = new Map<string, { body: string; mediaType: string }>()
  const calls: EcrCall[] = []

  const server = await listen((req) => {
    const target = String(req.headers['x-amz-target'] ?? '')
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target
    const call: EcrCall = { operation, input: parseBody(req.body), ...signature(req.headers) }
    calls.push(call)
    const reply = handle(call, req.headers)
    call.status = reply.status
    if (reply.status >= 400) call.errorType = reply.headers?.['x-amzn-errortype']
    return reply
  }, options.listen)

  function handle(call: EcrCall, headers: IncomingHttpHeaders): Reply {
    if (!call.accessKeyId || !call.scope)
      return fail('MissingAuthenticationTokenException', 'Missing Authentication Token', 403)
    const token =
      typeof headers['x-amz-security-token'] === 'string' ? headers['x-amz-security-token'] : undefined
    if (options.acceptCredentials && !options.acceptCredentials(call.accessKeyId, token)) {
      return fail(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
        400,
      )
    }
    options.onCall?.(call, { repositories, images })
    const injected = options.fail?.[call.operation]
    if (injected) return fail(injected.code, injected.message, injected.status ?? 400)
    const op = operations[call.operation]
    return op ? op(call.input) : fail('UnknownOperationException', `Unknown operation ${call.operation}`)
  }

  const notFound = (name: string) =>
    fail(
      'RepositoryNotFoundException',
      `The repository with name '${name}' does not exist in the registry with id '${accountId}'`,
    )

  const describe = (r: EcrRepository) => ({
    registryId: accountId,
    repositoryName: r.repositoryName,
    repositoryArn: `arn:aws:ecr:${region}:${accountId}:repository/${r.repositoryName}`,
    repositoryUri: `${accountId}.dkr.ecr.${region}.amazonaws.com/${r.repositoryName}`,
    createdAt: 1767225600,
    imageTagMutability: r.imageTagMutability,
    imageScanningConfiguration: { scanOnPush: r.scanOnPush },
    encryptionConfiguration: { encryptionType: r.encryptionType, ...(r.kmsKey ? { kmsKey: r.kmsKey } : {}) },
  })

  const lookup = (name: string, tag: string) =>
    options.findImage ? options.findImage(name, tag) : images.get(`${name}:${tag}`)

  const operations: Record<string, (input: Record<string, unknown>) => Reply> = {
    GetAuthorizationToken: () =>
      ok({
        authorizationData: [
          {
            authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
            expiresAt: Math.floor(Date.now() / 1000) + 12 * 3600,
            proxyEndpoint: `https://${accountId}.dkr.ecr.${region}.amazonaws.com`,
          },
        ],
      }),
    CreateRepository: (input) => {
      const name = String(input.repositoryName ?? '')
      if (repositories.has(name)) {
        return fail(
          'RepositoryAlreadyExistsException',
          `The repository with name '${name}' already exists in the registry with id '${accountId}'`,
        )
      }
      const encryption = (input.encryptionConfiguration ?? {}) as { encryptionType?: string; kmsKey?: string }
      const created = repository({
        repositoryName: name,
        imageTagMutability:
          typeof input.imageTagMutability === 'string' ? input.imageTagMutability : undefined,
        scanOnPush: (input.imageScanningConfiguration as { scanOnPush?: boolean } | undefined)?.scanOnPush,
        encryptionType: encryption.encryptionType,
        kmsKey: encryption.kmsKey,
        tags: Array.isArray(input.tags) ? (input.tags as EcrRepository['tags']) : undefined,
      })
      repositories.set(name, created)
      return ok({ repository: describe(created) })
    },
    DescribeRepositories: (input) => {
      const names = Array.isArray(input.repositoryNames)
        ? input.repositoryNames.map(String)
        : [...repositories.keys()]
      const missing = names.find((n) => !repositories.has(n))
      if (missing !== undefined) return notFound(missing)
      return ok({ repositories: names.map((n) => describe(repositories.get(n) as EcrRepository)) })
    },
    PutLifecyclePolicy: (input) => {
      const name = String(input.repositoryName ?? '')
      const repo = repositories.get(name)
      if (!repo) return notFound(name)
      repo.lifecyclePolicyText = String(input.lifecyclePolicyText ?? '')
      return ok({
        registryId: accountId,
        repositoryName: name,
        lifecyclePolicyText: repo.lifecyclePolicyText,
      })
    },
    DescribeImages: (input) => {
      const name = String(input.repositoryName ?? '')
      if (!repositories.has(name)) return notFound(name)
      const ids = (Array.isArray(input.imageIds) ? input.imageIds : []) as { imageTag?: string }[]
      const details = []
      for (const id of ids) {
        const digest = lookup(name, id.imageTag ?? '')
        if (!digest) {
          return fail(
            'ImageNotFoundException',
            `The image with imageId {imageDigest:'null', imageTag:'${id.imageTag ?? ''}'} does not exist within ` +
              `the repository with name '${name}' in the registry with id '${accountId}'`,
          )
        }
        details.push({
          registryId: accountId,
          repositoryName: name,
          imageDigest: digest,
          imageTags: [id.imageTag],
        })
      }
      return ok({ imageDetails: details })
    },
    BatchGetImage: (input) => {
      const name = String(input.repositoryName ?? '')
      if (!repositories.has(name)) return notFound(name)
      const ids = (Array.isArray(input.imageIds) ? input.imageIds : []) as {
        imageTag?: string
        imageDigest?: string
      }[]
      const found = []
      const failures = []
      for (const id of ids) {
        const digest = id.imageDigest
          ? [...images].some(([k, d]) => k.startsWith(`${name}:`) && d === id.imageDigest)
            ? id.imageDigest
            : undefined
          : lookup(name, id.imageTag ?? '')
        if (digest)
          found.push({
            registryId: accountId,
            repositoryName: name,
            imageId: { imageDigest: digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) },
            imageManifest: manifests.get(digest)?.body ?? manifestFor(digest),
            imageManifestMediaType:
              manifests.get(digest)?.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
          })
        else
          failures.push({
            imageId: { imageTag: id.imageTag },
            failureCode: 'ImageNotFound',
            failureReason: 'Requested image not found',
          })
      }
      return ok({ images: found, failures })
    },
    PutImage: (input) => {
      const name = String(input.repositoryName ?? '')
      const repo = repositories.get(name)
      if (!repo) return notFound(name)
      const body = String(input.imageManifest ?? '')
      const mediaType = String(input.imageManifestMediaType ?? '')
      const digest = typeof input.imageDigest === 'string' ? input.imageDigest : digestOf(body)
      const known = manifests.get(digest)?.body ?? manifestFor(digest)
      if (body !== known && digestOf(body) !== digest) {
        return fail('InvalidParameterException', `The manifest does not match the digest ${digest}`)
      }
      const tag = String(input.imageTag ?? '')
      const key = `${name}:${tag}`
      const current = images.get(key)
      if (current === digest) {
        return fail(
          'ImageAlreadyExistsException',
          `Image with digest '${digest}' and tag '${tag}' already exists in the repository with name '${name}' in registry with id '${accountId}'`,
        )
      }
      if (current !== undefined && repo.imageTagMutability.startsWith('IMMUTABLE')) {
        return fail(
          'ImageTagAlreadyExistsException',
          `The image tag '${tag}' already exists in the '${name}' repository and cannot be overwritten because the repository is immutable.`,
        )
      }
      images.set(key, digest)
      if (!manifests.has(digest)) manifests.set(digest, { body, mediaType })
      return ok({
        image: {
          registryId: accountId,
          repositoryName: name,
          imageId: { imageDigest: digest, imageTag: tag },
          imageManifest: body,
          imageManifestMediaType: mediaType,
        },
      })
    },
    ListImages: (input) => {
      const name = String(input.repositoryName ?? '')
      if (!repositories.has(name)) return notFound(name)
      const all = [...images]
        .filter(([k]) => k.startsWith(`${name}:`))
        .map(([k, d]) => ({ imageTag: k.slice(name.length + 1), imageDigest: d }))
      const start = Number(input.nextToken ?? 0)
      const size = Math.min(Number(input.maxResults ?? 100), options.pageSize ?? 1000)
      const page = all.slice(start, start + size)
      return ok({ imageIds: page, ...(start + size < all.length ? { nextToken: String(start + size) } : {}) })
    },
    BatchDeleteImage: (input) => {
      const name = String(input.repositoryName ?? '')
      if (!repositories.has(name)) return notFound(name)
      const ids = (Array.isArray(input.imageIds) ? input.imageIds : []) as { imageTag?: string }[]
      const deleted = []
      const failures = []
      for (const id of ids) {
        const key = `${name}:${id.imageTag ?? ''}`
        const digest = images.get(key)
        if (digest) {
          images.delete(key)
          deleted.push({ imageDigest: digest, imageTag: id.imageTag })
        } else {
          failures.push({
            imageId: { imageTag: id.imageTag },
            failureCode: 'ImageNotFound',
            failureReason: 'Requested image not found',
          })
        }
      }
      return ok({ imageIds: deleted, failures })
    },
  }

  return { url: server.url, calls, repositories, images, manifests, password, close: server.close }
}

export function repository(r: Partial<EcrRepository>): EcrRepository {
  return {
    repositoryName: r.repositoryName ?? '',
    imageTagMutability: r.imageTagMutability ?? 'MUTABLE',
    scanOnPush: r.scanOnPush ?? false,
    encryptionType: r.encryptionType ?? 'AES256',
    kmsKey: r.kmsKey,
    tags: r.tags ?? [],
    lifecyclePolicyText: r.lifecyclePolicyText,
  }
}

function manifestFor(digest: string): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    annotations: { digest },
  })
}

function parseBody(body: string): Record<string, unknown> {
  if (!body) return {}
  const value: unknown = JSON.parse(body)
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}
}

/** The access key and credential scope of a SigV4 Authorization header. */
function signature(headers: IncomingHttpHeaders): Pick<EcrCall, 'accessKeyId' | 'scope'> {
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=[^,]+, ?Signature=[0-9a-f]{64}$/.exec(
      String(headers.authorization ?? ''),
    )
  if (!m?.[1] || !m[2] || !m[3]) return {}
  return { accessKeyId: m[1], scope: { region: m[2], service: m[3] } }
}

function ok(value: unknown): Reply {
  return json(200, value, CONTENT_TYPE)
}

function fail(type: string, message: string, status = 400): Reply {
  return {
    status,
    headers: { 'content-type': CONTENT_TYPE, 'x-amzn-errortype': type },
    body: JSON.stringify({ __type: type, message }),
  }
}

/** A registry-style digest for test images. */
export function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`
}
