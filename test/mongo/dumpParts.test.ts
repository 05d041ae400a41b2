import { deserialize, Long, serialize } from 'bson';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { Crc64 } from '../../src/integrity/crc64.js';
import { MongoArchiveReader } from '../../src/mongo/archive.js';
import { DumpSplitter, type DumpPart } from '../../src/mongo/dumpParts.js';
import { interleavedDump } from '../helpers/interleavedDump.js';
import { documentsByNamespace } from '../helpers/dumpDocuments.js';

/** `bytes` through a DumpSplitter in chunks of `chunkSize`: the parts it hands on, and its counts. */
async function split(bytes: Buffer, chunkSize: number, sizes: { partBytes?: number; gatheredBytes?: number } = {}) {
  const parts: { namespace?: string; bytes: Buffer }[] = [];
  const splitter = new DumpSplitter(async (part: DumpPart) => {
    const joined = Buffer.concat(part.chunks);
    expect(joined.length).toBe(part.bytes);
    parts.push({ namespace: part.namespace, bytes: joined });
  }, sizes);
  const chunks = Array.from({ length: Math.ceil(bytes.length / chunkSize) }, (_, n) => bytes.subarray(n * chunkSize, (n + 1) * chunkSize));
  await pipeline(Readable.from(chunks), splitter);
  return { parts, counts: splitter.counts() };
}

/** Each namespace's documents, CRC verdicts and counts as the tool's reader finds them in `bytes`. */
function summary(bytes: Buffer) {
  const reader = new MongoArchiveReader();
  reader.push(bytes);
  const found = reader.finish();
  expect(found.problems).toEqual([]);
  return found.namespaces.map((namespace) => [`${namespace.db}.${namespace.collection}`, namespace.documents, namespace.crcMatches]);
}

describe('a mongodump archive cut into parts by collection', () => {
  const pieces = interleavedDump();
  const whole = Buffer.concat(pieces.map((piece) => piece.bytes));
  const preludeEnd = pieces.findIndex((piece, index) => index > 1 && piece.namespace === undefined) + 1;
  const prelude = Buffer.concat(pieces.slice(0, preludeEnd).map((piece) => piece.bytes));
  const ofNamespace = (name: string) =>
    Buffer.concat(
      pieces
        .slice(preludeEnd)
        .filter((piece) => piece.namespace === name)
        .map((piece) => piece.bytes),
    );
  const firstSeen = [...new Set(pieces.slice(preludeEnd).map((piece) => piece.namespace!))];
  // Each namespace is handed on once its EOF header has passed: in the order of those headers.
  const ended = pieces
    .slice(preludeEnd)
    .filter((piece) => piece.bytes.length > 4 && deserialize(piece.bytes).EOF === true)
    .map((piece) => piece.namespace!);

  for (const chunkSize of [1, 7, 4096, whole.length]) {
    it(`the prelude comes first, then one part per namespace holding its segments and EOF header, as their EOF headers come (chunks of ${chunkSize})`, async () => {
      const { parts } = await split(whole, chunkSize);
      expect(parts[0]).toEqual({ bytes: prelude, namespace: undefined });
      expect(parts.slice(1).map((part) => part.namespace)).toEqual(ended);
      for (const part of parts.slice(1)) expect(part.bytes.equals(ofNamespace(part.namespace!))).toBe(true);
    });
  }

  it('the parts concatenated read as the same archive: every namespace, document count and CRC-64 as in the interleaved one', async () => {
    const { parts, counts } = await split(whole, 333);
    const joined = Buffer.concat(parts.map((part) => part.bytes));
    expect(joined.length).toBe(whole.length);
    expect(summary(joined)).toEqual(summary(whole));
    expect(counts?.map((namespace) => [`${namespace.db}.${namespace.collection}`, namespace.documents])).toEqual(
      summary(whole).map(([name, documents]) => [name, documents]),
    );
  });

  it('small parts are cut where a segment or a document ends: each begins with a segment header of its own namespace and holds its documents in order', async () => {
    const inWhole = documentsByNamespace(whole.subarray(prelude.length));
    for (const sizes of [{ partBytes: 1 }, { partBytes: 1000 }, { gatheredBytes: 1 }, { partBytes: 5000, gatheredBytes: 20_000 }]) {
      const { parts } = await split(whole, 97, sizes);
      expect(parts.length).toBeGreaterThan(firstSeen.length + 1);
      for (const part of parts.slice(1)) {
        const header = deserialize(part.bytes.subarray(0, part.bytes.readInt32LE(0)));
        expect(`${header.db}.${header.collection}`).toBe(part.namespace);
      }
      for (const name of firstSeen) {
        const joined = Buffer.concat(parts.filter((part) => part.namespace === name).map((part) => part.bytes));
        expect(documentsByNamespace(joined)).toEqual(new Map([[name, inWhole.get(name)]]));
      }
      expect(summary(Buffer.concat(parts.map((part) => part.bytes)))).toEqual(summary(whole));
    }
  });

  it('the prelude and the parts of a few namespaces read as a sound archive of those alone', async () => {
    const { parts } = await split(whole, 4096, { partBytes: 1000 });
    const picked = parts.filter((part) => part.namespace === undefined || part.namespace === 'shop.audit');
    const reader = new MongoArchiveReader();
    reader.push(Buffer.concat(picked.map((part) => part.bytes)));
    const found = reader.finish();
    expect(found.problems).toEqual([]);
    expect(found.namespaces.find((namespace) => namespace.collection === 'audit')).toMatchObject({ documents: 5, crcMatches: true });
    expect(found.namespaces.find((namespace) => namespace.collection === 'users')).toMatchObject({ documents: 0, ended: false });
  });

  it('output that is not a whole mongodump archive fails the backup, naming what is wrong; none at all says 0 bytes', async () => {
    await expect(split(Buffer.from('not a mongodump archive'.repeat(100)), 100)).rejects.toThrow(
      /mongodump wrote something that is not a whole mongodump archive: not a mongodump archive/,
    );
    await expect(split(whole.subarray(0, whole.length - 10), 100)).rejects.toThrow(/not a whole mongodump archive: .*middle of a document/);
    await expect(split(Buffer.alloc(0), 100)).rejects.toThrow('mongodump exited without writing an archive (0 bytes).');
  });

  it("the cap counts the memory each collection's blocks take: three hundred small collections are handed on early under a small cap, not held", async () => {
    const names = Array.from({ length: 300 }, (_, index) => `c${index}`);
    const many = mongodumpArchiveInRounds('shop', names, 2);
    const whole = await split(many, 4096);
    expect(whole.parts.length).toBe(1 + names.length); // the default cap holds them all: one part each
    const capped = await split(many, 4096, { gatheredBytes: 256 * 1024 }); // more than their bytes, less than a block each
    expect(capped.parts.length).toBeGreaterThan(1 + names.length);
    expect(summary(Buffer.concat(capped.parts.map((part) => part.bytes)))).toEqual(summary(many));
  });
});

/** A dump of `names` in `db`, each collection's one-document segments taking turns for `rounds` rounds, then every EOF header. */
function mongodumpArchiveInRounds(db: string, names: readonly string[], rounds: number): Buffer {
  const bson = (document: Record<string, unknown>) => Buffer.from(serialize(document));
  const terminator = Buffer.from([0xff, 0xff, 0xff, 0xff]);
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(0x8199e26d);
  const pieces = [magic, bson({ concurrent_collections: 4, version: '0.1', server_version: '7.0.12', tool_version: '100.9.4' })];
  for (const name of names) pieces.push(bson({ db, collection: name, metadata: '{}', size: 0 }));
  pieces.push(terminator);
  const crcs = new Map(names.map((name) => [name, Crc64.ecma()]));
  for (let round = 0; round < rounds; round += 1) {
    for (const name of names) {
      const document = bson({ _id: `${name}-${round}`, note: 'x'.repeat(60) });
      crcs.get(name)!.update(document);
      pieces.push(bson({ db, collection: name, EOF: false, CRC: Long.fromNumber(0) }), document, terminator);
    }
  }
  for (const name of names) {
    const crc = Long.fromBigInt(BigInt.asIntN(64, crcs.get(name)!.digest()));
    pieces.push(bson({ db, collection: name, EOF: true, CRC: crc }), terminator);
  }
  return Buffer.concat(pieces);
}
