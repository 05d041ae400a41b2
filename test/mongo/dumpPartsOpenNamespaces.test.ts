import { deserialize, Long, serialize } from 'bson';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { Crc64 } from '../../src/integrity/crc64.js';
import { DumpSplitter, type DumpPart } from '../../src/mongo/dumpParts.js';

const TERMINATOR = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const bson = (document: Record<string, unknown>): Buffer => Buffer.from(serialize(document));

/**
 * As mongodump --archive writes `collections` collections of `documents` 1 KiB documents with 4
 * dumped at once: segments of `perSegment` documents, round robin over the 4 open ones, each
 * collection's EOF header right after its last segment, the next one opened then.
 */
function concurrentDump(collections: number, documents: number, perSegment: number): Buffer[] {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(0x8199e26d);
  const out: Buffer[] = [magic, bson({ concurrent_collections: 4, version: '0.1' })];
  const names = Array.from({ length: collections }, (_, n) => `c${n}`);
  for (const name of names) out.push(bson({ db: 'db', collection: name, metadata: '{"options":{}}', size: 0 }));
  out.push(TERMINATOR);
  const waiting = [...names];
  const open: { name: string; left: number; crc: Crc64 }[] = [];
  while (waiting.length > 0 || open.length > 0) {
    while (open.length < 4 && waiting.length > 0) open.push({ name: waiting.shift()!, left: documents, crc: Crc64.ecma() });
    for (const collection of [...open]) {
      out.push(bson({ db: 'db', collection: collection.name, EOF: false, CRC: Long.fromNumber(0) }));
      for (let n = 0; n < perSegment && collection.left > 0; n += 1, collection.left -= 1) {
        const document = bson({ _id: collection.left, pad: 'x'.repeat(1000) });
        collection.crc.update(document);
        out.push(document);
      }
      out.push(TERMINATOR);
      if (collection.left === 0) {
        const crc = Long.fromBigInt(BigInt.asIntN(64, collection.crc.digest()));
        out.push(bson({ db: 'db', collection: collection.name, EOF: true, CRC: crc }), TERMINATOR);
        open.splice(open.indexOf(collection), 1);
      }
    }
  }
  return out;
}

/** How many namespaces a reader of `archive` has open at once at most (header seen, EOF not yet). */
function mostOpenAtOnce(archive: Buffer): number {
  let offset = 4;
  offset += archive.readInt32LE(offset); // header
  while (archive.readInt32LE(offset) !== -1) offset += archive.readInt32LE(offset); // metadata
  offset += 4;
  const open = new Set<string>();
  let most = 0;
  while (offset < archive.length) {
    const header = deserialize(archive.subarray(offset, offset + archive.readInt32LE(offset)));
    offset += archive.readInt32LE(offset);
    const name = `${header.db}.${header.collection}`;
    if (header.EOF === true) open.delete(name);
    else open.add(name);
    most = Math.max(most, open.size);
    while (archive.readInt32LE(offset) !== -1) offset += archive.readInt32LE(offset);
    offset += 4;
  }
  return most;
}

describe('the order of the parts, as mongorestore --archive reads it (adversarial review)', () => {
  it('the parts concatenated never hold more collections open at once than the header says mongodump dumped at once', async () => {
    // 8 collections of 10 MiB, 1 MiB segments: an ordinary dump
    const chunks = concurrentDump(8, 10_000, 1000);
    const whole = Buffer.concat(chunks);
    const parts: Buffer[] = [];
    const splitter = new DumpSplitter(async (part: DumpPart) => {
      parts.push(Buffer.concat(part.chunks));
    });
    await pipeline(Readable.from([whole]), splitter);
    const joined = Buffer.concat(parts);
    console.log(`mongodump's order: ${mostOpenAtOnce(whole)} open at once; the parts' order: ${mostOpenAtOnce(joined)} open at once`);
    expect(mostOpenAtOnce(whole)).toBe(4);
    // mongorestore restores max(4, concurrent_collections) collections at once, each worker reading its
    // collection to its EOF before it takes the next: one more open collection and the demultiplexer waits forever
    expect(mostOpenAtOnce(joined)).toBeLessThanOrEqual(4);
  }, 60_000);
});
