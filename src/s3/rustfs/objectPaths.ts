import { createHash } from 'node:crypto';

/** Folder (inside a bucket's folder) for objects whose key cannot be a plain relative path. */
const ENCODED_KEYS_FOLDER = '~keys';
const MAX_SEGMENT_BYTES = 255;

/**
 * The path of an object inside `rustfs/<bucket>/`: the key itself when it is a plain relative
 * path (so `tar xzf` gives the familiar tree), otherwise a name derived from its hash. The
 * manifest records the exact key either way, and a restore uses the key from the manifest.
 */
export function objectPath(key: string): string {
  return isPlainKey(key) ? key : `${ENCODED_KEYS_FOLDER}/${createHash('sha256').update(key).digest('hex')}`;
}

function isPlainKey(key: string): boolean {
  if (key === '' || key.startsWith(`${ENCODED_KEYS_FOLDER}/`) || key.includes('\0') || key.includes('\\')) return false;
  return key
    .split('/')
    .every((segment) => segment !== '' && segment !== '.' && segment !== '..' && Buffer.byteLength(segment) <= MAX_SEGMENT_BYTES);
}

/**
 * Whether an object is known to be compressed already (media, archives), by its content type or
 * name: such objects are stored, not deflated again. Anything else is left to the archive
 * writer, which probes large files itself.
 */
export function knownIncompressible(key: string, contentType: string | undefined): boolean {
  const type = (contentType ?? '').toLowerCase();
  if (/^(image|video|audio)\//.test(type) && !type.includes('svg') && !type.includes('bmp')) return true;
  if (/(zip|gzip|x-7z|x-rar|x-xz|x-bzip2|zstd|compressed|pdf)/.test(type)) return true;
  return /\.(jpe?g|png|gif|webp|avif|heic|mp[34]|m4a|mov|webm|ogg|zip|gz|tgz|bz2|xz|zst|7z|rar|pdf|woff2?)$/i.test(key);
}
