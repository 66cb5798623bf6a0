/**
 * Loopback servers that misbehave on purpose, for the end-to-end fault tests.
 *
 * FaultProxy stands in front of a real registry (the e2e environment's 127.0.0.1:5000) and forwards everything
 * untouched, Host header included (so the registry's upload Locations point back at the proxy), except what it
 * is told to break: the existence checks (HEAD/GET of a manifest by tag) answered with a status (5xx, 429 with
 * Retry-After), an HTML page, a reset connection, a delay or no answer at all; blob uploads (PUT/PATCH to
 * `/v2/<repository>/blobs/uploads/...`) reset part-way through their body, or the whole "registry" killed at that
 * moment (listener closed, every connection dropped) and restarted later on the same port; manifest pushes
 * answered with a status. Docker treats registries on 127.0.0.0/8 as insecure (plain HTTP) without configuration,
 * so `127.0.0.1:<port>` works as a registry host for buildx pushes and for the action's checks.
 *
 * Every request is recorded with what the proxy did to it. `registryImage` reads back what the real registry
 * holds, to tell a complete image from a half-pushed one.
 */
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'

/** What to do with one existence check or manifest push. `'pass'` forwards it. */
export type RequestFault =
  | 'pass'
  | { status: number; retryAfter?: string; html?: string }
  | { reset: true }
  /** Wait, then forward. */
  | { delayMs: number }
  /** Never answer (the connection stays open until the client gives up or the proxy closes). */
  | { hang: true }

/** What to do with one blob upload that carries a body. */
export type UploadFault =
  | 'pass'
  /** Drop this connection once `afterBytes` of the body arrived: a reset in the middle of a layer. */
  | { resetAfterBytes: number }
  /**
   * Kill the registry once `afterBytes` of the body arrived: close the listener, drop every connection, refuse new
   * ones; restart on the same port after `restartAfterMs`, or only when the test calls `restart()`.
   */
  | { killAfterBytes: number; restartAfterMs?: number }

export interface FaultProxyOptions {
  /** `host:port` of the real registry. */
  upstream: string
  /** Faults for the existence checks (HEAD/GET of `/v2/<repository>/manifests/<tag>`), in arrival order. */
  checks?: RequestFault[] | ((index: number) => RequestFault)
  /** Faults for uploads of at least `minUploadBytes` (default 64 KiB) of body, in arrival order. */
  uploads?: UploadFault[]
  minUploadBytes?: number
  /** Faults for manifest pushes (PUT `/v2/<repository>/manifests/<reference>`), in arrival order. */
  manifestPuts?: RequestFault[]
  /**
   * One blob that will not go up: the first blob uploaded (of at least `minUploadBytes`) is reset after
   * `afterBytes` on each of its first `attempts` uploads (the digest in the upload URL names it), and goes through
   * after that. Resets that outlast the pusher's own retries of that blob.
   */
  stubbornBlob?: { attempts: number; afterBytes: number }
}

export interface ProxiedRequest {
  method: string
  /** The path without the query (upload URLs carry state ids and digests there). */
  path: string
  /** `forwarded <status>`, or the fault applied. */
  outcome: string
}

export interface FaultProxy {
  host: string
  port: number
  requests: ProxiedRequest[]
  /** Times the registry was killed. */
  kills: number
  /** Closes the listener and drops every connection; new connections are refused. */
  kill(): Promise<void>
  /** Listens again on the same port. */
  restart(): Promise<void>
  close(): Promise<void>
}

/** A gateway's error page, as nginx writes it. */
export const GATEWAY_PAGE = (status: number, text: string): string =>
  `<html>\r\n<head><title>${status} ${text}</title></head>\r\n<body>\r\n<center><h1>${status} ${text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`

const TAG_MANIFEST = /^\/v2\/.+\/manifests\/(?!sha256:)[^/]+$/
const ANY_MANIFEST = /^\/v2\/.+\/manifests\/[^/]+$/
const UPLOAD = /^\/v2\/.+\/blobs\/uploads\/[^/]+$/

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const [upstreamHost = '127.0.0.1', upstreamPort = '5000'] = options.upstream.split(':')
  const minUpload = options.minUploadBytes ?? 64 * 1024
  const requests: ProxiedRequest[] = []
  const sockets = new Set<net.Socket>()
  const upstreamRequests = new Set<http.ClientRequest>()
  let checks = 0
  let uploads = 0
  let manifestPuts = 0
  let stubborn: { digest: string; resets: number } | undefined
  let down = false

  const pick = <T>(list: T[] | ((i: number) => T) | undefined, index: number): T | 'pass' =>
    typeof list === 'function' ? list(index) : (list?.[index] ?? 'pass')

  const forward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    record: ProxiedRequest,
    fault?: UploadFault,
  ) => {
    const upstream = http.request(
      {
        host: upstreamHost,
        port: Number(upstreamPort),
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        record.outcome = `${record.outcome ? `${record.outcome}, ` : ''}forwarded ${answer.statusCode}`
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstreamRequests.add(upstream)
    upstream.on('close', () => upstreamRequests.delete(upstream))
    upstream.on('error', () => res.destroy())
    let received = 0
    req.on('data', (chunk: Buffer) => {
      received += chunk.length
      if (fault === undefined || fault === 'pass') return
      const limit = 'resetAfterBytes' in fault ? fault.resetAfterBytes : fault.killAfterBytes
      if (received < limit) return
      const applied = fault
      fault = undefined
      upstream.destroy()
      if ('resetAfterBytes' in applied) {
        record.outcome = `reset after ${received} bytes`
        req.socket.resetAndDestroy()
      } else {
        record.outcome = `registry killed after ${received} bytes`
        void proxy.kill().then(() => {
          if (applied.restartAfterMs !== undefined)
            setTimeout(() => void proxy.restart(), applied.restartAfterMs)
        })
      }
    })
    req.pipe(upstream)
  }

  const answer = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    record: ProxiedRequest,
    fault: RequestFault,
  ) => {
    if (fault === 'pass') return forward(req, res, record)
    if ('delayMs' in fault) {
      record.outcome = `delayed ${fault.delayMs} ms`
      setTimeout(() => forward(req, res, record), fault.delayMs)
      return
    }
    if ('hang' in fault) {
      record.outcome = 'no answer'
      req.resume()
      return
    }
    if ('reset' in fault) {
      record.outcome = 'reset'
      req.socket.resetAndDestroy()
      return
    }
    record.outcome = `answered ${fault.status}${fault.html ? ' with HTML' : ''}`
    const headers: Record<string, string> = fault.html
      ? { 'Content-Type': 'text/html', 'Content-Length': String(Buffer.byteLength(fault.html)) }
      : { 'Content-Type': 'application/json' }
    if (fault.retryAfter !== undefined) headers['Retry-After'] = fault.retryAfter
    const body =
      fault.html ?? JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `fault ${fault.status}` }] })
    req.resume()
    res.writeHead(fault.status, headers)
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  /** The stubborn blob's fault for this upload, while it has resets left. */
  const stubbornFault = (url: string): UploadFault | undefined => {
    if (!options.stubbornBlob) return undefined
    const digest = new URL(url, 'http://proxy').searchParams.get('digest') ?? ''
    stubborn ??= { digest, resets: 0 }
    if (digest !== stubborn.digest || stubborn.resets >= options.stubbornBlob.attempts) return undefined
    stubborn.resets++
    return { resetAfterBytes: options.stubbornBlob.afterBytes }
  }

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/'
    const record: ProxiedRequest = {
      method: req.method ?? '',
      path: url.split('?')[0] as string,
      outcome: '',
    }
    requests.push(record)
    if ((req.method === 'HEAD' || req.method === 'GET') && TAG_MANIFEST.test(record.path)) {
      return answer(req, res, record, pick(options.checks, checks++))
    }
    if (req.method === 'PUT' && ANY_MANIFEST.test(record.path)) {
      return answer(req, res, record, pick(options.manifestPuts, manifestPuts++))
    }
    const length = Number(req.headers['content-length'] ?? NaN)
    const body = Number.isNaN(length) ? req.headers['transfer-encoding'] !== undefined : length >= minUpload
    if ((req.method === 'PUT' || req.method === 'PATCH') && UPLOAD.test(record.path) && body) {
      return forward(req, res, record, stubbornFault(url) ?? pick(options.uploads, uploads++))
    }
    forward(req, res, record)
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port

  const proxy: FaultProxy = {
    host: `127.0.0.1:${port}`,
    port,
    requests,
    kills: 0,
    async kill() {
      if (down) return
      down = true
      proxy.kills++
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const s of sockets) s.resetAndDestroy()
      for (const u of upstreamRequests) u.destroy()
      await closed
    },
    async restart() {
      if (!down) return
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject)
          resolve()
        })
      })
      down = false
    },
    async close() {
      await proxy.kill()
    },
  }
  return proxy
}

/**
 * A "Docker engine" that died under its socket: it accepts connections on the Unix socket `path` and closes each
 * at once. Point `DOCKER_HOST=unix://<path>` at it.
 */
export interface DeadEngine {
  path: string
  /** Connections it dropped. */
  readonly connections: number
  close(): Promise<void>
}

export async function startDeadEngine(path: string): Promise<DeadEngine> {
  let connections = 0
  const server = net.createServer((socket) => {
    connections++
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(path, resolve))
  return {
    path,
    get connections() {
      return connections
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ')

export interface RegistryImage {
  /** The digest the tag points at (HEAD with every manifest type accepted), or null when the tag is not there. */
  digest: string | null
  /** Every manifest and blob the tag's manifest names, directly or through an index. */
  parts: string[]
  /** Those the registry does not have: a half-pushed image has some. */
  missing: string[]
}

/** What a plain-HTTP registry (`host:port`) holds under `repository:tag`, with every part checked. */
export async function registryImage(
  registry: string,
  repository: string,
  tag: string,
): Promise<RegistryImage> {
  const base = `http://${registry}/v2/${repository}`
  const head = await fetch(`${base}/manifests/${tag}`, { method: 'HEAD', headers: { accept: ACCEPT } })
  if (head.status === 404) return { digest: null, parts: [], missing: [] }
  if (head.status !== 200) throw new Error(`HEAD ${base}/manifests/${tag}: HTTP ${head.status}`)
  const digest = head.headers.get('docker-content-digest')
  const parts: string[] = []
  const missing: string[] = []
  const walk = async (reference: string): Promise<void> => {
    const res = await fetch(`${base}/manifests/${reference}`, { headers: { accept: ACCEPT } })
    if (res.status !== 200) {
      missing.push(`manifest ${reference}`)
      return
    }
    const manifest = (await res.json()) as {
      manifests?: { digest: string }[]
      config?: { digest: string }
      layers?: { digest: string }[]
    }
    for (const child of manifest.manifests ?? []) {
      parts.push(`manifest ${child.digest}`)
      await walk(child.digest)
    }
    for (const blob of [...(manifest.config ? [manifest.config] : []), ...(manifest.layers ?? [])]) {
      parts.push(`blob ${blob.digest}`)
      const got = await fetch(`${base}/blobs/${blob.digest}`, { method: 'HEAD' })
      if (got.status !== 200) missing.push(`blob ${blob.digest}`)
    }
  }
  await walk(tag)
  return { digest, parts, missing }
}
