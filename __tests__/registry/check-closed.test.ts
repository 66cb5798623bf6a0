/**
 * The existence check fails closed: a 200 that is not a verified manifest (a login page, JSON that is not a
 * manifest, a digest that does not match the body, a redirect to a web page, an empty body, a 204, a digest that
 * is not sha256) is an error that says what came back, never "exists". Real manifests of the four types asked
 * for are found with their digest, whether the HEAD vouches for them or the GET is verified.
 */
import { afterEach, describe, expect, test } from '@jest/globals'

import { checkImage, RegistryCheckError } from '../../src/registry/check.js'
import {
  digestOf,
  DOCKER_LIST,
  DOCKER_V2,
  FakeRegistry,
  manifestBody,
  OCI_INDEX,
  OCI_MANIFEST,
  PORTAL_PAGE,
  startCaptivePortal,
  type Fault,
  type LoopbackServer,
} from '../support/fake-registry.js'
import { rejectionOf } from '../support/rejection.js'

const servers: { close(): Promise<void> }[] = []

async function registry(): Promise<FakeRegistry> {
  const r = await FakeRegistry.start()
  servers.push(r)
  return r
}

async function portal(): Promise<LoopbackServer> {
  const p = await startCaptivePortal()
  servers.push(p)
  return p
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

/** A real-looking OCI manifest and its sha256, computed by Python's hashlib (not by the code under test). */
const FIXED_MANIFEST =
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}'
const FIXED_DIGEST = 'sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268'
const ZEROS = `sha256:${'0'.repeat(64)}`

const NEVER = 'an answer that is not a verified image manifest is never taken as "exists"'

interface BadAnswer {
  /** Faults for the HEAD and then the GET. */
  faults: Fault[]
  /** Hand-written pieces the message must contain. */
  says: string[]
  /** Pieces it must not contain. */
  hides?: string[]
}

const html = { 'Content-Type': 'text/html; charset=utf-8' }
const oci = { 'Content-Type': OCI_MANIFEST }

const BAD_ANSWERS: [string, (portalUrl: string) => BadAnswer][] = [
  [
    '200 with an HTML page (a captive portal), even with a sha256 digest header on the HEAD',
    () => ({
      faults: [
        { status: 200, headers: { ...html, 'Docker-Content-Digest': ZEROS } },
        { status: 200, headers: html, body: PORTAL_PAGE },
      ],
      says: [
        'answered GET 200 OK with Content-Type text/html; charset=utf-8 and 149 bytes starting "<!DOCTYPE html> <html><head><title>Guest Wi-Fi - please sign in</title></head> <...',
        'that is not one of the manifest types asked for (OCI image index, OCI image manifest, Docker manifest list, Docker image manifest v2)',
      ],
    }),
  ],
  [
    '200 with JSON that is not a manifest',
    () => ({
      faults: [
        { status: 200, headers: { 'Content-Type': 'application/json' } },
        { status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"status":"ok"}' },
      ],
      says: [
        'answered GET 200 OK with Content-Type application/json and 15 bytes starting "{"status":"ok"}"',
        'not one of the manifest types asked for',
      ],
    }),
  ],
  [
    '200 with a manifest Content-Type and JSON that is not a manifest',
    () => ({
      faults: [
        { status: 200, headers: oci },
        { status: 200, headers: oci, body: '{"schemaVersion":2,"hello":"world"}' },
      ],
      says: [
        `answered GET 200 OK with Content-Type ${OCI_MANIFEST} and 35 bytes`,
        "the body is not a valid OCI image manifest: it has no 'config' descriptor",
      ],
    }),
  ],
  [
    '200 with an index Content-Type and a body whose mediaType says otherwise',
    () => ({
      faults: [
        { status: 200, headers: { 'Content-Type': OCI_INDEX } },
        { status: 200, headers: { 'Content-Type': OCI_INDEX }, body: FIXED_MANIFEST },
      ],
      says: [`the body is not a valid OCI image index: its mediaType is "${OCI_MANIFEST}"`],
    }),
  ],
  [
    '200 with a manifest Content-Type but a digest header that does not match the body',
    () => ({
      faults: [
        { status: 200, headers: oci },
        { status: 200, headers: { ...oci, 'Docker-Content-Digest': ZEROS }, body: FIXED_MANIFEST },
      ],
      says: [
        `answered GET 200 OK with Content-Type ${OCI_MANIFEST} and 246 bytes starting "{"schemaVersion":2,`,
        `its Docker-Content-Digest ${ZEROS} does not match the body, whose sha256 is ${FIXED_DIGEST}`,
      ],
    }),
  ],
  [
    '302 to an HTML page on another host',
    (portalUrl) => ({
      faults: [
        { status: 302, headers: { Location: `${portalUrl}/login?session=s3cr3t-path` } },
        { status: 302, headers: { Location: `${portalUrl}/login?session=s3cr3t-path` } },
      ],
      says: [
        `answered GET 200 OK after a redirect to ${new URL(portalUrl).host}, with Content-Type text/html; charset=utf-8 and 149 bytes starting "<!DOCTYPE html>`,
        'not one of the manifest types asked for',
      ],
      hides: ['s3cr3t-path', '/login'],
    }),
  ],
  [
    '200 with an empty body',
    () => ({
      faults: [
        { status: 200, headers: oci },
        { status: 200, headers: oci, body: '' },
      ],
      says: [
        `answered GET 200 OK with Content-Type ${OCI_MANIFEST} and an empty body: the body is empty, so there is no OCI image manifest`,
      ],
    }),
  ],
  [
    '204 No Content',
    () => ({
      faults: [{ status: 204 }, { status: 204 }],
      says: [
        'answered GET 204 No Content with no Content-Type and an empty body: a manifest comes with 200 OK',
      ],
    }),
  ],
  [
    'a Docker-Content-Digest that is not sha256 hex',
    () => ({
      faults: [
        { status: 200, headers: { ...oci, 'Docker-Content-Digest': 'md5:0123abcd' } },
        { status: 200, headers: { ...oci, 'Docker-Content-Digest': 'md5:0123abcd' }, body: FIXED_MANIFEST },
      ],
      says: ['its Docker-Content-Digest "md5:0123abcd" is not sha256:<64 hex digits>'],
    }),
  ],
  [
    'a sha256 Docker-Content-Digest in upper-case hex',
    () => ({
      faults: [
        { status: 200, headers: { ...oci, 'Docker-Content-Digest': FIXED_DIGEST.toUpperCase() } },
        {
          status: 200,
          headers: { ...oci, 'Docker-Content-Digest': FIXED_DIGEST.toUpperCase() },
          body: FIXED_MANIFEST,
        },
      ],
      says: [`its Docker-Content-Digest "${FIXED_DIGEST.toUpperCase()}" is not sha256:<64 hex digits>`],
    }),
  ],
]

describe('answers that are not a verified manifest are failed checks', () => {
  test.each(BAD_ANSWERS)('%s', async (_name, row) => {
    const reg = await registry()
    reg.put('team/app', 'v1', manifestBody(OCI_MANIFEST))
    const page = await portal()
    const { faults, says, hides = [] } = row(page.url)
    reg.failNext(...faults)

    const err = await rejectionOf(checkImage(`${reg.host}/team/app:v1`))

    expect(err).toBeInstanceOf(RegistryCheckError)
    expect(err.message).toContain(
      `Could not check whether ${reg.host}/team/app:v1 exists: ${reg.host} answered`,
    )
    for (const piece of says) expect(err.message).toContain(piece)
    expect(err.message).toContain(NEVER)
    expect(err.message).toContain('no proxy or login page (captive portal) answers')
    for (const piece of hides) expect(err.message).not.toContain(piece)
    expect(err.message).not.toContain('\n')
    expect(reg.manifestRequests().map((r) => r.method)).toEqual(['HEAD', 'GET'])
  })

  test('a HEAD with a manifest type but no digest header does not vouch: the GET decides', async () => {
    const reg = await registry()
    reg.put('app', 'v1', manifestBody(OCI_MANIFEST))
    // Manifest type without digest, then a GET answering HTML: the HEAD alone did not vouch.
    reg.failNext({ status: 200, headers: oci }, { status: 200, headers: html, body: PORTAL_PAGE })

    const err = await rejectionOf(checkImage(`${reg.host}/app:v1`))
    expect(err.message).toContain('answered GET 200 OK with Content-Type text/html')
  })

  test('an answer through a captive portal as the registry itself', async () => {
    const page = await portal()

    const err = await rejectionOf(checkImage(`${page.host}/team/app:v1`))

    expect(err).toBeInstanceOf(RegistryCheckError)
    expect(err.message).toBe(
      `Could not check whether ${page.host}/team/app:v1 exists: ${page.host} answered GET 200 OK with ` +
        'Content-Type text/html; charset=utf-8 and 149 bytes starting "<!DOCTYPE html> <html><head><title>Guest ' +
        'Wi-Fi - please sign in</title></head> <...": that is not one of the manifest types asked for (OCI image ' +
        'index, OCI image manifest, Docker manifest list, Docker image manifest v2); an answer that is not a ' +
        'verified image manifest is never taken as "exists": check the registry host in the image reference, and ' +
        "that no proxy or login page (captive portal) answers in the registry's place.",
    )
    expect(page.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'HEAD /v2/team/app/manifests/v1',
      'GET /v2/team/app/manifests/v1',
    ])
  })

  test('the first bytes are printed on one line, printable, and without secrets the page echoes', async () => {
    const reg = await FakeRegistry.start({ scheme: 'basic', users: { ci: 'pa55-w0rd-xyz' } })
    servers.push(reg)
    reg.put('app', 'v1', manifestBody(OCI_MANIFEST))
    const echo = (req: { headers: { authorization?: string } }) =>
      `line one\r\n::error::two\u001b[31m ${req.headers.authorization} pa55-w0rd-xyz`
    reg.failNext('pass', { status: 200, headers: html }, { status: 200, headers: html, body: echo })

    const err = await rejectionOf(
      checkImage(`${reg.host}/app:v1`, {
        credentials: { kind: 'basic', username: 'ci', password: 'pa55-w0rd-xyz' },
      }),
    )

    expect(err.message).toContain('starting "line one ::error::two?[31m Basic *** ***"')
    expect(err.message).not.toContain('pa55-w0rd-xyz')
    for (const c of ['\r', '\n', '\u001b']) expect(err.message).not.toContain(c)
  })

  test('letters outside ASCII are kept; control and bidi-override characters are not', async () => {
    const reg = await registry()
    reg.failNext({ status: 200 }, { status: 200, headers: html, body: 'Grüße \u202eevil\u0000' })

    const err = await rejectionOf(checkImage(`${reg.host}/app:v1`))

    expect(err.message).toContain('starting "Grüße ?evil?"')
  })

  test('a digest reference answered with another manifest is a failed check', async () => {
    const reg = await registry()
    reg.put('app', 'v1', manifestBody(OCI_MANIFEST))
    reg.failNext(
      { status: 200, headers: oci },
      { status: 200, headers: { ...oci, 'Docker-Content-Digest': FIXED_DIGEST }, body: FIXED_MANIFEST },
    )

    const err = await rejectionOf(checkImage(`${reg.host}/app@${ZEROS}`))

    expect(err.message).toContain(`answered with the manifest ${FIXED_DIGEST}, not the requested ${ZEROS}`)
  })

  test('a 403 page behind a redirect names the host it ended on, not its path', async () => {
    const reg = await registry()
    const gateway = await registry()
    const location = { Location: `http://${gateway.host}/v2/app/manifests/v1?sig=s3cr3t-sig` }
    reg.failNext({ status: 307, headers: location }, { status: 307, headers: location })
    const page = { status: 403, headers: html, body: '<html>Blocked by policy</html>' }
    gateway.failNext(page, page)

    const err = await rejectionOf(checkImage(`${reg.host}/app:v1`))

    expect(err.message).toContain(`${reg.host} answered 403 Forbidden after a redirect to ${gateway.host};`)
    expect(err.message).toContain('grant them pull (read) access')
    expect(err.message).not.toContain('s3cr3t-sig')
  })
})

describe('real manifests are found with the right digest', () => {
  const TYPES: [string, string][] = [
    ['an OCI image index', OCI_INDEX],
    ['an OCI image manifest', OCI_MANIFEST],
    ['a Docker image manifest v2', DOCKER_V2],
    ['a Docker manifest list', DOCKER_LIST],
  ]

  test.each(TYPES)('%s, vouched for by the HEAD (type and digest headers)', async (_name, type) => {
    const reg = await registry()
    const stored = manifestBody(type, 'head')
    reg.put('team/app', 'v1', stored)

    const result = await checkImage(`${reg.host}/team/app:v1`)

    expect(result).toEqual({ exists: true, digest: digestOf(stored.body) })
    expect(reg.manifestRequests().map((r) => r.method)).toEqual(['HEAD'])
  })

  test.each(TYPES)('%s, verified by a GET when the HEAD has no digest header', async (_name, type) => {
    const reg = await registry()
    const stored = manifestBody(type, 'get')
    reg.put('team/app', 'v1', stored)
    reg.failNext({ status: 200, headers: { 'Content-Type': type } })

    const result = await checkImage(`${reg.host}/team/app:v1`)

    expect(result).toEqual({ exists: true, digest: digestOf(stored.body) })
    expect(reg.manifestRequests().map((r) => r.method)).toEqual(['HEAD', 'GET'])
  })

  test('a GET without a digest header is hashed: the digest Python computed', async () => {
    const reg = await registry()
    reg.failNext({ status: 200 }, { status: 200, headers: oci, body: FIXED_MANIFEST })

    await expect(checkImage(`${reg.host}/app:v1`)).resolves.toEqual({ exists: true, digest: FIXED_DIGEST })
  })

  test('a GET whose digest header matches the body is found', async () => {
    const reg = await registry()
    reg.failNext(
      { status: 200, headers: { 'Content-Type': 'text/plain' } },
      {
        status: 200,
        headers: { 'Content-Type': `${OCI_MANIFEST}; charset=utf-8`, 'Docker-Content-Digest': FIXED_DIGEST },
        body: FIXED_MANIFEST,
      },
    )

    await expect(checkImage(`${reg.host}/app:v1`)).resolves.toEqual({ exists: true, digest: FIXED_DIGEST })
  })

  test('a redirect the registry makes to where the manifest is served is followed when it ends in a manifest', async () => {
    const front = await registry()
    const storage = await registry()
    const stored = manifestBody(OCI_INDEX, 'redirected')
    storage.put('team/app', 'v1', stored)
    const location = { Location: `http://${storage.host}/v2/team/app/manifests/v1` }
    front.failNext({ status: 307, headers: location })

    const result = await checkImage(`${front.host}/team/app:v1`)

    expect(result).toEqual({ exists: true, digest: digestOf(stored.body) })
    expect(storage.manifestRequests().map((r) => r.method)).toEqual(['HEAD'])
  })

  test('a missing tag is still a 404, not an error', async () => {
    const reg = await registry()
    reg.put('team/app', 'v1', manifestBody(OCI_MANIFEST))
    await expect(checkImage(`${reg.host}/team/app:v2`)).resolves.toEqual({ exists: false })
  })
})
