import { json, listen, type ListenOptions, type Reply } from './http.js'

/**
 * Stand-in for the GitHub Packages REST API, container packages only: list a package's versions
 * (`GET /{orgs|users}/{owner}/packages/container/{package}/versions?per_page=&page=`, with GitHub's `Link`
 * header) and delete one (`DELETE .../versions/{id}`, 204). The package name arrives URL-encoded (`a%2Fb`). An
 * owner asked for under the wrong kind (`/orgs/` for a user) answers 404, as GitHub does. Pass its URL as
 * GITHUB_API_URL.
 */

export interface StandInVersion {
  id: number
  /** The manifest digest. */
  name: string
  tags: string[]
}

export interface GitHubPackagesOptions {
  listen?: ListenOptions
  /** The token it accepts as `Authorization: Bearer <token>`. */
  token: string
  /** Owner name -> whether it is an organization or a user. */
  owners: Record<string, 'org' | 'user'>
  /** `owner/package` (package name decoded, e.g. `octo-org/tools/app`) -> its versions. */
  packages: Record<string, StandInVersion[]>
  /** Refuse a call with a status and message (e.g. 403 for a token without delete rights). */
  refuse?: (call: PackagesCall) => { status: number; message: string } | undefined
}

export interface PackagesCall {
  method: string
  path: string
  /** The path as sent, with the package name still encoded. */
  rawPath: string
  query: Record<string, string>
  scope?: 'orgs' | 'users'
  owner?: string
  packageName?: string
  versionId?: number
  authorization?: string
  status?: number
}

export interface GitHubPackagesStandIn {
  url: string
  calls: PackagesCall[]
  /** Live state: `owner/package` -> versions; deletes remove from it. */
  packages: Map<string, StandInVersion[]>
  close: () => Promise<void>
}

const VERSIONS = /^\/(orgs|users)\/([^/]+)\/packages\/container\/([^/]+)\/versions(?:\/(\d+))?$/

export async function start(options: GitHubPackagesOptions): Promise<GitHubPackagesStandIn> {
  const calls: PackagesCall[] = []
  const packages = new Map(Object.entries(options.packages).map(([k, v]) => [k, v.map((x) => ({ ...x }))]))
  let url = ''

  const server = await listen((req) => {
    const m = VERSIONS.exec(req.path)
    const call: PackagesCall = {
      method: req.method,
      path: decodeURIComponent(req.path),
      rawPath: req.path,
      query: Object.fromEntries(req.query),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    }
    if (m) {
      call.scope = m[1] as 'orgs' | 'users'
      call.owner = decodeURIComponent(m[2] ?? '')
      call.packageName = decodeURIComponent(m[3] ?? '')
      if (m[4]) call.versionId = Number(m[4])
    }
    calls.push(call)
    const reply = answer(call)
    call.status = reply.status
    return reply
  }, options.listen)
  url = server.url

  function answer(call: PackagesCall): Reply {
    if (call.authorization !== `Bearer ${options.token}`)
      return json(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' })
    if (!call.scope || !call.owner || !call.packageName) return notFound()
    const kind = options.owners[call.owner]
    if (!kind || (kind === 'org') !== (call.scope === 'orgs')) return notFound()
    const key = `${call.owner}/${call.packageName}`
    const versions = packages.get(key)
    if (!versions) return json(404, { message: 'Package not found.' })
    const refused = options.refuse?.(call)
    if (refused) return json(refused.status, { message: refused.message })
    if (call.method === 'GET' && call.versionId === undefined) return list(call, versions)
    if (call.method === 'DELETE' && call.versionId !== undefined) {
      const index = versions.findIndex((v) => v.id === call.versionId)
      if (index < 0) return notFound()
      versions.splice(index, 1)
      return { status: 204 }
    }
    return notFound()
  }

  function list(call: PackagesCall, versions: StandInVersion[]): Reply {
    const perPage = Math.min(Number(call.query.per_page ?? 30) || 30, 100)
    const page = Math.max(Number(call.query.page ?? 1) || 1, 1)
    const items = versions.slice((page - 1) * perPage, page * perPage).map((v) => ({
      id: v.id,
      name: v.name,
      package_type: 'container',
      metadata: { package_type: 'container', container: { tags: v.tags } },
    }))
    const last = Math.max(Math.ceil(versions.length / perPage), 1)
    const link = (p: number, rel: string) =>
      `<${url}${call.rawPath}?per_page=${perPage}&page=${p}>; rel="${rel}"`
    const links = [
      ...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []),
      ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : []),
    ]
    const reply = json(200, items)
    if (links.length > 0) reply.headers = { ...reply.headers, link: links.join(', ') }
    return reply
  }

  return { url: server.url, calls, packages, close: server.close }
}

function notFound(): Reply {
  return json(404, {
    message: 'Not Found',
    documentation_url: 'https://docs.github.com/rest/packages/packages',
  })
}
