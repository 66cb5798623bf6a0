/** Temporary directories for one test file, removed together afterwards. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export class TempDirs {
  private readonly dirs: string[] = []

  async make(prefix = 'imagespec-test-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix))
    this.dirs.push(dir)
    return dir
  }

  async removeAll(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
  }
}

/** Writes `config.json` into a fresh DOCKER_CONFIG-style directory. */
export async function dockerConfigDir(dirs: TempDirs, config: unknown): Promise<string> {
  const dir = await dirs.make('test-docker-config-')
  await writeFile(join(dir, 'config.json'), JSON.stringify(config))
  return dir
}

export function basicAuth(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`).toString('base64')
}
