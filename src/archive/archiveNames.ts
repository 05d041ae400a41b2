import { UsageError } from '../base/errors.js';
import type { Codec } from './compression.js';

/** The extensions of an archive's name: `.tar.gz`, `.tgz` or `.tar.zst`, then `.age` when encrypted. */
const EXTENSIONS = String.raw`(?:\.tar\.gz|\.tgz|\.tar\.zst)(?:\.age)?`;

/** Whether a file name is an archive's (`list`, `prune` and `drill latest` consider only these). */
export const ARCHIVE_FILE = new RegExp(`${EXTENSIONS}$`);

/** The name an archive takes when `name` is held: `…-HHMMSS.tar.gz` → `…-HHMMSS-2.tar.gz` (attempt 1 is the name itself). */
export function numberedArchiveName(name: string, attempt: number): string {
  return attempt === 1 ? name : name.replace(new RegExp(`(${EXTENSIONS})?$`), `-${attempt}$1`);
}

/**
 * The secrets archive's name beside a data archive's: `-secrets` before the extension, and before
 * the -N a default name took for another backup of the same second (`…-HHMMSS-secrets-2`), the
 * form archive listings read.
 */
export function secretsArchiveName(dataName: string, extension: string): string {
  const stem = dataName.replace(ARCHIVE_FILE, '');
  const numbered = /^(.*-\d{8}-\d{6})(-\d+)$/.exec(stem);
  return numbered ? `${numbered[1]}-secrets${numbered[2]}${extension}` : `${stem}-secrets${extension}`;
}

/**
 * The component holding the deployment's secret files (docker/.env, docker/keys): the one a
 * split backup (--split-secrets) writes into an archive of its own, and whose restore brings back
 * the keys MongoDB's data was encrypted with.
 */
export const SECRETS = 'secrets';

/**
 * Refuses a chosen name whose extension says another compression than the archive will have
 * (`-o x.tar.gz` with zstd): the name must say what the file is. Names without a known
 * extension are the operator's business.
 */
export function checkCompressionName(output: string | undefined, codec: Codec, flag = '--output'): void {
  if (output === undefined || output === '-' || output.endsWith('/')) return;
  const name = output.replace(/\.age$/, '');
  const says = /\.(tar\.gz|tgz)$/.test(name) ? 'gzip' : name.endsWith('.tar.zst') ? 'zstd' : undefined;
  if (says === undefined || says === codec) return;
  const wanted = codec === 'zstd' ? '.tar.zst' : '.tar.gz';
  throw new UsageError(`${flag} ${output} names a ${says} archive, but the backup is compressed with ${codec}.`, {
    hint: `Name it …${wanted}${output.endsWith('.age') ? '.age' : ''}, or choose --compression ${says}. Nothing was written.`,
  });
}
