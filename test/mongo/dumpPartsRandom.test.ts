import { deserialize, Long, serialize } from 'bson';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { Crc64 } from '../../src/integrity/crc64.js';
import { MongoArchiveReader } from '../../src/mongo/archive.js';
import { DumpSplitter, type DumpPart } from '../../src/mongo/dumpParts.js';
import { documentsByNamespace } from '../helpers/dumpDocuments.js';

const TERMINATOR = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const bson = (document: Record<string, unknown>): Buffer => Buffer.from(serialize(document));

/** A seeded PRNG: a failure names its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/** A dump of `collections` namespaces, segments interleaved at random, some empty (EOF header only). */
function randomDump(seed: number, collections: number) {
  const next = random(seed);
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(0x8199e26d);
  const names = Array.from({ length: collections }, (_, n) => `c${n}`);
  const pieces: { bytes: Buffer; namespace?: string }[] = [
    { bytes: magic },
    { bytes: bson({ concurrent_collections: 4, version: '0.1' }) },
  ];
  for (const name of names) pieces.push({ bytes: bson({ db: 'db', collection: name, metadata: '{"options":{}}', size: 0 }) });
  pieces.push({ bytes: TERMINATOR });
  const left = new Map(names.map((name) => [name, Math.floor(next() * 4)] as const)); // segments still to write
  const crcs = new Map(names.map((name) => [name, Crc64.ecma()] as const));
  const open = [...names];
  while (open.length > 0) {
    const at = Math.floor(next() * open.length);
    const name = open[at];
    const namespace = `db.${name}`;
    if (left.get(name)! === 0) {
      const digest = crcs.get(name)!.digest();
      pieces.push({ bytes: bson({ db: 'db', collection: name, EOF: true, CRC: Long.fromBigInt(BigInt.asIntN(64, digest)) }), namespace });
      pieces.push({ bytes: TERMINATOR, namespace });
      open.splice(at, 1);
      continue;
    }
    left.set(name, left.get(name)! - 1);
    pieces.push({ bytes: bson({ db: 'db', collection: name, EOF: false, CRC: Long.fromNumber(0) }), namespace });
    const documents = 1 + Math.floor(next() * 5);
    for (let index = 0; index < documents; index += 1) {
      const document = bson({ _id: `${name}-${index}`, pad: 'x'.repeat(Math.floor(next() * 3000)) });
      crcs.get(name)!.update(document);
      pieces.push({ bytes: document, namespace });
    }
    pieces.push({ bytes: TERMINATOR, namespace });
  }
  return pieces;
}

async function split(bytes: Buffer, chunkSizes: () => number, sizes: { partBytes?: number; gatheredBytes?: number }) {
  const parts: { namespace?: string; bytes: Buffer }[] = [];
  const splitter = new DumpSplitter(async (part: DumpPart) => {
    parts.push({ namespace: part.namespace, bytes: Buffer.concat(part.chunks) });
  }, sizes);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length;) {
    const size = chunkSizes();
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  await pipeline(Readable.from(chunks), splitter);
  return parts;
}

describe('DumpSplitter on random dumps', () => {
  for (let seed = 1; seed <= 60; seed += 1) {
    it(`seed ${seed}: part 0 is the prelude, every other part holds whole segments of its own namespace, concatenation sound`, async () => {
      const next = random(seed * 7919);
      const pieces = randomDump(seed, 1 + Math.floor(next() * 12));
      const whole = Buffer.concat(pieces.map((piece) => piece.bytes));
      const preludeEnd = pieces.findIndex((piece, index) => index > 1 && piece.namespace === undefined && piece.bytes.length === 4) + 1;
      const sizes = [{}, { partBytes: 1 }, { partBytes: 1 + Math.floor(next() * 8000), gatheredBytes: 1 + Math.floor(next() * 20000) }][
        seed % 3
      ];
      const parts = await split(whole, () => 1 + Math.floor(next() * (next() < 0.3 ? 8 : 5000)), sizes);
      expect(parts[0].namespace).toBeUndefined();
      expect(parts[0].bytes.equals(Buffer.concat(pieces.slice(0, preludeEnd).map((piece) => piece.bytes)))).toBe(true);
      for (const part of parts.slice(1)) {
        expect(part.bytes.length).toBeGreaterThan(0);
        const header = deserialize(part.bytes.subarray(0, part.bytes.readInt32LE(0)));
        expect(`${header.db}.${header.collection}`).toBe(part.namespace);
        // a part ends where a segment or an EOF header ends: its last word is a terminator
        expect(part.bytes.readInt32LE(part.bytes.length - 4)).toBe(-1);
      }
      const inWhole = documentsByNamespace(whole.subarray(parts[0].bytes.length));
      for (const name of new Set(pieces.flatMap((piece) => (piece.namespace ? [piece.namespace] : [])))) {
        const got = Buffer.concat(parts.filter((part) => part.namespace === name).map((part) => part.bytes));
        expect(documentsByNamespace(got)).toEqual(new Map([[name, inWhole.get(name)]]));
        // the prelude and this namespace's parts alone read sound: every document, CRC-64 matching
        const reader = new MongoArchiveReader();
        reader.push(Buffer.concat([parts[0].bytes, got]));
        const found = reader.finish();
        expect(found.problems).toEqual([]);
        expect(found.namespaces.find((namespace) => `${namespace.db}.${namespace.collection}` === name)).toMatchObject({
          ended: true,
          crcMatches: true,
        });
      }
    });
  }
});
