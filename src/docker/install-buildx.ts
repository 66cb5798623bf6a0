/**
 * Installs a pinned Docker Buildx release as a CLI plugin of the job's DOCKER_CONFIG, for runners (usually
 * self-hosted) that have Docker but no buildx. The plugin lives only in the job's config folder, so the runner's
 * Docker setup is unchanged; the downloaded binary is kept in the runner's tool cache for later jobs.
 */
import { createHash } from 'node:crypto'
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { arch as nodeArch, platform as nodePlatform } from 'node:os'
import { join } from 'node:path'

import * as toolCache from '@actions/tool-cache'

import { ActionError, errorMessage, InputError } from '../errors.js'
import { NullLogger, type Logger } from '../log.js'

export const DEFAULT_BUILDX_DOWNLOAD_BASE = 'https://github.com/docker/buildx/releases/download'
const TOOL_NAME = 'docker-buildx'
const VERSION_INPUT = 'buildx-version'

export interface InstallBuildxOptions {
  /** A release tag, e.g. `v0.29.1` (the `v` is optional). */
  version: string
  /** The job's DOCKER_CONFIG; the plugin goes to `<configDir>/cli-plugins/docker-buildx`. */
  configDir: string
  /** Release download base; `<base>/<tag>/<asset>` and `<base>/<tag>/checksums.txt`. */
  baseUrl?: string
  platform?: NodeJS.Platform
  arch?: string
  logger?: Logger
}

/** Returns the installed plugin's path. */
export async function installBuildx(options: InstallBuildxOptions): Promise<string> {
  const logger = options.logger ?? new NullLogger()
  const version = parseBuildxVersion(options.version)
  const target = releaseTarget(options.platform ?? nodePlatform(), options.arch ?? nodeArch())
  const binary =
    (await fromToolCache(version, target.arch, logger)) ?? (await download(version, target, options, logger))
  const plugin = join(options.configDir, 'cli-plugins', target.pluginName)
  await mkdir(join(options.configDir, 'cli-plugins'), { recursive: true })
  // The path may be a link to the runner's own (older) plugin: replace the link, never write through it.
  await rm(plugin, { force: true })
  await copyFile(binary, plugin)
  await chmod(plugin, 0o755)
  logger.info(`Installed Docker Buildx v${version} for this job at ${plugin}`)
  return plugin
}

/** `v0.29.1` or `0.29.1` -> `0.29.1`; anything else (e.g. `latest`) is refused: installs must be reproducible. */
export function parseBuildxVersion(input: string): string {
  const match = /^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/.exec(input.trim())
  if (!match?.[1]) {
    throw new InputError(VERSION_INPUT, `expected a buildx release such as v0.29.1, got '${input}'`)
  }
  return match[1]
}

export interface ReleaseTarget {
  /** `linux-amd64`, as in the release asset names. */
  suffix: string
  arch: string
  pluginName: string
}

/** Node's platform/arch names -> buildx release asset names. */
export function releaseTarget(platform: NodeJS.Platform, arch: string): ReleaseTarget {
  const os = platform === 'win32' ? 'windows' : platform
  if (!['linux', 'darwin', 'windows', 'freebsd'].includes(os)) {
    throw new ActionError(`Docker Buildx has no release for the runner's operating system (${platform})`)
  }
  const archName = ARCH_NAMES[arch]
  if (!archName)
    throw new ActionError(`Docker Buildx has no release for the runner's CPU architecture (${arch})`)
  const exe = os === 'windows' ? '.exe' : ''
  return { suffix: `${os}-${archName}${exe}`, arch: archName, pluginName: `docker-buildx${exe}` }
}

const ARCH_NAMES: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm-v7',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
}

export function assetName(version: string, target: ReleaseTarget): string {
  return `buildx-v${version}.${target.suffix}`
}

/** `sha256  name` or `sha256 *name` lines, as `sha256sum` writes them. */
export function parseChecksums(text: string): Map<string, string> {
  const sums = new Map<string, string>()
  for (const line of text.split('\n')) {
    const match = /^([a-f0-9]{64})\s+\*?(\S+)\s*$/i.exec(line.trim())
    if (match?.[1] && match[2]) sums.set(match[2], match[1].toLowerCase())
  }
  return sums
}

function toolCacheAvailable(): boolean {
  // Outside GitHub Actions (local runs) there is no tool cache; download every time instead of failing.
  return Boolean(process.env.RUNNER_TOOL_CACHE)
}

async function fromToolCache(version: string, arch: string, logger: Logger): Promise<string | undefined> {
  if (!toolCacheAvailable()) return undefined
  const dir = toolCache.find(TOOL_NAME, version, arch)
  if (!dir) return undefined
  logger.info(`Using Docker Buildx v${version} from the tool cache`)
  return join(dir, TOOL_NAME)
}

async function download(
  version: string,
  target: ReleaseTarget,
  options: InstallBuildxOptions,
  logger: Logger,
): Promise<string> {
  const base = (options.baseUrl ?? DEFAULT_BUILDX_DOWNLOAD_BASE).replace(/\/+$/, '')
  const asset = assetName(version, target)
  const url = `${base}/v${version}/${asset}`
  // A fresh folder per attempt: downloadTool refuses to overwrite an existing file.
  await mkdir(options.configDir, { recursive: true })
  const downloads = await mkdtemp(join(options.configDir, 'download-'))
  logger.info(`Downloading Docker Buildx v${version} from ${url}`)
  const file = await fetchFile(url, join(downloads, asset), version)
  await verifyChecksum(
    file,
    asset,
    `${base}/v${version}/checksums.txt`,
    join(downloads, 'checksums.txt'),
    logger,
  )
  await chmod(file, 0o755)
  if (!toolCacheAvailable()) return file
  const cached = await toolCache.cacheFile(file, TOOL_NAME, TOOL_NAME, version, target.arch)
  return join(cached, TOOL_NAME)
}

async function fetchFile(url: string, dest: string, version: string): Promise<string> {
  try {
    return await toolCache.downloadTool(url, dest)
  } catch (err) {
    if (err instanceof toolCache.HTTPError && err.httpStatusCode === 404) {
      throw new InputError(
        VERSION_INPUT,
        `Docker Buildx v${version} has no download at ${url} (HTTP 404); check the version`,
      )
    }
    throw new ActionError(`Could not download Docker Buildx from ${url}: ${errorMessage(err)}`)
  }
}

/**
 * Checks the binary against the release's checksums file. A release without one is installed with a warning;
 * a file that does not match, or a checksums file that does not list it, stops the install.
 */
async function verifyChecksum(
  file: string,
  asset: string,
  checksumsUrl: string,
  checksumsDest: string,
  logger: Logger,
): Promise<void> {
  let text: string
  try {
    text = await readFile(await toolCache.downloadTool(checksumsUrl, checksumsDest), 'utf8')
  } catch (err) {
    if (err instanceof toolCache.HTTPError && err.httpStatusCode === 404) {
      logger.warning(
        `No checksums file at ${checksumsUrl}; Docker Buildx is installed without verifying its checksum`,
      )
      return
    }
    throw new ActionError(`Could not download ${checksumsUrl} to verify Docker Buildx: ${errorMessage(err)}`)
  }
  const expected = parseChecksums(text).get(asset)
  if (!expected)
    throw new ActionError(`${checksumsUrl} does not list ${asset}; refusing to install an unverified binary`)
  const actual = createHash('sha256')
    .update(await readFile(file))
    .digest('hex')
  if (actual !== expected) {
    await rm(file, { force: true })
    throw new ActionError(
      `The downloaded ${asset} does not match its published checksum (expected sha256 ${expected}, got ${actual}); ` +
        'the download was corrupted or tampered with. Re-run the job; if it persists, check the download source.',
    )
  }
  logger.debug(`${asset} matches its published sha256 ${expected}`)
}
