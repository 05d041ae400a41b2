import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DumpTally } from '../../src/mongo/dumpTally.js';
import { writeCountedDump } from '../helpers/mongodumps.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

/** Streams `input` through a DumpTally in small chunks; returns what came out and the counts. */
async function tallied(input: Buffer) {
  const tally = new DumpTally();
  const out: Buffer[] = [];
  const chunks = Array.from({ length: Math.ceil(input.length / 1000) }, (_, n) => input.subarray(n * 1000, (n + 1) * 1000));
  await pipeline(
    Readable.from(chunks),
    tally,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk);
        callback();
      },
    }),
  );
  return { out: Buffer.concat(out), counts: tally.counts() };
}

describe('documents per collection counted as the dump streams by', () => {
  it('passes the gzip dump through byte for byte and counts each collection, empty ones too', async () => {
    const path = join(await temporaryFolder('okb-tally-'), 'dump.archive');
    await writeCountedDump(path, 'orkestra', { users: 250, jobs: 0, audit: 3 });
    const gzipped = gzipSync(await readFile(path));
    const { out, counts } = await tallied(gzipped);
    expect(out.equals(gzipped)).toBe(true);
    expect(counts?.map(({ collection, documents }) => [collection, documents])).toEqual([
      ['users', 250],
      ['jobs', 0],
      ['audit', 3],
    ]);
  });

  it('a stream that is not a dump still passes through whole, with no counts', async () => {
    const garbage = gzipSync(Buffer.from('not a mongodump archive'.repeat(100)));
    const { out, counts } = await tallied(garbage);
    expect(out.equals(garbage)).toBe(true);
    expect(counts).toBeUndefined();
    const notGzip = Buffer.from('plain text, not gzip at all');
    const plain = await tallied(notGzip);
    expect(plain.out.equals(notGzip)).toBe(true);
    expect(plain.counts).toBeUndefined();
  });
});
