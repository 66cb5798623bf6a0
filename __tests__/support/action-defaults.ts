import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

/**
 * The inputs as the runner passes them: every input declared in action.yml with a default gets it unless the
 * workflow sets it. Defaults that are expressions (`${{ github.token }}`) are left out, as the runner would
 * evaluate them to values these tests do not have.
 */
const ACTION_YML = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../action.yml')

export function actionDefaults(): Record<string, string> {
  const action = parse(readFileSync(ACTION_YML, 'utf8')) as { inputs: Record<string, { default?: unknown }> }
  const out: Record<string, string> = {}
  for (const [name, input] of Object.entries(action.inputs)) {
    if (input.default === undefined || String(input.default).includes('${{')) continue
    out[name] = String(input.default)
  }
  return out
}

export function withActionDefaults(inputs: Record<string, string>): Record<string, string> {
  return { ...actionDefaults(), ...inputs }
}
