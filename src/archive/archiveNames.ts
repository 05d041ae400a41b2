const ARCHIVE_EXTENSION = /(\.tar\.gz|\.tgz)(\.age)?$/;

/** The name an archive takes when `name` is held: `…-HHMMSS.tar.gz` → `…-HHMMSS-2.tar.gz` (attempt 1 is the name itself). */
export function numberedArchiveName(name: string, attempt: number): string {
  return attempt === 1 ? name : name.replace(/((?:\.tar\.gz|\.tgz)(?:\.age)?)?$/, `-${attempt}$1`);
}

/**
 * The secrets archive's name beside a data archive's: `-secrets` before the extension, and before
 * the -N a default name took for another backup of the same second (`…-HHMMSS-secrets-2`), the
 * form archive listings read.
 */
export function secretsArchiveName(dataName: string, extension: string): string {
  const stem = dataName.replace(ARCHIVE_EXTENSION, '');
  const numbered = /^(.*-\d{8}-\d{6})(-\d+)$/.exec(stem);
  return numbered ? `${numbered[1]}-secrets${numbered[2]}${extension}` : `${stem}-secrets${extension}`;
}

/**
 * The component holding the deployment's secret files (docker/.env, docker/keys): the one a
 * split backup (--split-secrets) writes into an archive of its own, and whose restore brings back
 * the keys MongoDB's data was encrypted with.
 */
export const SECRETS = 'secrets';
