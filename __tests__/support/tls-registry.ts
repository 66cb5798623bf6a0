import { spawnSync } from 'node:child_process'

/**
 * Reads the TLS registry of the e2e environment (the one answering as the ECR and Artifact Registry hosts) the
 * way any registry client would: an HTTPS `HEAD /v2/<repo>/manifests/<tag>` with basic auth, trusting the test
 * CA. Synchronous (a child Node process), so a stand-in whose lookups are synchronous can answer from it too.
 */
export interface TlsRegistryAuth {
  username: string
  password: string
  /** Path of the CA certificate that signed the registry's certificate. */
  ca: string
}

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ')

const SCRIPT = `
const [url, auth, accept] = process.argv.slice(1)
fetch(url, { method: 'HEAD', headers: { authorization: 'Basic ' + auth, accept } }).then(
  (res) => process.stdout.write(JSON.stringify({ status: res.status, digest: res.headers.get('docker-content-digest') })),
  (err) => { process.stderr.write(String(err && err.cause || err)); process.exit(2) },
)
`

/** `host/repo/path:tag` -> the registry's manifest digest, or null when the registry says 404. Throws otherwise. */
export function manifestDigest(image: string, auth: TlsRegistryAuth): string | null {
  const m = /^([^/]+)\/(.+):([^:/]+)$/.exec(image)
  if (!m) throw new Error(`not an image reference with a tag: ${image}`)
  const [, host, repo, tag] = m
  const basic = Buffer.from(`${auth.username}:${auth.password}`).toString('base64')
  const r = spawnSync(
    process.execPath,
    ['-e', SCRIPT, `https://${host}/v2/${repo}/manifests/${tag}`, basic, ACCEPT],
    {
      encoding: 'utf8',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: auth.ca },
      timeout: 20_000,
    },
  )
  if (r.status !== 0) throw new Error(`HEAD ${image} failed: ${r.stderr || r.error?.message}`)
  const { status, digest } = JSON.parse(r.stdout) as { status: number; digest: string | null }
  if (status === 404) return null
  if (status !== 200 || !digest) throw new Error(`HEAD ${image}: HTTP ${status}`)
  return digest
}
