/** A loopback HTTP server serving fixed files by path (404 otherwise), recording the paths asked for. */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export class FileServer {
  readonly requested: string[] = []

  private constructor(
    private readonly server: http.Server,
    readonly files: Map<string, Buffer>,
  ) {}

  static async start(files: Record<string, string | Buffer> = {}): Promise<FileServer> {
    const map = new Map(Object.entries(files).map(([k, v]) => [k, Buffer.from(v)]))
    const server = http.createServer()
    const fileServer = new FileServer(server, map)
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname
      fileServer.requested.push(path)
      const body = map.get(path)
      res.statusCode = body ? 200 : 404
      res.end(body ?? 'Not Found')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return fileServer
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
