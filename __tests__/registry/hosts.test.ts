import { describe, expect, it } from '@jest/globals'
import {
  ecrPublicAlias,
  ecrRepositoryName,
  garImageTarget,
  parseRegistry,
  type EcrPublicRegistry,
  type EcrRegistry,
  type GarRegistry,
  type ParsedRegistry,
} from '../../src/registry/hosts.js'
import { InputError } from '../../src/errors.js'

const ecr = (over: Partial<EcrRegistry>): EcrRegistry => ({
  kind: 'ecr',
  host: '',
  path: '',
  accountId: '123456789012',
  region: 'us-east-1',
  partition: 'aws',
  fips: false,
  dualStack: false,
  ...over,
})

describe('parseRegistry', () => {
  const cases: [string, ParsedRegistry][] = [
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      ecr({ host: '123456789012.dkr.ecr.us-east-1.amazonaws.com' }),
    ],
    [
      '123456789012.dkr.ecr.eu-west-3.amazonaws.com/team/sub/',
      ecr({ host: '123456789012.dkr.ecr.eu-west-3.amazonaws.com', path: 'team/sub', region: 'eu-west-3' }),
    ],
    [
      'https://123456789012.DKR.ECR.ap-southeast-2.amazonaws.com/team',
      ecr({
        host: '123456789012.dkr.ecr.ap-southeast-2.amazonaws.com',
        path: 'team',
        region: 'ap-southeast-2',
      }),
    ],
    [
      '210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn/x',
      ecr({
        host: '210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn',
        path: 'x',
        accountId: '210987654321',
        region: 'cn-north-1',
        partition: 'aws-cn',
      }),
    ],
    [
      '123456789012.dkr.ecr.us-gov-west-1.amazonaws.com',
      ecr({
        host: '123456789012.dkr.ecr.us-gov-west-1.amazonaws.com',
        region: 'us-gov-west-1',
        partition: 'aws-us-gov',
      }),
    ],
    [
      '123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com',
      ecr({
        host: '123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com',
        region: 'us-gov-east-1',
        partition: 'aws-us-gov',
        fips: true,
      }),
    ],
    [
      '123456789012.dkr.ecr-fips.us-east-2.amazonaws.com',
      ecr({ host: '123456789012.dkr.ecr-fips.us-east-2.amazonaws.com', region: 'us-east-2', fips: true }),
    ],
    [
      '123456789012.dkr-ecr.eu-central-1.on.aws/ns',
      ecr({
        host: '123456789012.dkr-ecr.eu-central-1.on.aws',
        path: 'ns',
        region: 'eu-central-1',
        dualStack: true,
      }),
    ],
    [
      '123456789012.dkr-ecr-fips.us-west-2.on.aws',
      ecr({
        host: '123456789012.dkr-ecr-fips.us-west-2.on.aws',
        region: 'us-west-2',
        dualStack: true,
        fips: true,
      }),
    ],
    [
      '123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn',
      ecr({
        host: '123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn',
        region: 'cn-northwest-1',
        partition: 'aws-cn',
        dualStack: true,
      }),
    ],
    [
      '123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu',
      ecr({
        host: '123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu',
        region: 'eusc-de-east-1',
        partition: 'aws-eusc',
      }),
    ],
    [
      'public.ecr.aws/my-alias',
      { kind: 'ecr-public', host: 'public.ecr.aws', path: 'my-alias', region: 'us-east-1' },
    ],
    [
      'us-east1-docker.pkg.dev/my-project/my-repo',
      {
        kind: 'gar',
        host: 'us-east1-docker.pkg.dev',
        path: 'my-project/my-repo',
        location: 'us-east1',
        project: 'my-project',
        repository: 'my-repo',
        extraPath: '',
      },
    ],
    [
      'europe-docker.pkg.dev/p/r/team/sub',
      {
        kind: 'gar',
        host: 'europe-docker.pkg.dev',
        path: 'p/r/team/sub',
        location: 'europe',
        project: 'p',
        repository: 'r',
        extraPath: 'team/sub',
      },
    ],
    [
      'us-docker.pkg.dev/p',
      {
        kind: 'gar',
        host: 'us-docker.pkg.dev',
        path: 'p',
        location: 'us',
        project: 'p',
        repository: undefined,
        extraPath: '',
      },
    ],
    ['ghcr.io/flyteorg', { kind: 'ghcr', host: 'ghcr.io', path: 'flyteorg' }],
    ['GHCR.IO/Owner', { kind: 'ghcr', host: 'ghcr.io', path: 'Owner' }],
    ['docker.io/library', { kind: 'dockerhub', host: 'docker.io', path: 'library' }],
    ['index.docker.io/me', { kind: 'dockerhub', host: 'docker.io', path: 'me' }],
    ['myorg', { kind: 'dockerhub', host: 'docker.io', path: 'myorg' }],
    ['myorg/sub', { kind: 'dockerhub', host: 'docker.io', path: 'myorg/sub' }],
    ['localhost:30000', { kind: 'other', host: 'localhost:30000', path: '' }],
    ['localhost/x', { kind: 'other', host: 'localhost', path: 'x' }],
    ['127.0.0.1:5000/a/b', { kind: 'other', host: '127.0.0.1:5000', path: 'a/b' }],
    ['registry.example.com/team', { kind: 'other', host: 'registry.example.com', path: 'team' }],
    // Look-alikes that must not be taken for cloud registries.
    [
      '12345678901.dkr.ecr.us-east-1.amazonaws.com',
      { kind: 'other', host: '12345678901.dkr.ecr.us-east-1.amazonaws.com', path: '' },
    ],
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example',
      { kind: 'other', host: '123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example', path: '' },
    ],
    ['docker.pkg.dev/p/r', { kind: 'other', host: 'docker.pkg.dev', path: 'p/r' }],
    ['us-east1-python.pkg.dev/p/r', { kind: 'other', host: 'us-east1-python.pkg.dev', path: 'p/r' }],
    ['gallery.ecr.aws/x', { kind: 'other', host: 'gallery.ecr.aws', path: 'x' }],
  ]

  it.each(cases)('%s', (input, expected) => {
    expect(parseRegistry(input)).toEqual(expected)
  })

  it('rejects an empty registry naming the input', () => {
    expect(() => parseRegistry('  ')).toThrow(InputError)
    expect(() => parseRegistry('')).toThrow(/Input 'registry'/)
  })
})

describe('ecrRepositoryName', () => {
  const cases: [string, string, string][] = [
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com', 'app', 'app'],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com/team', 'app', 'team/app'],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com/team/sub/', 'tools/app', 'team/sub/tools/app'],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com/team', '/app/', 'team/app'],
    ['public.ecr.aws/alias', 'app', 'app'],
    ['public.ecr.aws/alias/team', 'app', 'team/app'],
  ]
  it.each(cases)('%s + %s -> %s', (registry, name, expected) => {
    const parsed = parseRegistry(registry) as EcrRegistry | EcrPublicRegistry
    expect(ecrRepositoryName(parsed, name)).toBe(expected)
  })

  it('reads the ECR Public alias', () => {
    expect(ecrPublicAlias(parseRegistry('public.ecr.aws/alias/team') as EcrPublicRegistry)).toBe('alias')
    expect(ecrPublicAlias(parseRegistry('public.ecr.aws') as EcrPublicRegistry)).toBeUndefined()
  })
})

describe('garImageTarget', () => {
  const cases: [
    string,
    string,
    { project: string; repository: string; imagePath: string; location: string },
  ][] = [
    [
      'us-east1-docker.pkg.dev/p/r',
      'app',
      { project: 'p', location: 'us-east1', repository: 'r', imagePath: 'app' },
    ],
    [
      'us-docker.pkg.dev/p/r/team',
      'app',
      { project: 'p', location: 'us', repository: 'r', imagePath: 'team/app' },
    ],
    [
      'us-docker.pkg.dev/p/r/a/b',
      'c/app',
      { project: 'p', location: 'us', repository: 'r', imagePath: 'a/b/c/app' },
    ],
    // The registry may stop at the project when the image name carries the repository.
    ['us-docker.pkg.dev/p', 'r/app', { project: 'p', location: 'us', repository: 'r', imagePath: 'app' }],
  ]
  it.each(cases)('%s + %s', (registry, name, expected) => {
    expect(garImageTarget(parseRegistry(registry) as GarRegistry, name)).toEqual(expected)
  })

  it.each([
    ['us-docker.pkg.dev/p', 'app'],
    ['us-docker.pkg.dev', 'app'],
  ])('explains an incomplete path: %s + %s', (registry, name) => {
    const run = () => garImageTarget(parseRegistry(registry) as GarRegistry, name)
    expect(run).toThrow(InputError)
    expect(run).toThrow(/us-docker\.pkg\.dev\/PROJECT_ID\/REPOSITORY/)
  })
})
