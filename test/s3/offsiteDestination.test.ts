import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CompletedPart } from '@aws-sdk/client-s3';
import type { OffsiteStore } from '../../src/s3/offsite/offsite.js';
import { OffsiteDestination } from '../../src/s3/offsite/offsiteDestination.js';
import { parseOffsiteUrl } from '../../src/s3/offsite/offsiteUrl.js';

const MiB = 1024 * 1024;

/** Records what an S3 store would receive; the bytes of each part are kept to be put together. */
function recordingStore() {
  const parts = new Map<number, Buffer>();
  const calls: string[] = [];
  const store = {
    startUpload: async () => {
      calls.push('start');
      return 'upload-1';
    },
    uploadPart: async (
      _url: unknown,
      _id: string,
      partNumber: number,
      body: () => Buffer | Readable,
      length: number,
    ): Promise<CompletedPart> => {
      const made = body();
      const bytes = Buffer.isBuffer(made) ? Buffer.from(made) : Buffer.concat((await made.toArray()) as Buffer[]);
      expect(bytes.length).toBe(length);
      parts.set(partNumber, bytes);
      calls.push(`part ${partNumber}`);
      return { PartNumber: partNumber, ETag: `"${partNumber}"` };
    },
    completeUpload: async (_url: unknown, _id: string, completed: CompletedPart[]) => {
      calls.push(`complete ${completed.map((part) => part.PartNumber).join(',')}`);
    },
    abortUpload: async () => {
      calls.push('abort');
    },
    remove: async () => {
      calls.push('remove');
    },
    stat: async () => ({ key: 'key.tar.gz', size: 0, etag: '"etag"', modifiedMs: 0 }),
  };
  return { store: store as unknown as OffsiteStore, parts, calls };
}

const head = (bytes: Buffer) => ({ size: bytes.length, open: () => Readable.from([bytes]) });
const options = { partBytes: 5 * MiB, concurrency: 2, onWarning: () => undefined };

describe('an archive streamed into a multipart upload', () => {
  it('part 1 — the head, then the held first body part — goes up last; the object is head + body byte for byte', async () => {
    const { store, parts, calls } = recordingStore();
    const destination = await OffsiteDestination.open(store, parseOffsiteUrl('s3://bucket/key.tar.gz'), options);
    const body = Buffer.alloc(17 * MiB + 123);
    for (let index = 0; index < body.length; index += 1) body[index] = index % 251;
    for (let offset = 0; offset < body.length; offset += 700_000) await destination.writeBody(body.subarray(offset, offset + 700_000));
    const manifest = Buffer.from('manifest and indexes');
    const published = await destination.publish(head(manifest));
    expect(published).toEqual({ path: 's3://bucket/key.tar.gz', bytes: manifest.length + body.length });
    expect(calls.indexOf('part 1')).toBeGreaterThan(calls.indexOf('part 4'));
    expect(calls.at(-1)).toBe('complete 1,2,3,4');
    const numbers = [...parts.keys()].sort((a, b) => a - b);
    // Every part but the last is at least 5 MiB, as S3 requires.
    for (const number of numbers.slice(0, -1)) expect(parts.get(number)!.length).toBeGreaterThanOrEqual(5 * MiB);
    // Compared by hash: a failed toEqual on 17 MiB buffers prints a diff that exhausts the heap.
    expect(sha256(Buffer.concat(numbers.map((number) => parts.get(number)!)))).toBe(sha256(Buffer.concat([manifest, body])));
    expect(numbers.map((number) => parts.get(number)!.length)).toEqual([manifest.length + 5 * MiB, 5 * MiB, 5 * MiB, 2 * MiB + 123]);
  });

  it('a body smaller than one part is one part: the head and the whole body', async () => {
    const { store, parts, calls } = recordingStore();
    const destination = await OffsiteDestination.open(store, parseOffsiteUrl('s3://bucket/key.tar.gz'), options);
    await destination.writeBody(Buffer.from('tiny body'));
    await destination.publish(head(Buffer.from('head:')));
    expect(calls).toEqual(['start', 'part 1', 'complete 1']);
    expect(parts.get(1)!.toString()).toBe('head:tiny body');
  });

  it('discarded before completion: the upload is aborted, never completed; after completion the object is removed', async () => {
    const first = recordingStore();
    const aborted = await OffsiteDestination.open(first.store, parseOffsiteUrl('s3://bucket/key.tar.gz'), options);
    await aborted.writeBody(Buffer.alloc(11 * MiB));
    await aborted.discard();
    expect(first.calls).toContain('abort');
    expect(first.calls.some((call) => call.startsWith('complete'))).toBe(false);

    const second = recordingStore();
    const checked = await OffsiteDestination.open(second.store, parseOffsiteUrl('s3://bucket/key.tar.gz'), options);
    await checked.writeBody(Buffer.from('body'));
    await expect(checked.publish(head(Buffer.from('head')), () => Promise.reject(new Error('read-back found a problem')))).rejects.toThrow(
      'read-back',
    );
    await checked.discard();
    expect(second.calls.slice(-2)).toEqual(['complete 1', 'remove']);
  });
});

describe('s3:// URLs', () => {
  it('a folder ends with a slash; an exact key does not; a missing or invalid bucket is refused', () => {
    expect(parseOffsiteUrl('s3://offsite/nightly/')).toEqual({ bucket: 'offsite', key: 'nightly/', folder: true });
    expect(parseOffsiteUrl('s3://offsite')).toEqual({ bucket: 'offsite', key: '', folder: true });
    expect(parseOffsiteUrl('s3://offsite/a/b.tar.gz')).toEqual({ bucket: 'offsite', key: 'a/b.tar.gz', folder: false });
    expect(() => parseOffsiteUrl('s3://')).toThrow(/names no bucket/);
    expect(() => parseOffsiteUrl('s3://Bad_Bucket/x')).toThrow(/not a valid S3 bucket name/);
    expect(() => parseOffsiteUrl('s3://offsite//x')).toThrow(/empty path segment/);
  });
});

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
