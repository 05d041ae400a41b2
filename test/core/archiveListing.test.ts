import { describe, expect, it } from 'vitest';
import { newestSound, type ArchiveListing } from '../../src/core/archiveListing.js';

const listing = (name: string, createdAt: string, extra: Partial<ArchiveListing> = {}): ArchiveListing => ({
  file: `/b/${name}`,
  name,
  bytes: 100,
  modifiedMs: 0,
  createdAt,
  ...extra,
});

describe('newestSound (drill latest)', () => {
  it('picks the newest archive that is sound, opens, and is not the secrets half of a split backup', () => {
    const picked = newestSound([
      listing('orkestra-backup-prod-20261101-030000.tar.gz', '2026-11-01T03:00:00Z'),
      listing('orkestra-backup-prod-20261103-030000.tar.gz', '2026-11-03T03:00:00Z', { problem: 'cut short' }),
      listing('orkestra-backup-prod-20261104-030000.tar.gz.age', '', { locked: 'encrypted' }),
      listing('orkestra-backup-prod-20261102-030000-secrets.tar.gz', '2026-11-02T03:00:01Z'),
      listing('orkestra-backup-prod-20261102-030000.tar.gz', '2026-11-02T03:00:00Z'),
    ]);
    expect(picked?.name).toBe('orkestra-backup-prod-20261102-030000.tar.gz');
  });

  it('none when nothing qualifies', () => {
    expect(newestSound([listing('a.tar.gz', '2026-11-01T00:00:00Z', { problem: 'empty file (0 bytes)' })])).toBeUndefined();
  });
});
