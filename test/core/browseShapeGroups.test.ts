import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { archivedComponent, COMPONENTS } from '../../src/components/index.js';
import { browseArchive } from '../../src/core/browse.js';
import type { ComponentSource } from '../../src/archive/componentSource.js';
import type { ComponentShape } from '../../src/model/shape.js';
import { writeIncompressibleDump } from '../helpers/mongodumps.js';
import { rdbFile, rdbString, stringKey } from '../helpers/rdbRecords.js';
import { temporaryFolder } from '../helpers/tempFolders.js';
import { countedArchive } from '../helpers/countedArchive.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'mongodump');
const options = { components: COMPONENTS, fromArchive: archivedComponent, setting: () => undefined };
const live = () => new AbortController().signal;
const groupsOf = (component: string) => ({ component, offset: 0, pageSize: 50 });

/** A part whose every read fails: what a listing from the manifest alone may touch. */
function unreadableSource(details: unknown): ComponentSource {
  const refuse = () => {
    throw new Error('the part was read');
  };
  return { archiveName: 'a.tar.gz', fileCount: 1, files: refuse, entries: refuse, readText: refuse, details };
}

describe("Redis databases in the picker, from the manifest's shape", () => {
  /** An RDB of about 3 MB of random values: 2,000 keys in database 0, one in database 3. */
  function bigRdb(): Buffer {
    const keys = Array.from({ length: 2_000 }, (_, index) =>
      stringKey(rdbString(`user:${index}`), rdbString(randomBytes(1_500).toString('base64'))),
    );
    return rdbFile(...keys, Buffer.from([0xfe, 0x03]), stringKey(rdbString('jobs:last'), rdbString('7')));
  }
  const shape: ComponentShape = { items: 'keys', group: 'database', groups: { '0': { items: 2_000 }, '3': { items: 1 } } };

  it('lists the databases with their keys without reading the RDB', async () => {
    const rdb = bigRdb();
    const archive = await countedArchive('redis', [{ path: 'redis/dump.rdb', content: rdb }], { shape });
    const page = await browseArchive(archive.location, groupsOf('redis'), options, live());
    expect(page).toEqual({
      groups: [
        { kind: 'database', name: '0', detail: '2,000 keys' },
        { kind: 'database', name: '3', detail: '1 key' },
      ],
      items: [],
      more: false,
      read: 0,
    });
    expect(archive.read()).toBeLessThan(archive.size / 4);
    const redis = COMPONENTS.find((component) => component.name === 'redis')!;
    expect(await redis.groups!({ source: unreadableSource(undefined), setting: () => undefined, shape })).toHaveLength(2);
  });

  it('walks the RDB for the databases of an archive without a shape (an older archive)', async () => {
    const archive = await countedArchive('redis', [{ path: 'redis/dump.rdb', content: bigRdb() }], {});
    const page = await browseArchive(archive.location, groupsOf('redis'), options, live());
    expect(page.groups).toEqual([
      { kind: 'database', name: '0' },
      { kind: 'database', name: '3' },
    ]);
    expect(page.read).toBe(2_001);
    expect(archive.read()).toBeGreaterThan(archive.size / 2);
  });
});

describe("MongoDB databases in the picker, from the manifest's shape (synthetic dump)", () => {
  it('lists the databases with their collections and documents without reading a synthetic dump of 4 MB', async () => {
    const dumpPath = join(await temporaryFolder('okb-shape-dump-'), 'dump.archive.gz');
    await writeIncompressibleDump(dumpPath, 'orkestra', 4 << 20);
    const files = [{ path: 'mongodb/mongo.archive.gz', content: await readFile(dumpPath) }];
    const shape: ComponentShape = {
      items: 'documents',
      group: 'collection',
      groups: { 'orkestra.blobs': { items: 64, bytes: 4 << 20 } },
    };
    const archive = await countedArchive('mongodb', files, { shape, details: { database: 'orkestra' } });
    const page = await browseArchive(archive.location, groupsOf('mongodb'), options, live());
    expect(page).toEqual({
      groups: [{ kind: 'database', name: 'orkestra', detail: '1 collection · 64 documents' }],
      items: [],
      more: false,
      read: 0,
    });
    expect(archive.read()).toBeLessThan(archive.size / 4);

    const withoutShape = await countedArchive('mongodb', files, { details: { database: 'orkestra' } });
    const fallback = await browseArchive(withoutShape.location, groupsOf('mongodb'), options, live());
    expect(fallback.groups).toEqual([{ kind: 'database', name: 'orkestra' }]);
    expect(withoutShape.read()).toBeGreaterThan(withoutShape.size / 2);
  });

  it("lists the dump's admin as the dump without a shape does, marked as left out by a restore (a real mongodump's test.bar)", async () => {
    const files = [{ path: 'mongodb/mongo.archive.gz', content: gzipSync(readFileSync(join(FIXTURES, 'test.bar.archive'))) }];
    const shape: ComponentShape = {
      items: 'documents',
      group: 'collection',
      groups: { 'test.bar': { items: 1, bytes: 35 }, 'admin.system.version': { items: 1, bytes: 59 } },
    };
    const withShape = await countedArchive('mongodb', files, { shape, details: { database: 'test' } });
    const listed = await browseArchive(withShape.location, groupsOf('mongodb'), options, live());
    expect(listed.groups).toEqual([
      { kind: 'database', name: 'test', detail: '1 collection · 1 document' },
      { kind: 'database', name: 'admin', detail: '1 collection · 1 document · not restored (only test is)' },
    ]);
    const withoutShape = await countedArchive('mongodb', files, { details: { database: 'test' } });
    const found = await browseArchive(withoutShape.location, groupsOf('mongodb'), options, live());
    expect(new Set(found.groups.map((group) => group.name))).toEqual(new Set(['test', 'admin']));
  });

  it('reads no part to list the databases of a shape, and answers nothing for a shape it does not recognise', async () => {
    const mongodb = COMPONENTS.find((component) => component.name === 'mongodb')!;
    const source = unreadableSource({ database: 'orkestra' });
    const shape: ComponentShape = { items: 'documents', group: 'collection', groups: { 'orkestra.users': { items: 12_345 } } };
    expect(await mongodb.groups!({ source, setting: () => undefined, shape })).toEqual([
      { kind: 'database', name: 'orkestra', detail: '1 collection · 12,345 documents' },
    ]);
    expect(await mongodb.groups!({ source, setting: () => undefined })).toBeUndefined();
    const keys: ComponentShape = { items: 'keys', group: 'database', groups: { '0': { items: 1 } } };
    expect(await mongodb.groups!({ source, setting: () => undefined, shape: keys })).toBeUndefined();
  });
});
