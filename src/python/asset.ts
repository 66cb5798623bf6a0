import { fileURLToPath } from 'node:url'

/**
 * The path of a file shipped beside the code. From src/ (tests) `new URL(..., import.meta.url)` is a file URL;
 * in the bundle ncc copies the file into dist/ and puts its path there instead.
 */
export function assetPath(url: URL | string): string {
  return typeof url === 'string' ? url : fileURLToPath(url)
}
