/**
 * Registry logins into a per-job DOCKER_CONFIG directory under the runner's temp folder. Keeping credentials out
 * of ~/.docker means concurrent jobs on a shared self-hosted runner cannot log each other out or overwrite each
 * other's tokens, and removing the folder at the end removes every credential this job wrote.
 */
import { mkdir, mkdtemp, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { basename, join } from 'node:path'

import { ActionError, errorMessage } from '../errors.js'
import { NullLogger, type Logger } from '../log.js'
import { CONFIG_FILE, readDockerConfig, type DockerConfigFile } from '../registry/docker-config.js'
import { normaliseRegistry } from '../registry/reference.js'
import { CommandNotFoundError, exec as defaultExec, type Exec } from '../exec.js'

/** Every directory this module creates starts with this, and only such directories are ever deleted. */
export const CONFIG_DIR_PREFIX = 'imagespec-docker-'

export interface CreateDockerConfigOptions {
  /** The runner's existing Docker config directory; default $DOCKER_CONFIG or ~/.docker. */
  sourceConfigDir?: string
  /** Copy the source config's `credHelpers` (e.g. one `gcloud auth configure-docker` wrote). Default false. */
  keepCredHelpers?: boolean
  /**
   * Also copy the runner's `auths` and `credHelpers`, so registries an earlier step logged in to (a private base
   * image, say) keep working inside the job's config. The copy lives in the job's folder and goes with it; logins
   * made by this action overwrite the entries of their own registries. `credsStore` is never copied: a login into
   * it would put this job's tokens into the runner's keychain, outliving the job.
   */
  inheritCredentials?: boolean
  logger?: Logger
}

/**
 * Makes `<runnerTemp>/imagespec-docker-XXXXXX` with a config.json holding no credentials. From the runner's own
 * config it carries over only what docker needs to keep working the same way: the current context and proxy
 * settings, links to its CLI plugins (a buildx that setup-buildx installed there), its builders (`buildx/`) and
 * contexts, and, only when asked, its credential helpers and logins. `credsStore` is never copied.
 */
export async function createDockerConfigDir(
  runnerTemp: string,
  options: CreateDockerConfigOptions = {},
): Promise<string> {
  const source = options.sourceConfigDir ?? runnerDockerConfigDir()
  const logger = options.logger ?? new NullLogger()
  await mkdir(runnerTemp, { recursive: true })
  const dir = await mkdtemp(join(runnerTemp, CONFIG_DIR_PREFIX)) // mode 0700
  const inherited = await readDockerConfig(source).catch((err: unknown) => {
    logger.warning(`Ignoring the runner's Docker config in ${source}: ${errorMessage(err)}`)
    return {} as DockerConfigFile
  })
  await writeConfig(dir, carriedOver(inherited, options))
  await linkFromSource(source, dir, logger)
  logger.debug(`DOCKER_CONFIG for this job: ${dir}`)
  return dir
}

/** The runner's own Docker config directory: $DOCKER_CONFIG, else ~/.docker. */
export function runnerDockerConfigDir(): string {
  return process.env.DOCKER_CONFIG || join(homedir(), '.docker')
}

/** Environment for docker commands that must use the job's config directory. */
export function dockerEnv(configDir: string): Record<string, string> {
  return { DOCKER_CONFIG: configDir }
}

function carriedOver(config: DockerConfigFile, options: CreateDockerConfigOptions): DockerConfigFile {
  const out: DockerConfigFile = {}
  if (typeof config.currentContext === 'string') out.currentContext = config.currentContext
  if (config.proxies !== undefined) out.proxies = config.proxies
  const helpers = options.keepCredHelpers || options.inheritCredentials
  if (helpers && config.credHelpers) out.credHelpers = { ...config.credHelpers }
  if (options.inheritCredentials && config.auths) out.auths = { ...config.auths }
  return out
}

/**
 * Symlinks rather than copies: a builder created earlier in the job (setup-buildx-action) stays usable by name,
 * and plugins are linked one by one so a buildx installed later lands in our folder, not the runner's.
 */
async function linkFromSource(source: string, dir: string, logger: Logger): Promise<void> {
  for (const name of ['buildx', 'contexts']) {
    if (await isDirectory(join(source, name))) await symlink(join(source, name), join(dir, name))
  }
  const plugins = join(source, 'cli-plugins')
  if (!(await isDirectory(plugins))) return
  await mkdir(join(dir, 'cli-plugins'))
  for (const entry of await readdir(plugins)) {
    await symlink(join(plugins, entry), join(dir, 'cli-plugins', entry))
    logger.debug(`Using the runner's Docker CLI plugin ${entry}`)
  }
}

export interface DockerLoginOptions {
  registry: string
  username: string
  password: string
  configDir: string
  /** What to tell the user to check when the registry refuses; default names the username/password inputs. */
  credentialsHint?: string
  exec?: Exec
  logger?: Logger
}

/** `docker login --username U --password-stdin REGISTRY`: the password goes on stdin, never into argv. */
export async function dockerLogin(options: DockerLoginOptions): Promise<void> {
  const { registry, username, password, configDir } = options
  const hint = options.credentialsHint ?? "check the 'username' and 'password' inputs"
  if (username === '' || password === '') {
    throw new ActionError(
      `Cannot log in to ${registry}: the ${username === '' ? 'username' : 'password'} is empty; ${hint}`,
    )
  }
  const run = options.exec ?? defaultExec
  const result = await run('docker', ['login', '--username', username, '--password-stdin', registry], {
    stdin: Buffer.from(password),
    env: dockerEnv(configDir),
    ...(options.logger && { logger: options.logger }),
  }).catch((err: unknown) => {
    throw err instanceof CommandNotFoundError
      ? new ActionError(
          `Docker is not available on this runner: ${err.message}; cannot log in to ${registry}`,
        )
      : err
  })
  if (result.exitCode !== 0) {
    const said = redact(loginFailure(result.stderr || result.stdout), password)
    throw new ActionError(`docker login to ${registry} failed: ${said}. ${capitalise(hint)}.`)
  }
  options.logger?.info(`Logged in to ${registry}`)
}

/**
 * The line that says why. Docker ends with `Error ...` / `Error response from daemon: ...`; before that it may
 * print "stored unencrypted" warnings and logrus lines (`level=info msg="Error logging in to endpoint, trying next
 * endpoint"`) that mention an error without being the reason.
 */
export function loginFailure(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^WARNING!?/i.test(l) && !/^Configure a credential helper/i.test(l))
  const reasons = lines.filter((l) => !/\blevel=(trace|debug|info|warning)\b/.test(l))
  return (
    reasons.findLast((l) => /^error\b/i.test(l)) ??
    reasons.findLast((l) => /error|denied|unauthori[sz]ed|forbidden/i.test(l)) ??
    lines.at(-1) ??
    'no output'
  )
}

/**
 * Routes one registry host to `docker-credential-<helper>` (e.g. `gcloud` for one `*-docker.pkg.dev` host), and
 * nothing else: unlike `gcloud auth configure-docker` with no arguments, it does not claim every Google host.
 */
export async function configureCredHelper(configDir: string, host: string, helper: string): Promise<void> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(helper)) {
    throw new ActionError(
      `'${helper}' is not a valid credential helper name (it becomes docker-credential-${helper})`,
    )
  }
  const config = await readDockerConfig(configDir)
  config.credHelpers = { ...config.credHelpers, [normaliseRegistry(host)]: helper }
  await writeConfig(configDir, config)
}

export interface LogoutOptions {
  exec?: Exec
  logger?: Logger
}

/**
 * Logs out of each registry and deletes the job's config directory. Never throws: this runs in cleanup, where a
 * failure must not fail a job whose image was already pushed. Problems come back as warnings.
 */
export async function logoutAndRemove(
  configDir: string,
  registries: readonly string[],
  options: LogoutOptions = {},
): Promise<string[]> {
  const warnings: string[] = []
  if (!basename(configDir).startsWith(CONFIG_DIR_PREFIX)) {
    return [`Not removing ${configDir}: it is not a Docker config directory this action created`]
  }
  const config = await readDockerConfig(configDir).catch(() => ({}) as DockerConfigFile)
  for (const registry of registries) {
    const warning = await logout(configDir, registry, config, options)
    if (warning) warnings.push(warning)
  }
  try {
    // rm does not follow the symlinks into the runner's own config: only the links are removed.
    await rm(configDir, { recursive: true, force: true })
  } catch (err) {
    warnings.push(`Could not remove ${configDir}: ${errorMessage(err)}`)
  }
  for (const w of warnings) options.logger?.warning(w)
  return warnings
}

async function logout(
  configDir: string,
  registry: string,
  config: DockerConfigFile,
  options: LogoutOptions,
): Promise<string | undefined> {
  // For a helper-backed host, `docker logout` runs `docker-credential-<helper> erase`, which deletes the
  // credential from the helper's store, shared with everything else on the runner. Deleting our folder is enough.
  if (config.credHelpers?.[normaliseRegistry(registry)]) return undefined
  try {
    const run = options.exec ?? defaultExec
    const result = await run('docker', ['logout', registry], {
      env: dockerEnv(configDir),
      ...(options.logger && { logger: options.logger }),
    })
    if (result.exitCode !== 0)
      return `docker logout ${registry} failed: ${(result.stderr || result.stdout).trim()}`
    return undefined
  } catch (err) {
    return `docker logout ${registry} failed: ${errorMessage(err)}`
  }
}

/** Written to a temp file and renamed: a reader never sees half a config, and the mode is 0600 from the start. */
async function writeConfig(dir: string, config: DockerConfigFile): Promise<void> {
  const path = join(dir, CONFIG_FILE)
  const temp = `${path}.${process.pid}.tmp`
  await writeFile(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 })
  await rename(temp, path)
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  )
}

function redact(text: string, secret: string): string {
  return secret.length >= 4 ? text.split(secret).join('***') : text
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}
