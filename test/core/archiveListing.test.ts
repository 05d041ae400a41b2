import { describe, expect, it } from 'vitest';
import { newestFirst, newestSound, type ArchiveListing } from '../../src/core/archiveListing.js';

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

describe('newestFirst (list, prune, drill latest)', () => {
  it("orders archives of the same second by the name's -N, not by modification time or name text", () => {
    const first = listing('orkestra-backup-prod-20261120-215835.tar.gz', '2026-11-20T21:58:35Z', { modifiedMs: 2 });
    const second = listing('orkestra-backup-prod-20261120-215835-2.tar.gz', '2026-11-20T21:58:35Z', { modifiedMs: 1 });
    const third = listing('orkestra-backup-prod-20261120-215835-3.tar.gz', '2026-11-20T21:58:35Z', { modifiedMs: 1 });
    expect([first, third, second].sort(newestFirst).map((entry) => entry.name)).toEqual([third.name, second.name, first.name]);
    expect(newestSound([first, second])?.name).toBe(second.name);
  });

  it("compares createdAt as times (a sub-second time is newer than its whole second), and an unread one by its name's stamp", () => {
    const whole = listing('a.tar.gz', '2026-11-20T21:58:35Z');
    const later = listing('b.tar.gz', '2026-11-20T21:58:35.250Z');
    const locked = listing('orkestra-backup-prod-20261121-000000.tar.gz.age', undefined as unknown as string, { locked: 'encrypted' });
    expect([whole, later, locked].sort(newestFirst).map((entry) => entry.name)).toEqual([locked.name, later.name, whole.name]);
  });
});
