import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo } from 'node:net'

/**
 * A tiny loopback HTTP server for the stand-ins: each stand-in turns a request into a reply and keeps its own
 * record of calls. Bound to 127.0.0.1 on a free port so parallel test files never collide.
 */

export interface Request {
  method: string
  /** Path without the query string. */
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  body: string
}

export interface Reply {
  status: number
  headers?: Record<string, string>
  body?: string
}

export interface Listening {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string
  close: () => Promise<void>
}

export type Handler = (request: Request) => Reply | Promise<Reply>

/**
 * Where a stand-in listens. The defaults suit in-process tests; end-to-end tests that need a real-looking
 * hostname on 443 (e.g. `sts.<universe>` on 127.0.0.2) pass an address, port, TLS material and the name.
 */
export interface ListenOptions {
  /** Loopback address to bind, default 127.0.0.1. */
  address?: string
  /** Default 0: any free port. */
  port?: number
  /** Serve HTTPS with this certificate (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer }
  /** Host name for the returned URL, default the address. */
  hostname?: string
}

export async function listen(handler: Handler, options: ListenOptions = {}): Promise<Listening> {
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    void serve(req, res, handler)
  }
  const server = options.tls ? createTlsServer(options.tls, onRequest) : createServer(onRequest)
  const address = options.address ?? '127.0.0.1'
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, address, resolve))
  const { port } = server.address() as AddressInfo
  const scheme = options.tls ? 'https' : 'http'
  const defaultPort = (scheme === 'https' && port === 443) || (scheme === 'http' && port === 80)
  return {
    url: `${scheme}://${options.hostname ?? address}${defaultPort ? '' : `:${port}`}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // The SDKs keep connections alive; without this, close() waits for their idle timeout.
        server.closeAllConnections()
        server.close((err) => (err ? reject(err) : resolve()))
      }),
  }
}

async function serve(req: IncomingMessage, res: ServerResponse, handler: Handler): Promise<void> {
  try {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const reply = await handler({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    })
    res.writeHead(reply.status, reply.headers)
    res.end(reply.body ?? '')
  } catch (error) {
    res.writeHead(500, { 'content-type': 'text/plain' })
    res.end(`stand-in failure: ${String(error)}`)
  }
}

export function json(status: number, value: unknown, contentType = 'application/json'): Reply {
  return { status, headers: { 'content-type': contentType }, body: JSON.stringify(value) }
}

export function xml(status: number, body: string): Reply {
  return { status, headers: { 'content-type': 'text/xml' }, body }
}

/** The bearer token of a request, if it sent one. */
export function bearer(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization
  return auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined
}

export function randomToken(prefix: string, length = 32): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  let out = prefix
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(Math.random() * alphabet.length)]
  return out
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`)
}
