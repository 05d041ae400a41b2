import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { fixedSizeParts, MULTIPART_PART_SIZE, ObjectStore, StoreServerError } from '../../src/s3/store.js';
import { startS3, uniqueName } from '../engine/stack.js';
import { Containers, describeEngine, engineStack } from '../helpers/engine.js';
import { s3Client, snapshotStore } from '../helpers/s3.js';

async function* chunksOf(bytes: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let offset = 0;
  for (let index = 0; offset < bytes.length; index += 1) {
    const size = sizes[index % sizes.length];
    yield bytes.subarray(offset, offset + size);
    offset += size;
  }
}

async function collectParts(bytes: Buffer, chunkSizes: number[], partSize: number) {
  const buffers: Buffer[] = [];
  const parts: Buffer[] = [];
  for await (const part of fixedSizeParts(chunksOf(bytes, chunkSizes), () => Buffer.alloc(partSize))) {
    buffers.push(part.buffer);
    parts.push(Buffer.from(part.bytes));
  }
  return { buffers, parts };
}

describe('cutting a stream into parts', () => {
  it('every part but the last is exactly the part size, whatever the chunking, and the bytes are unchanged', async () => {
    const bytes = randomBytes(10_000);
    for (const chunkSizes of [[1], [7, 3000], [4096], [10_000], [2500]]) {
      const { parts } = await collectParts(bytes, chunkSizes, 2500);
      expect(parts.map((part) => part.length)).toEqual([2500, 2500, 2500, 2500]);
      expect(Buffer.concat(parts).equals(bytes)).toBe(true);
    }
    const { parts } = await collectParts(bytes.subarray(0, 6001), [333], 2500);
    expect(parts.map((part) => part.length)).toEqual([2500, 2500, 1001]);
  });

  it('copies into the buffers it is given, so memory is the parts in flight, not the object', async () => {
    const pool = [Buffer.alloc(100), Buffer.alloc(100)];
    let taken = 0;
    const seen = new Set<Buffer>();
    for await (const part of fixedSizeParts(chunksOf(randomBytes(1000), [64]), () => pool[taken++ % 2])) seen.add(part.buffer);
    expect(seen.size).toBe(2);
    expect(taken).toBe(11); // ten full parts, and one buffer taken for a last part that never came
  });

  it('an empty stream yields no part', async () => {
    const { parts } = await collectParts(Buffer.alloc(0), [1], 10);
    expect(parts).toEqual([]);
  });
});

const containers = new Containers();
afterAll(() => containers.removeAll());

describeEngine('multipart upload into a real S3 protocol server', () => {
  it('a part that fails is sent again on its own from its kept buffer; the object is whole and carries its attributes', async () => {
    const stack = engineStack();
    const s3 = containers.track(await startS3(stack, uniqueName('okb-parts'), { accessKey: 'parts-a', secretKey: 'parts-secret' }));
    const store = new ObjectStore({ endpoint: s3.endpoint, accessKeyId: 'parts-a', secretAccessKey: 'parts-secret' });
    const bytes = randomBytes(2 * MULTIPART_PART_SIZE + 12345);
    const requests: string[] = [];
    let failedOnce = false;
    // The retry the component passes in, with one injected server failure on the second part.
    const retry = async <T>(work: () => Promise<T>): Promise<T> => {
      const attempt = async (): Promise<T> => {
        if (requests.length === 2 && !failedOnce) {
          failedOnce = true;
          requests.push('failure');
          throw new StoreServerError('injected failure');
        }
        const result = await work();
        requests.push('ok');
        return result;
      };
      return attempt().catch(() => attempt());
    };
    try {
      await store.ensureBucket('big');
      await store.putMultipart(
        'big',
        'blob.bin',
        chunksOf(bytes, [65_536, 1000]),
        { contentType: 'application/x-test', metadata: { owner: 'ada' } },
        { retry },
      );
    } finally {
      store.destroy();
    }
    // start, part 1, failed part 2, part 2 again, part 3, complete
    expect(requests).toEqual(['ok', 'ok', 'failure', 'ok', 'ok', 'ok']);
    const client = s3Client(s3.endpoint, 'parts-a', 'parts-secret');
    const stored = await snapshotStore(client);
    expect(stored['big/blob.bin']).toEqual({
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
      contentType: 'application/x-test',
      metadata: { owner: 'ada' },
    });
  }, 120_000);
});
