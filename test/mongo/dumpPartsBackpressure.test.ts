import { Long, serialize } from 'bson';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate, setTimeout } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { DumpSplitter, type DumpPart } from '../../src/mongo/dumpParts.js';

const TERMINATOR = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const bson = (document: Record<string, unknown>): Buffer => Buffer.from(serialize(document));

/** An endless-looking dump of 4 collections interleaved, 256 KiB segments, produced on demand; counts what was pulled. */
function producer(totalSegments: number) {
  const state = { pulled: 0 };
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(0x8199e26d);
  const names = ['a', 'b', 'c', 'd'];
  const document = bson({ pad: 'x'.repeat(1000) });
  const stream = Readable.from(
    (function* () {
      const head = [magic, bson({ concurrent_collections: 4 })];
      for (const name of names) head.push(bson({ db: 'db', collection: name, metadata: '{}' }));
      head.push(TERMINATOR);
      yield Buffer.concat(head);
      for (let n = 0; n < totalSegments; n += 1) {
        const name = names[n % 4];
        const segment = [bson({ db: 'db', collection: name, EOF: false, CRC: Long.fromNumber(0) })];
        for (let d = 0; d < 256; d += 1) segment.push(document);
        segment.push(TERMINATOR);
        const bytes = Buffer.concat(segment);
        state.pulled += bytes.length;
        yield bytes;
      }
      for (const name of names) yield Buffer.concat([bson({ db: 'db', collection: name, EOF: true, CRC: Long.fromNumber(0) }), TERMINATOR]);
    })(),
  );
  return { stream, state };
}

describe('DumpSplitter backpressure', () => {
  it('a sink that stalls stops the dump being read: what is pulled meanwhile stays bounded', async () => {
    const { stream, state } = producer(4000); // ~1 GB if read through
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    let parts = 0;
    const splitter = new DumpSplitter(async (_part: DumpPart) => {
      parts += 1;
      if (parts === 2) await stalled; // the first collection's part waits on a full disk
    });
    const done = pipeline(stream, splitter);
    // Stalled: the sink holds a part, the splitter's buffer and the producer's are full.
    const full = () => parts >= 2 && splitter.writableNeedDrain && stream.readableLength >= stream.readableHighWaterMark;
    for (const started = Date.now(); !full();) {
      expect(Date.now() - started, 'the pipeline should stop pulling while the sink stalls').toBeLessThan(30_000);
      await setTimeout(10);
    }
    const pulledWhileStalled = state.pulled;
    for (let turn = 0; turn < 10; turn += 1) await setImmediate(); // nothing more is pulled while it stays stalled
    expect(state.pulled).toBe(pulledWhileStalled);
    expect(pulledWhileStalled).toBeLessThan(64 * 2 ** 20);
    stream.destroy(); // the dump is abandoned: the pipeline ends with an error, not a hang
    release();
    await expect(done).rejects.toThrow();
  });
});
