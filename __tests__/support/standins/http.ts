import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
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

export async function listen(handler: Handler): Promise<Listening> {
  const server = createServer((req, res) => {
    void serve(req, res, handler)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
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
