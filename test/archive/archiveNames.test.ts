import { describe, expect, it } from 'vitest';
import { numberedArchiveName, secretsArchiveName } from '../../src/archive/archiveNames.js';

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
});
