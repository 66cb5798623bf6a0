import { afterAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as githubOidc from '../support/standins/github-oidc.js'

// The stand-ins are shared with end-to-end tests, which serve them over TLS under real-looking names.

const dir = mkdtempSync(join(tmpdir(), 'standin-tls-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function selfSigned(name: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=DNS:${name},IP:127.0.0.1`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  )
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') }
}

function get(
  url: string,
  ca: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    // Connect to the loopback address but verify the certificate against the URL's name.
    const req = request(
      {
        host: '127.0.0.1',
        port: u.port,
        path: `${u.pathname}${u.search}`,
        servername: u.hostname,
        ca,
        headers: { ...headers, host: u.host },
      },
      (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

describe('stand-ins over TLS', () => {
  it('serve HTTPS under the given name', async () => {
    const tls = selfSigned('oidc.standin.test')
    const oidc = await githubOidc.start({ listen: { tls, hostname: 'oidc.standin.test' } })
    try {
      expect(oidc.url).toMatch(/^https:\/\/oidc\.standin\.test:\d+\/token\?api-version=2\.0$/)
      const res = await get(`${oidc.url}&audience=x`, tls.cert, {
        authorization: `Bearer ${oidc.requestToken}`,
      })
      expect(res.status).toBe(200)
      expect(JSON.parse(res.body)).toHaveProperty('value')
    } finally {
      await oidc.close()
    }
  })
})
