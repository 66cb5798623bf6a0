/**
 * The digest a plain-HTTP loopback registry holds for an image, asked the way docker asks: a manifest HEAD that
 * accepts all four manifest types (distribution 2.8 down-converts to schema 1, with another digest, otherwise).
 */
export const MANIFEST_ACCEPT_ALL = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ')

/** `host/repo:tag` -> its digest in the registry, or null when the registry has no such tag. */
export async function registryDigest(image: string): Promise<string | null> {
  const [, host = '', repo = '', tag = ''] = /^([^/]+)\/(.+):([^:/]+)$/.exec(image) ?? []
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: MANIFEST_ACCEPT_ALL },
  })
  return res.status === 200 ? res.headers.get('docker-content-digest') : null
}
