import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { DumpSplitter } from '../../src/mongo/dumpParts.js';
import { interleavedDump } from '../helpers/interleavedDump.js';

describe('DumpSplitter after its pipeline failed (adversarial review)', () => {
  it('hands no part on once the pipeline has rejected (the backup then discards the archive)', async () => {
    const whole = Buffer.concat(interleavedDump().map((piece) => piece.bytes));
    let rejected = false;
    let handedAfter = 0;
    let inFlight = 0;
    let inFlightAtRejection = -1;
    const splitter = new DumpSplitter(
      async () => {
        if (rejected) handedAfter += 1;
        inFlight += 1;
        await new Promise((resolve) => setTimeout(resolve, 20)); // a sink writing a part
        inFlight -= 1;
      },
      { partBytes: 1 }, // every segment is a part: one chunk makes several ready at once
    );
    const source = new Readable({ read() {} });
    const done = pipeline(source, splitter).catch(() => {
      rejected = true;
      inFlightAtRejection = inFlight;
    });
    source.push(whole.subarray(0, whole.length - 100));
    await new Promise((resolve) => setTimeout(resolve, 10));
    source.destroy(new Error('mongodump was interrupted'));
    await done;
    await new Promise((resolve) => setTimeout(resolve, 300));
    console.log(`parts handed on after the pipeline rejected: ${handedAfter}`);
    expect(handedAfter).toBe(0);
    expect(inFlightAtRejection).toBe(0); // the part being written was written before the failure was reported
  });
});
