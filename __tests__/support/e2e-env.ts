import { readFileSync } from 'node:fs'

/**
 * The settings scripts/e2e/up.sh writes (registries, passwords, base image, package index, Node 24). End-to-end
 * tests fail, never skip, when the environment is missing: `npm test` brings it up first.
 */
export const E2E_STATE_FILE = `${process.env.IMAGESPEC_E2E_STATE ?? '/tmp/imagespec-e2e'}/env`

export function e2eEnv(): Record<string, string> {
  let text: string
  try {
    text = readFileSync(E2E_STATE_FILE, 'utf8')
  } catch {
    throw new Error(`${E2E_STATE_FILE} is missing: run 'bash scripts/e2e/up.sh' (npm test does it for you)`)
  }
  const env: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=')
    if (/^E2E_\w+=/.test(line)) env[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return env
}
