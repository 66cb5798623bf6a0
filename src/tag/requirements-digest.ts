/**
 * The `requirements` digest: `hashlib.sha1(Path(requirements).read_bytes().strip()).hexdigest()`. Only the
 * content counts (not the path), and `bytes.strip()` removes ASCII whitespace only, so a UTF-8 byte order
 * mark stays part of the hash.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'

/** The bytes `bytes.strip()` removes: space, \t, \n, \r, \v, \f. */
const ASCII_WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c])

export async function requirementsDigest(file: string): Promise<string> {
  return createHash('sha1')
    .update(stripAsciiWhitespace(await readFile(file)))
    .digest('hex')
}

export function stripAsciiWhitespace(bytes: Uint8Array): Uint8Array {
  let start = 0
  let end = bytes.length
  while (start < end && ASCII_WHITESPACE.has(bytes[start] as number)) start++
  while (end > start && ASCII_WHITESPACE.has(bytes[end - 1] as number)) end--
  return bytes.subarray(start, end)
}
