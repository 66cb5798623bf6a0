/**
 * The preview tags' distribution client reads manifests the way the existence check does: a web page from a proxy
 * or captive portal, or a body whose digest header lies, is never taken for a manifest (it would be copied under
 * the preview tag, or its sha256 reported as the image's digest).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import { DistributionClient } from '../../src/preview/distribution.js'
import { LoopbackServer, OCI_MANIFEST, startCaptivePortal } from '../support/fake-registry.js'
import { rejectionOf } from '../support/rejection.js'

const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: {
    mediaType: 'application/vnd.oci.image.config.v1+json',
    digest: `sha256:${'a'.repeat(64)}`,
    size: 2,
  },
  layers: [],
})
const DIGEST = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`

let portal: LoopbackServer
let liar: LoopbackServer
let plain: LoopbackServer
beforeAll(async () => {
  portal = await startCaptivePortal()
  // A manifest whose digest header names another body.
  liar = await LoopbackServer.start((_req, res) => {
    res.setHeader('Content-Type', OCI_MANIFEST)
    res.setHeader('Docker-Content-Digest', `sha256:${'b'.repeat(64)}`)
    res.end(MANIFEST)
  })
  // A real manifest, but its HEAD carries no digest: the body must be read and hashed.
  plain = await LoopbackServer.start((req, res) => {
    res.setHeader('Content-Type', OCI_MANIFEST)
    res.end(req.method === 'HEAD' ? undefined : MANIFEST)
  })
})
afterAll(async () => {
  await Promise.all([portal.close(), liar.close(), plain.close()])
})

const client = (host: string) => new DistributionClient(host, { credentials: async () => undefined })

describe('DistributionClient', () => {
  test('a captive portal answering the manifest is an error, not a manifest', async () => {
    const err = await rejectionOf(client(portal.host).getManifest('team/app', 'v1'))
    expect((err as Error).message).toMatch(/not one: its Content-Type text\/html is not a manifest type/)
    const head = await rejectionOf(client(portal.host).tagDigest('team/app', 'v1'))
    expect((head as Error).message).toMatch(/Check that no proxy or login page answers/)
  })

  test('a digest header that does not match the body is refused', async () => {
    const err = await rejectionOf(client(liar.host).getManifest('team/app', 'v1'))
    expect((err as Error).message).toContain(`does not match the body (${DIGEST})`)
  })

  test('a HEAD without a digest: the body is read, verified and hashed', async () => {
    expect(await client(plain.host).tagDigest('team/app', 'v1')).toBe(DIGEST)
  })
})
