import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../src/archive/writer.js';

describe('a part still being added when the backup fails', () => {
  it('discard() while an addFile is in flight leaves nothing behind once that addFile settles', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'okb-race-'));
    const writer = await ArchiveWriter.open(join(dir, 'b.tar.gz'));
    await writer.addText('mongodb/database.txt', 'test\n');
    const content = new PassThrough();
    content.write(Buffer.alloc(1000, 1));
    // as DumpSplitter's handOn: sink.addFile of a part, not awaited by the pipeline that failed
    const inFlight = writer.addFile('mongodb/dump/part-00000001', 2000, content, { details: () => ({ namespace: 'db.c' }) });
    await new Promise((resolve) => setImmediate(resolve));
    await writer.discard(); // the backup's catch: mongodump was interrupted, pipeline(output, splitter) rejected at once
    content.end(Buffer.alloc(1000, 1));
    const settled = await inFlight.then(
      () => 'fulfilled',
      (error: Error) => `rejected: ${error.message}`,
    );
    expect(settled).toMatch(/^rejected: mongodb\/dump\/part-00000001: the archive was discarded/);
    expect(await readdir(dir)).toEqual([]);
  });
});
