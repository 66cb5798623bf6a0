import type { PlanOptions } from '../../src/plan/plan-images.js'

/** planImages options for YAML spec files in `cwd`, as the action's defaults give them (installer pip). */
export function yamlPlanOptions(cwd: string, files: string[], extra: Partial<PlanOptions> = {}): PlanOptions {
  return {
    files: files.map((path) => ({ path, kind: 'yaml' as const })),
    buildUnion: false,
    inline: {},
    registries: [],
    cwd,
    hostArch: 'x64',
    installer: 'pip',
    flytekitRequirement: null,
    ...extra,
  }
}
