import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { DumpSplitter } from '../../src/mongo/dumpParts.js';
import { interleavedDump } from '../helpers/interleavedDump.js';

describe('DumpSplitter after its pipeline failed', () => {
  it('ends only once the part being written is written, and hands no part on after (the backup then discards the archive)', async () => {
    const whole = Buffer.concat(interleavedDump().map((piece) => piece.bytes));
    let rejected = false;
    let handedAfter = 0;
    let inFlight = 0;
    let inFlightAtRejection = -1;
    let writing!: () => void;
    const firstWriting = new Promise<void>((resolve) => (writing = resolve));
    let release!: () => void;
    const written = new Promise<void>((resolve) => (release = resolve));
    const splitter = new DumpSplitter(
      async () => {
        if (rejected) handedAfter += 1;
        inFlight += 1;
        writing();
        await written; // a sink writing a part, until the test lets it finish
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
    await firstWriting;
    source.destroy(new Error('mongodump was interrupted'));
    release();
    await done;
    for (let turn = 0; turn < 10; turn += 1) await nextTurn(); // whatever was still queued has had its chance
    expect(rejected).toBe(true);
    expect(handedAfter).toBe(0);
    expect(inFlightAtRejection).toBe(0); // the part being written was written before the failure was reported
  });
});
