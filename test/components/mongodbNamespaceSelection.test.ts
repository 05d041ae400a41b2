import { describe, expect, it } from 'vitest';
import { PreconditionError, UsageError } from '../../src/base/errors.js';
import { chooseCollections, mongoSelection, planSelection, selectionReads } from '../../src/components/mongodb/selection.js';
import { CollectionsUnavailable, type MongoCollections } from '../../src/mongo/collections.js';
import type { NamespaceSummary } from '../../src/mongo/archive.js';

const namespace = (db: string, collection: string, documents = 1): NamespaceSummary => ({
  db,
  collection,
  documents,
  bytes: 0,
  ended: true,
});

/** A dump of database orkestra with a dotted name, a time-series collection (its buckets apart) and another database's namespace. */
const DUMP = [
  namespace('orkestra', 'users', 3),
  namespace('orkestra', 'audit_2025'),
  namespace('orkestra', 'audit_2026'),
  namespace('orkestra', 'audit.2024'),
  namespace('orkestra', 'metrics'),
  namespace('orkestra', 'system.buckets.metrics', 10),
  namespace('admin', 'system.version'),
];

function choose(...patterns: string[]) {
  return chooseCollections(DUMP, { patterns }, 'orkestra', 'a.tar.gz');
}

describe('--ns: which collections of the archive a pattern takes', () => {
  it('a bare name is a collection of the archive database; with a dot, database.collection split at the first dot', () => {
    expect(choose('users').owners).toEqual(['users']);
    expect(choose('orkestra.users').owners).toEqual(['users']);
    expect(choose('orkestra.audit.2024').owners).toEqual(['audit.2024']);
    expect(choose('orkestra.audit_*').owners).toEqual(['audit_2025', 'audit_2026']);
    expect(choose('audit_*', 'users').byPattern).toEqual(
      new Map([
        ['audit_*', ['audit_2025', 'audit_2026']],
        ['users', ['users']],
      ]),
    );
  });

  it('a time-series collection takes its buckets, and each namespace is included exactly', () => {
    const chosen = choose('metrics');
    expect(chosen.namespaces.map((entry) => entry.collection)).toEqual(['metrics', 'system.buckets.metrics']);
    expect(chosen.includes).toEqual(['--nsInclude=orkestra.metrics', '--nsInclude=orkestra.system.buckets.metrics']);
  });

  it('without --ns, every collection of the archive database and none of another', () => {
    expect(chooseCollections(DUMP, { patterns: [], toDatabase: 'copy' }, 'orkestra', 'a.tar.gz').owners).toEqual([
      'users',
      'audit_2025',
      'audit_2026',
      'audit.2024',
      'metrics',
    ]);
  });

  it('a pattern matching nothing — another database, a name the archive lacks — is a usage error naming it', () => {
    expect(() => choose('users', 'admin.system.version')).toThrow(UsageError);
    expect(() => choose('users', 'admin.system.version')).toThrow(
      '--ns admin.system.version matches no collection of mongodb in a.tar.gz.',
    );
    expect(() => choose('billing_*')).toThrow('--ns billing_* matches no collection of mongodb in a.tar.gz.');
    expect(() => choose('audit')).toThrow(UsageError);
  });

  it('bad values: an empty --ns, a --to-database MongoDB refuses or owns', () => {
    const given = (flags: Record<string, string[]>) => () => mongoSelection({ flags, beside: false });
    expect(given({ ns: [''] })).toThrow('--ns needs a collection name or glob');
    for (const name of ['a.b', 'with space', 'admin', 'local', 'config', 'x'.repeat(64)]) {
      expect(given({ 'to-database': [name] })).toThrow(UsageError);
    }
    expect(mongoSelection({ flags: { ns: ['users'], 'to-database': ['copy'] }, beside: true })).toEqual({
      patterns: ['users'],
      toDatabase: 'copy',
    });
  });
});

describe('--ns dry run: documents now, or why they could not be counted', () => {
  const signal = new AbortController().signal;
  const away: MongoCollections = {
    how: 'with the shell in okb-mongo',
    list: async () => {
      throw new CollectionsUnavailable('neither mongosh nor mongo is installed in okb-mongo');
    },
    drop: async () => undefined,
    count: async () => new Map(),
  };

  it('in place, each line says the documents now could not be counted and why; the restore is still planned', async () => {
    const plan = await planSelection(choose('users'), { patterns: ['users'] }, { database: 'orkestra', live: 'orkestra' }, away, signal);
    expect(plan.lines).toContain(
      '  orkestra.users: 3 documents in the archive; documents now not counted (neither mongosh nor mongo is installed in okb-mongo)',
    );
    expect(plan.impact.totals).toBe(
      '1 collection holding 3 documents in the archive; documents now not counted (neither mongosh nor mongo is installed in okb-mongo)',
    );
  });

  it('beside, a database that cannot be listed is refused: nothing proves it holds none of the collections', async () => {
    const planned = planSelection(
      choose('users'),
      { patterns: ['users'], toDatabase: 'copy' },
      { database: 'copy', live: 'orkestra' },
      away,
      signal,
    );
    await expect(planned).rejects.toThrow(PreconditionError);
    await expect(planned).rejects.toThrow(
      /--to-database copy: could not check that it holds none of the collections to restore: neither mongosh/,
    );
  });

  it('counts from the server: existing ones dropped and restored, missing ones created, the others named', async () => {
    const server: MongoCollections = {
      how: 'through the driver (MONGO_URI)',
      list: async () => ['users', 'orders', 'system.views'],
      drop: async () => undefined,
      count: async (_database, names) => new Map(names.map((name) => [name, name === 'users' ? 7 : -1])),
    };
    const plan = await planSelection(
      choose('users', 'audit_*'),
      { patterns: ['users', 'audit_*'] },
      { database: 'orkestra', live: 'orkestra' },
      server,
      signal,
    );
    expect(plan.existing).toEqual(['users']);
    expect(plan.impact.totals).toBe(
      '3 collections holding 5 documents in the archive; 1 there now holding 7 documents (dropped and restored), 2 new',
    );
    expect(plan.lines).toEqual([
      '--ns users: 1 collection',
      '  orkestra.users: 3 documents in the archive; 7 documents now (dropped and restored)',
      '--ns audit_*: 2 collections',
      '  orkestra.audit_2025: 1 document in the archive; not there now (created)',
      '  orkestra.audit_2026: 1 document in the archive; not there now (created)',
      '1 other collection of orkestra left as it is: orders',
    ]);
  });
});

describe('which archive files a restore of --ns reads', () => {
  const part = (sequence: number, details?: Record<string, unknown>) => ({
    path: `dump/part-${String(sequence).padStart(8, '0')}`,
    size: 1,
    ...(details ? { details } : {}),
  });
  const FILES = [
    { path: 'database.txt', size: 9 },
    part(0, { prelude: true }),
    part(1, { namespace: 'orkestra.users' }),
    part(2, { namespace: 'orkestra.system.buckets.metrics' }),
    part(3, { namespace: 'orkestra.audit.2024' }),
    part(4, { namespace: 'admin.system.version' }),
    part(5),
    { path: 'mongo.archive.gz', size: 1 },
  ];
  const read = (...ns: string[]) =>
    FILES.filter(
      selectionReads(ns.length > 0 ? { flags: { ns }, beside: false } : { flags: { 'to-database': ['beside'] }, beside: true }),
    ).map((file) => file.path);

  it("reads the prelude, the selected collections' parts (a time-series collection's buckets with it) and every other file, not other collections' parts", () => {
    const always = ['database.txt', 'dump/part-00000000', 'dump/part-00000005', 'mongo.archive.gz'];
    expect(read('users')).toEqual([...always.slice(0, 2), 'dump/part-00000001', ...always.slice(2)]);
    expect(read('metrics')).toEqual([...always.slice(0, 2), 'dump/part-00000002', ...always.slice(2)]);
    expect(read('orkestra.audit.2024')).toEqual([...always.slice(0, 2), 'dump/part-00000003', ...always.slice(2)]);
    expect(read('other.users')).toEqual(always);
    expect(read('*.system.version')).toEqual([...always.slice(0, 2), 'dump/part-00000004', ...always.slice(2)]);
  });

  it('without --ns (a restore beside of everything) it reads every file', () => {
    expect(read()).toEqual(FILES.map((file) => file.path));
  });
});
