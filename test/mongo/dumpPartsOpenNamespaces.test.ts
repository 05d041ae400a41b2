import { deserialize } from 'bson';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { DumpSplitter, type DumpPart } from '../../src/mongo/dumpParts.js';
import { concurrentDump } from '../helpers/concurrentDump.js';

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

describe('the order of the parts, as mongorestore --archive reads it', () => {
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
    expect(mostOpenAtOnce(whole)).toBe(4);
    // mongorestore restores max(4, concurrent_collections) collections at once, each worker reading its
    // collection to its EOF before it takes the next: one more open collection and the demultiplexer waits forever
    expect(mostOpenAtOnce(joined)).toBeLessThanOrEqual(4);
  }, 60_000);
});
