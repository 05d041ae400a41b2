import { describe, expect, it } from 'vitest';
import { ARCHIVE_FILE, checkCompressionName, numberedArchiveName, secretsArchiveName } from '../../src/archive/archiveNames.js';

describe('archive names', () => {
  it('a held name gets -N before its extension, encrypted or not; attempt 1 is the name itself', () => {
    expect(numberedArchiveName('orkestra-backup-local-20261204-233449.tar.gz', 1)).toBe('orkestra-backup-local-20261204-233449.tar.gz');
    expect(numberedArchiveName('orkestra-backup-local-20261204-233449.tar.gz', 2)).toBe('orkestra-backup-local-20261204-233449-2.tar.gz');
    expect(numberedArchiveName('/b/x-20261204-233449.tar.gz.age', 3)).toBe('/b/x-20261204-233449-3.tar.gz.age');
    expect(numberedArchiveName('mine.tgz', 2)).toBe('mine-2.tgz');
  });

  it('the secrets archive beside a numbered default name keeps the -N after -secrets, the form listings read', () => {
    expect(secretsArchiveName('orkestra-backup-local-20261204-233449-2.tar.gz.age', '.tar.gz.age')).toBe(
      'orkestra-backup-local-20261204-233449-secrets-2.tar.gz.age',
    );
    expect(secretsArchiveName('orkestra-backup-local-20261204-233449.tar.gz', '.tar.gz')).toBe(
      'orkestra-backup-local-20261204-233449-secrets.tar.gz',
    );
    expect(secretsArchiveName('/srv/nightly.tgz', '.tar.gz')).toBe('/srv/nightly-secrets.tar.gz');
  });

  it('.tar.zst names number, split and list like .tar.gz ones; a chosen name must say the compression', () => {
    expect(numberedArchiveName('orkestra-backup-local-20261204-233449.tar.zst.age', 2)).toBe(
      'orkestra-backup-local-20261204-233449-2.tar.zst.age',
    );
    expect(secretsArchiveName('orkestra-backup-local-20261204-233449-2.tar.zst', '.tar.zst')).toBe(
      'orkestra-backup-local-20261204-233449-secrets-2.tar.zst',
    );
    expect(['a.tar.zst', 'a.tar.zst.age', 'a.tar.gz', 'a.tgz.age'].every((name) => ARCHIVE_FILE.test(name))).toBe(true);
    expect(['a.zst', 'a.tar', 'a.tar.zst.bak'].some((name) => ARCHIVE_FILE.test(name))).toBe(false);
    expect(() => checkCompressionName('/b/x.tar.gz.age', 'zstd')).toThrow(
      '--output /b/x.tar.gz.age names a gzip archive, but the backup is compressed with zstd',
    );
    expect(() => checkCompressionName('s3://b/x.tar.zst', 'gzip', '--secrets-output')).toThrow(
      '--secrets-output s3://b/x.tar.zst names a zstd archive',
    );
    for (const fine of [undefined, '-', 's3://b/prefix/', '/b/x.tar.zst', '/b/custom.bin'])
      expect(() => checkCompressionName(fine, 'zstd')).not.toThrow();
  });
});
