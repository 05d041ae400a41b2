import { Long, serialize } from 'bson';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { DumpSplitter } from '../../src/mongo/dumpParts.js';

const TERMINATOR = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const bson = (document: Record<string, unknown>): Buffer => Buffer.from(serialize(document));

/** A dump of `count` collections that each hold one small document (or none): a few hundred KB of dump in all. */
function manySmallCollections(count: number, empty: boolean): Buffer[] {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(0x8199e26d);
  const out: Buffer[] = [magic, bson({ concurrent_collections: 4, version: '0.1' })];
  for (let n = 0; n < count; n += 1) out.push(bson({ db: 'db', collection: `c${n}`, metadata: '{"options":{}}', size: 0 }));
  out.push(TERMINATOR);
  for (let n = 0; n < count; n += 1) {
    if (empty) continue;
    out.push(bson({ db: 'db', collection: `c${n}`, EOF: false, CRC: Long.fromNumber(0) }), bson({ _id: n }), TERMINATOR);
  }
  // CRCs are not checked by the splitter's framing; the tally only decides whether counts are kept
  for (let n = 0; n < count; n += 1) out.push(bson({ db: 'db', collection: `c${n}`, EOF: true, CRC: Long.fromNumber(0) }), TERMINATOR);
  return out;
}

describe('DumpSplitter memory with many small collections', () => {
  it('a dump of 3000 small collections (about 300 KB) is split holding far less than 3000 x 256 KiB', async () => {
    const chunks = manySmallCollections(3000, false);
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const splitter = new DumpSplitter(async () => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    });
    await pipeline(Readable.from([Buffer.concat(chunks)]), splitter);
    expect(peak).toBeLessThan(64 * 2 ** 20);
  });
});
