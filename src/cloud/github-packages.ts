/**
 * GHCR cleanup through the GitHub Packages REST API: ghcr.io refuses manifest DELETE on the registry API, so
 * preview images are removed by deleting the package version (the manifest, with every tag on it). A container
 * package's versions carry the digest as `name` and the tags in `metadata.container.tags`. The owner may be an
 * organization or a user: the organization path is tried first, the user path after a 404.
 */
import { ActionError } from '../errors.js'

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com'

export interface GitHubPackagesApi {
  /** GITHUB_API_URL, e.g. https://api.github.com (GHES: https://HOST/api/v3). */
  apiUrl: string
  /** The `github-token` input. */
  token: string
}

export interface PackageVersion {
  id: number
  /** The manifest digest. */
  digest: string
  tags: string[]
}

const PER_PAGE = 100
const MAX_PAGES = 1000

const PERMISSION_HINT =
  'The github-token input needs `permissions: packages: write`, and deleting a version needs the Admin role on the package (package settings, Manage Actions access).'

/** `ghcr.io/<owner>/<path>` -> owner and the package name (the path, which may contain slashes). */
export function ghcrPackageOf(repository: string): { owner: string; packageName: string } {
  const [owner = '', ...rest] = repository.split('/')
  if (!owner || rest.length === 0)
    throw new ActionError(`ghcr.io/${repository} is not ghcr.io/<owner>/<package>: cannot find its package.`)
  return { owner, packageName: rest.join('/') }
}

export class GhcrPackages {
  private scope: 'orgs' | 'users' | undefined
  private readonly base: string

  constructor(
    private readonly api: GitHubPackagesApi,
    readonly owner: string,
    readonly packageName: string,
  ) {
    this.base = (api.apiUrl || DEFAULT_GITHUB_API_URL).replace(/\/+$/, '')
  }

  private get where(): string {
    return `the container package ${this.packageName} of ${this.owner}`
  }

  private versionsUrl(scope: 'orgs' | 'users'): string {
    const owner = encodeURIComponent(this.owner)
    return `${this.base}/${scope}/${owner}/packages/container/${encodeURIComponent(this.packageName)}/versions`
  }

  /** Every version of the package with its tags, across pages. */
  async listVersions(): Promise<PackageVersion[]> {
    this.requireToken('list')
    const versions: PackageVersion[] = []
    for (let page = 1; page <= MAX_PAGES; page++) {
      const res = await this.listPage(page)
      const items = (await res.json()) as {
        id?: number
        name?: string
        metadata?: { container?: { tags?: string[] } }
      }[]
      for (const item of items) {
        if (typeof item.id !== 'number' || !item.name) continue
        versions.push({ id: item.id, digest: item.name, tags: item.metadata?.container?.tags ?? [] })
      }
      const link = res.headers.get('link')
      const more = link !== null ? /rel="next"/.test(link) : items.length === PER_PAGE
      if (!more) break
    }
    return versions
  }

  /** Deletes one version (its manifest and every tag on it). Already gone is success. */
  async deleteVersion(id: number): Promise<'deleted' | 'gone'> {
    this.requireToken('delete')
    const url = `${this.versionsUrl(this.scope ?? (await this.findScope()))}/${id}`
    const res = await this.send('DELETE', url)
    if (res.status === 204 || res.status === 200) return 'deleted'
    if (res.status === 404) return 'gone'
    throw await this.statusError(res, `delete version ${id} of ${this.where}`)
  }

  private async listPage(page: number): Promise<Response> {
    const query = `?per_page=${PER_PAGE}&page=${page}`
    if (this.scope) {
      const res = await this.send('GET', this.versionsUrl(this.scope) + query)
      if (res.ok) return res
      throw await this.statusError(res, `list the versions of ${this.where}`)
    }
    const asOrg = await this.send('GET', this.versionsUrl('orgs') + query)
    if (asOrg.ok) {
      this.scope = 'orgs'
      return asOrg
    }
    if (asOrg.status !== 404) throw await this.statusError(asOrg, `list the versions of ${this.where}`)
    await asOrg.body?.cancel()
    const asUser = await this.send('GET', this.versionsUrl('users') + query)
    if (asUser.ok) {
      this.scope = 'users'
      return asUser
    }
    throw await this.statusError(asUser, `list the versions of ${this.where}`)
  }

  private async findScope(): Promise<'orgs' | 'users'> {
    await this.listPage(1).then((res) => res.body?.cancel())
    return this.scope ?? 'orgs'
  }

  private requireToken(doing: string): void {
    if (!this.api.token)
      throw new ActionError(
        `Cannot ${doing} versions of ${this.where} on ghcr.io without a token: set the github-token input. ${PERMISSION_HINT}`,
      )
  }

  private async send(method: 'GET' | 'DELETE', url: string): Promise<Response> {
    try {
      return await fetch(url, {
        method,
        headers: {
          Accept: 'application/vnd.github+json',
          Authorization: `Bearer ${this.api.token}`,
          'X-GitHub-Api-Version': '2022-11-28',
          'User-Agent': 'imagespec-action',
        },
        signal: AbortSignal.timeout(30_000),
      })
    } catch (err) {
      throw new ActionError(
        `Could not reach the GitHub API at ${new URL(url).origin} for ${this.where}: ${(err as Error).message}`,
      )
    }
  }

  private async statusError(res: Response, doing: string): Promise<ActionError> {
    const text = await res.text().catch(() => '')
    let message = text.slice(0, 200)
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message
    } catch {
      // not JSON
    }
    if (this.api.token.length >= 4) message = message.split(this.api.token).join('***')
    let hint = ''
    if (res.status === 401) hint = ' The github-token input was not accepted.'
    if (res.status === 403 || res.status === 404) {
      hint = ` ${res.status === 404 ? 'GitHub answers 404 also when the token may not see the package. ' : ''}${PERMISSION_HINT}`
    }
    return new ActionError(`Could not ${doing}: GitHub answered ${res.status} (${message}).${hint}`)
  }
}
