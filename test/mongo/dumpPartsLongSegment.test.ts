import { Long, serialize } from 'bson';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { DumpSplitter, type DumpPart } from '../../src/mongo/dumpParts.js';

const TERMINATOR = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const bson = (document: Record<string, unknown>): Buffer => Buffer.from(serialize(document));

/**
 * mongodump's multiplexer writes a namespace header only when the namespace changes
 * (mongo-tools common/archive/multiplexer.go formatBody): a collection dumped alone, or the last
 * one still running, is one segment however large. `megabytes` of it, produced on demand.
 */
function oneLongSegment(megabytes: number): Readable {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(0x8199e26d);
  const document = bson({ pad: 'x'.repeat(1024 * 1024 - 32) });
  return Readable.from(
    (function* () {
      yield Buffer.concat([magic, bson({ concurrent_collections: 4 }), bson({ db: 'db', collection: 'big', metadata: '{}' }), TERMINATOR]);
      yield bson({ db: 'db', collection: 'big', EOF: false, CRC: Long.fromNumber(0) });
      for (let n = 0; n < megabytes; n += 1) yield Buffer.from(document);
      yield Buffer.concat([TERMINATOR, bson({ db: 'db', collection: 'big', EOF: true, CRC: Long.fromNumber(0) }), TERMINATOR]);
    })(),
    { objectMode: false },
  );
}

describe('a collection mongodump writes as one long segment', () => {
  it('a 300 MiB segment is handed on in parts of a few MiB, not held whole', async () => {
    let largest = 0;
    const splitter = new DumpSplitter(async (part: DumpPart) => {
      largest = Math.max(largest, part.bytes);
    });
    await pipeline(oneLongSegment(300), splitter);
    expect(largest).toBeLessThan(64 * 2 ** 20);
  }, 120_000);
});
