/**
 * The bundled action against answers that are not manifests. A captive portal answering every request with a
 * login page must fail the step with what it answered, and build nothing (the old check took its 200 as "exists",
 * skipped the build and output the sha256 of the page). Behind a proxy that answers the tag's manifest requests
 * with that page and forwards everything else to the real registry at 127.0.0.1:5000, `on-check-error: build`
 * builds and pushes through the proxy.
 */
import { afterAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'

import { e2eEnv } from '../support/e2e-env.js'
import { PORTAL_PAGE, startCaptivePortal } from '../support/fake-registry.js'
import { registryDigest } from '../support/registry-digest.js'
import { runAction } from '../support/run-action.js'

const env = e2eEnv()
const [upstreamHost = '127.0.0.1', upstreamPort = '5000'] = (env.E2E_REGISTRY ?? '').split(':')
const closers: (() => Promise<void>)[] = []
afterAll(async () => {
  await Promise.all(closers.splice(0).map((c) => c()))
})

/** The sha256 of the portal page, by Python: the digest the old check reported for it. */
const PAGE_DIGEST = execFileSync(
  'python3',
  ['-c', 'import hashlib,sys; print("sha256:" + hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'],
  { input: PORTAL_PAGE, encoding: 'utf8' },
).trim()

function workspace(registry: string): string {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'e2e-closed-'))
  writeFileSync(
    path.join(ws, 'imagespec.yaml'),
    [
      'name: app',
      `registry: ${registry}`,
      `base_image: ${env.E2E_BASE_IMAGE}`,
      `pip_index: ${env.E2E_PIP_INDEX}`,
      'packages: [ispec-demo-a==1.0]',
      `commands: ["echo ${Date.now()} > /root/unique.txt"]`,
      '',
    ].join('\n'),
  )
  return ws
}

const INPUTS = { spec: 'imagespec.yaml', installer: 'pip', network: 'host', 'flytekit-version': 'none' }

/**
 * A proxy in front of the real registry that answers manifest requests for tags (the existence check) with the
 * portal page, and forwards everything else untouched, Host header included, so the registry's upload Locations
 * point back at the proxy. Pushes HEAD manifests by digest only, so they get through.
 */
async function interceptingProxy(): Promise<{ host: string; intercepted: string[]; forwarded: string[] }> {
  const intercepted: string[] = []
  const forwarded: string[] = []
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/'
    if (
      (req.method === 'HEAD' || req.method === 'GET') &&
      /^\/v2\/.+\/manifests\/(?!sha256:)[^/]+$/.test(url)
    ) {
      intercepted.push(`${req.method} ${url}`)
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
      res.end(req.method === 'HEAD' ? undefined : PORTAL_PAGE)
      return
    }
    forwarded.push(`${req.method} ${url.split('?')[0]}`)
    const upstream = http.request(
      { host: upstreamHost, port: Number(upstreamPort), method: req.method, path: url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, intercepted, forwarded }
}

/** The digest the real registry holds for `repository:tag`, asked directly (not through the proxy). */
function realDigest(repository: string, tag: string): Promise<string | null> {
  return registryDigest(`${env.E2E_REGISTRY}/${repository}:${tag}`)
}

describe('a check answered by a captive portal', () => {
  test('fails the step with what came back, and builds nothing', async () => {
    const portal = await startCaptivePortal()
    closers.push(() => portal.close())

    const { main } = await runAction(INPUTS, { workspace: workspace(`${portal.host}/closed`) })

    expect(main.exitCode).toBe(1)
    expect(main.log).toContain(
      `${portal.host} answered GET 200 OK with Content-Type text/html; charset=utf-8 and 149 bytes starting ` +
        '"<!DOCTYPE html> <html><head><title>Guest Wi-Fi - please sign in</title></head> <...": that is not one ' +
        'of the manifest types asked for',
    )
    expect(main.log).toContain('an answer that is not a verified image manifest is never taken as "exists"')
    expect(main.log).toContain(
      'The image was not built, because an unanswered check is never taken as "exists"',
    )
    expect(main.outputs.built).not.toBe('true')
    expect(main.outputs.digest ?? '').not.toBe(PAGE_DIGEST)
    expect(main.log).not.toContain(PAGE_DIGEST)
    expect(main.log).not.toContain('buildx build')
    // Only the check's two manifest requests reached the "registry": no blob was uploaded.
    expect(portal.requests.map((r) => r.method)).toEqual(['HEAD', 'GET'])
    expect(portal.requests.every((r) => /^\/v2\/closed\/app\/manifests\/[\w-]+$/.test(r.path))).toBe(true)
  }, 120_000)
})

describe('a proxy in front of the real registry that answers the check with a login page', () => {
  test('on-check-error: build builds and pushes through it', async () => {
    const proxy = await interceptingProxy()
    const repository = `closed-${Date.now().toString(36)}`

    const { main } = await runAction(
      { ...INPUTS, 'on-check-error': 'build' },
      { workspace: workspace(`${proxy.host}/${repository}`) },
    )

    expect({ exitCode: main.exitCode, log: main.exitCode === 0 ? '' : main.log.slice(-3000) }).toEqual({
      exitCode: 0,
      log: '',
    })
    expect(main.log).toContain("building it because on-check-error is 'build'")
    expect(main.log).toContain(`${proxy.host} answered GET 200 OK with Content-Type text/html; charset=utf-8`)
    expect(main.outputs.built).toBe('true')
    const tag = main.outputs.tag as string
    expect(main.outputs.image).toBe(`${proxy.host}/${repository}/app:${tag}`)
    // The check first; later ones are the pull-back and the digest read-back after the push, which get the page
    // too and must not turn it into the digest output.
    expect(proxy.intercepted.slice(0, 2)).toEqual([
      `HEAD /v2/${repository}/app/manifests/${tag}`,
      `GET /v2/${repository}/app/manifests/${tag}`,
    ])
    // The push went through the proxy to the real registry, which now holds the digest the step output.
    expect(proxy.forwarded).toContain(`PUT /v2/${repository}/app/manifests/${tag}`)
    const digest = await realDigest(`${repository}/app`, tag)
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect(main.outputs.digest).toBe(digest)
    expect(main.outputs.digest).not.toBe(PAGE_DIGEST)
  }, 300_000)
})
