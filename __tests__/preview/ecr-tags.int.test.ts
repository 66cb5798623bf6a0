import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import type { RegistryConnection } from '../../src/connections/connection.js'
import { connectEcr } from '../../src/cloud/aws/ecr.js'
import { ecrRepositoryName, parseRegistry, type EcrRegistry } from '../../src/registry/hosts.js'
import { MemoryLogger } from '../../src/log.js'
import { addImageTags } from '../../src/preview/apply-tags.js'
import { cleanupRepository } from '../../src/preview/cleanup.js'
import { previewTagMatcher } from '../../src/preview/tags.js'
import * as awsEcr from '../support/standins/aws-ecr.js'

// The real AWS SDK (SigV4, JSON 1.1) against the ECR stand-in: BatchGetImage + PutImage to tag, ListImages +
// BatchDeleteImage to clean up.

const REGISTRY = '123456789012.dkr.ecr.us-west-2.amazonaws.com/team'
const FLYTE = 'Ab3xQ9cV1s2d4f5g6h7j8k'
const IMAGE = awsEcr.digestOf('the image')
const OTHER = awsEcr.digestOf('another image')
const saved = { ...process.env }
let ecr: awsEcr.EcrStandIn

function connection(): RegistryConnection {
  const parsed = parseRegistry(REGISTRY) as EcrRegistry
  const client = connectEcr(parsed, {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'secret',
    source: 'default-chain',
  })
  return {
    registry: REGISTRY,
    describe: 'ECR stand-in',
    api: { kind: 'ecr', ecr: client, repository: (name) => ecrRepositoryName(parsed, name) },
    check: async () => ({ exists: false }),
    prepareRepository: async () => ({ immutable: false }),
    loginForPush: async () => {},
  }
}

async function startEcr(mutability: string, images: Record<string, string>): Promise<void> {
  ecr = await awsEcr.start({
    region: 'us-west-2',
    repositories: [{ repositoryName: 'team/app', imageTagMutability: mutability }],
    images,
    pageSize: 2,
  })
  process.env.AWS_ENDPOINT_URL_ECR = ecr.url
}

beforeEach(() => {
  for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key]
})
afterEach(async () => {
  process.env = { ...saved }
  await ecr?.close()
})

const image = { registry: REGISTRY, name: 'app', flytekitImage: `${REGISTRY}/app:${FLYTE}`, digest: IMAGE }

describe('preview tags on ECR', () => {
  test.each(['MUTABLE', 'IMMUTABLE'])(
    '%s: new tags are added with PutImage, copying the manifest BatchGetImage returned',
    async (mutability) => {
      await startEcr(mutability, { [`team/app:${FLYTE}`]: IMAGE })
      const refs = await addImageTags(
        image,
        { preview: ['pr-5', 'pr-5-abcdef1'], extra: [] },
        connection(),
        new MemoryLogger(),
      )
      expect(refs).toEqual({
        tags: [`${REGISTRY}/app:${FLYTE}`, `${REGISTRY}/app:pr-5`, `${REGISTRY}/app:pr-5-abcdef1`],
        preview: [`${REGISTRY}/app:pr-5`, `${REGISTRY}/app:pr-5-abcdef1`],
      })
      expect(ecr.images.get('team/app:pr-5')).toBe(IMAGE)
      expect(ecr.images.get('team/app:pr-5-abcdef1')).toBe(IMAGE)
      const puts = ecr.calls.filter((c) => c.operation === 'PutImage')
      expect(puts.map((c) => c.input)).toEqual(
        ['pr-5', 'pr-5-abcdef1'].map((imageTag) => ({
          registryId: '123456789012',
          repositoryName: 'team/app',
          imageManifest: JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            annotations: { digest: IMAGE },
          }),
          imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
          imageDigest: IMAGE,
          imageTag,
        })),
      )
      expect(ecr.calls.every((c) => c.scope?.service === 'ecr' && c.scope.region === 'us-west-2')).toBe(true)
    },
  )

  test('an identical existing tag is success (ImageAlreadyExistsException), also on IMMUTABLE', async () => {
    await startEcr('IMMUTABLE', { [`team/app:${FLYTE}`]: IMAGE, 'team/app:pr-5': IMAGE })
    const refs = await addImageTags(image, { preview: ['pr-5'], extra: [] }, connection(), new MemoryLogger())
    expect(refs.preview).toEqual([`${REGISTRY}/app:pr-5`])
    expect(ecr.calls.filter((c) => c.operation === 'PutImage').map((c) => c.errorType)).toEqual([
      'ImageAlreadyExistsException',
    ])
  })

  test('IMMUTABLE: a tag that names another image stays, with a warning', async () => {
    await startEcr('IMMUTABLE', { [`team/app:${FLYTE}`]: IMAGE, 'team/app:pr-5': OTHER })
    const logger = new MemoryLogger()
    const refs = await addImageTags(
      image,
      { preview: ['pr-5', 'pr-5-1234567'], extra: [] },
      connection(),
      logger,
    )
    expect(refs.preview).toEqual([`${REGISTRY}/app:pr-5-1234567`])
    expect(ecr.images.get('team/app:pr-5')).toBe(OTHER)
    expect(JSON.stringify(logger)).toContain('IMMUTABLE')
  })

  test('cleanup deletes exactly the pull request tags with BatchDeleteImage, across ListImages pages', async () => {
    await startEcr('MUTABLE', {
      [`team/app:${FLYTE}`]: IMAGE,
      'team/app:pr-5': IMAGE,
      'team/app:pr-5-abcdef1': IMAGE,
      'team/app:pr-5-9999999': OTHER,
      'team/app:pr-50': OTHER,
      'team/app:latest': OTHER,
    })
    const report = await cleanupRepository(
      { registry: REGISTRY, name: 'app' },
      previewTagMatcher([], 5),
      connection(),
      false,
      new MemoryLogger(),
    )
    expect([...ecr.images.keys()].sort()).toEqual([`team/app:${FLYTE}`, 'team/app:latest', 'team/app:pr-50'])
    expect(report.kept).toEqual([])
    expect(report.deleted.flatMap((g) => g.tags).sort()).toEqual(['pr-5', 'pr-5-9999999', 'pr-5-abcdef1'])
    expect(ecr.calls.filter((c) => c.operation === 'ListImages')).toHaveLength(3)
    const deletes = ecr.calls.filter((c) => c.operation === 'BatchDeleteImage')
    expect(
      deletes.flatMap((c) => (c.input.imageIds as { imageTag: string }[]).map((i) => i.imageTag)).sort(),
    ).toEqual(['pr-5', 'pr-5-9999999', 'pr-5-abcdef1'])
  })

  test('dry run deletes nothing; a tag already gone is success', async () => {
    await startEcr('MUTABLE', { [`team/app:${FLYTE}`]: IMAGE, 'team/app:pr-5': IMAGE })
    const dry = await cleanupRepository(
      { registry: REGISTRY, name: 'app' },
      previewTagMatcher([], 5),
      connection(),
      true,
      new MemoryLogger(),
    )
    expect(dry.deleted).toEqual([{ digest: IMAGE, tags: ['pr-5'] }])
    expect(ecr.calls.some((c) => c.operation === 'BatchDeleteImage')).toBe(false)
    expect(ecr.images.get('team/app:pr-5')).toBe(IMAGE)
    // Another job deletes it between the listing and the delete.
    const realSend = ecr.images
    const conn = connection()
    const api = conn.api as Extract<NonNullable<RegistryConnection['api']>, { kind: 'ecr' }>
    const send = api.ecr.client.send.bind(api.ecr.client)
    api.ecr.client.send = (async (command: { constructor: { name: string } }) => {
      if (command.constructor.name === 'BatchDeleteImageCommand') realSend.delete('team/app:pr-5')
      return send(command as never)
    }) as never
    const report = await cleanupRepository(
      { registry: REGISTRY, name: 'app' },
      previewTagMatcher([], 5),
      conn,
      false,
      new MemoryLogger(),
    )
    expect(report.gone).toEqual([{ digest: IMAGE, tags: ['pr-5'] }])
    expect(report.deleted).toEqual([])
  })
})
