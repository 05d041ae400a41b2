import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ComponentSource } from '../../src/archive/componentSource.js';
import { UsageError } from '../../src/base/errors.js';
import { archivedCounts, countedByShape } from '../../src/components/mongodb/archivedCounts.js';
import { dumpShape } from '../../src/components/mongodb/dumpOutput.js';
import type { MongoArchiveSummary } from '../../src/mongo/archive.js';
import { readDump, readDumpPrelude } from '../../src/mongo/archivedDump.js';
import type { ComponentShape } from '../../src/model/shape.js';
import { mongodumpArchive } from '../helpers/mongoNamespaces.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'mongodump');

/** The mongodb part of an archive holding `dump` (gzip), counting the bytes of it that are read. */
function dumpSource(dump: Buffer): { source: ComponentSource; read: () => number } {
  let read = 0;
  const source: ComponentSource = {
    archiveName: 'a.tar.gz',
    fileCount: 1,
    files: () => Readable.from([]),
    details: { database: 'test' },
    async *entries() {
      const chunks = Array.from({ length: Math.ceil(dump.length / 65_536) }, (_, index) =>
        dump.subarray(index * 65_536, (index + 1) * 65_536),
      );
      // Bytes, not objects: buffered ahead no further than a tar entry's content is.
      const content = Readable.from(
        (function* () {
          for (const chunk of chunks) {
            read += chunk.length;
            yield chunk;
          }
        })(),
        { objectMode: false },
      );
      yield { path: 'mongo.archive.gz', size: dump.length, content };
    },
    readText: () => Promise.resolve(undefined),
  };
  return { source, read: () => read };
}

/** Names, types and documents of each namespace: what a plan takes from the dump. */
const counts = (dump: MongoArchiveSummary) =>
  Object.fromEntries(
    dump.namespaces.map((namespace) => [`${namespace.db}.${namespace.collection}`, [namespace.type, namespace.documents]]),
  );

/** A dump of 4,000 users of random text (about 2 MB gzip) and 2 orders: reading all of it shows in the bytes read. */
function largeDump(): Buffer {
  const users = Array.from({ length: 4_000 }, (_, index) => ({ _id: index, bio: randomBytes(400).toString('base64') }));
  return gzipSync(mongodumpArchive('test', { users, orders: [{ _id: 1 }, { _id: 2 }] }));
}

describe("a selective plan's documents per collection, from the manifest's shape", () => {
  it.each(['test.bar.archive', 'timeseries.archive'])(
    'the shape a backup records of %s gives the same namespaces, types and documents as reading the whole dump',
    async (fixture) => {
      const dump = gzipSync(readFileSync(join(FIXTURES, fixture)));
      const read = (await readDump(dumpSource(dump).source))!;
      const fromShape = await archivedCounts(dumpSource(dump).source, dumpShape(read.namespaces));
      expect(fromShape.from).toBe('shape');
      expect(counts(fromShape.dump)).toEqual(counts(read));
      expect(fromShape.dump.header).toEqual(read.header);
    },
  );

  it("with a shape only the dump's prelude is read; without one the whole dump is, as before", async () => {
    const dump = largeDump();
    const shape: ComponentShape = {
      items: 'documents',
      group: 'collection',
      groups: { 'test.users': { items: 4_000 }, 'test.orders': { items: 2 } },
    };
    const shaped = dumpSource(dump);
    const fromShape = await archivedCounts(shaped.source, shape);
    expect([fromShape.from, counts(fromShape.dump)]).toEqual([
      'shape',
      { 'test.users': ['collection', 4_000], 'test.orders': ['collection', 2] },
    ]);
    expect(shaped.read()).toBeLessThan(dump.length / 8);

    const unshaped = dumpSource(dump);
    const fromDump = await archivedCounts(unshaped.source, undefined);
    expect([fromDump.from, counts(fromDump.dump)]).toEqual(['dump', counts(fromShape.dump)]);
    expect(unshaped.read()).toBe(dump.length);
  });

  it('documents past the prelude that no reader could follow are not read with a shape, and refused (exit 2) without one', async () => {
    const whole = mongodumpArchive('test', { users: [{ _id: 1 }, { _id: 2 }] });
    const prelude = (await readDumpPrelude(dumpSource(gzipSync(whole)).source))!;
    expect(prelude.preludeComplete).toBe(true);
    // The prelude, then a segment header and a document length no reader accepts.
    const damaged = gzipSync(Buffer.concat([whole.subarray(0, preludeLength(whole)), Buffer.from([0xff, 0xff, 0xff, 0x7f])]));
    const shape: ComponentShape = { items: 'documents', group: 'collection', groups: { 'test.users': { items: 2 } } };
    expect(counts((await archivedCounts(dumpSource(damaged).source, shape)).dump)).toEqual({ 'test.users': ['collection', 2] });
    await expect(archivedCounts(dumpSource(damaged).source, undefined)).rejects.toThrow(UsageError);
  });

  it("a shape that is not the dump's — a collection the dump lacks, one of the dump missing, other items — is not used", () => {
    const prelude: MongoArchiveSummary = {
      header: {},
      namespaces: [
        { db: 'test', collection: 'users', type: 'collection', documents: 0, bytes: 0, ended: false },
        { db: 'test', collection: 'recent', type: 'view', documents: 0, bytes: 0, ended: false },
        { db: 'test', collection: 'metrics', type: 'timeseries', documents: 0, bytes: 0, ended: false },
      ],
      problems: [],
      preludeComplete: true,
      complete: false,
    };
    const groups = { 'test.users': { items: 3 }, 'test.metrics': { items: 0 }, 'test.system.buckets.metrics': { items: 5 } };
    const shape = (extra: ComponentShape['groups'], drop?: string): ComponentShape => ({
      items: 'documents',
      group: 'collection',
      groups: Object.fromEntries(Object.entries({ ...groups, ...extra }).filter(([name]) => name !== drop)),
    });
    expect(counts(countedByShape(prelude, shape({}))!)).toEqual({
      'test.users': ['collection', 3],
      'test.recent': ['view', 0],
      'test.metrics': ['timeseries', 0],
      'test.system.buckets.metrics': [undefined, 5],
    });
    expect(countedByShape(prelude, shape({ 'test.ghost': { items: 1 } }))).toBeUndefined();
    expect(countedByShape(prelude, shape({ 'test.system.buckets.ghost': { items: 1 } }))).toBeUndefined();
    expect(countedByShape(prelude, shape({}, 'test.users'))).toBeUndefined();
    expect(countedByShape(prelude, { ...shape({}), items: 'keys' })).toBeUndefined();
  });
});

/** The bytes of an uncompressed mongodump archive up to and with the prelude's terminator. */
function preludeLength(archive: Buffer): number {
  let offset = 4;
  for (;;) {
    const length = archive.readInt32LE(offset);
    if (length === -1) return offset + 4;
    offset += length;
  }
}
