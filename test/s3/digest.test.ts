import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { ObjectDigest } from '../../src/s3/rustfs/digest.js';
import { MULTIPART_PART_SIZE } from '../../src/s3/client/multipart.js';

const md5 = (bytes: Buffer | Buffer[]) =>
  createHash('md5')
    .update(Buffer.concat([bytes].flat()))
    .digest();

async function digestOf(content: Buffer, limit: number): Promise<ObjectDigest> {
  const digest = new ObjectDigest(content.length, limit);
  // Odd chunk sizes: part boundaries must not depend on how the body arrives.
  const chunks = [];
  for (let offset = 0; offset < content.length; offset += 777_777) chunks.push(content.subarray(offset, offset + 777_777));
  await pipeline(Readable.from(chunks), digest, async (source) => {
    for await (const _ of source);
  });
  return digest;
}

describe('ObjectDigest', () => {
  it('gives the MD5 of an object that fits one upload, and no multipart ETag', async () => {
    const content = Buffer.alloc(3 * 1024 * 1024 + 5, 'a');
    const digest = await digestOf(content, 16 * 1024 * 1024);
    expect(digest.md5).toBe(md5(content).toString('hex'));
    expect(digest.multipartEtag).toBeUndefined();
    expect(digest.bytes).toBe(content.length);
  });

  it('gives the ETag a multipart upload in MULTIPART_PART_SIZE parts leaves for a larger one, and no MD5', async () => {
    const content = Buffer.alloc(2 * MULTIPART_PART_SIZE + 12_345);
    for (let index = 0; index < content.length; index += 4096) content[index] = index % 251;
    const digest = await digestOf(content, MULTIPART_PART_SIZE);
    const parts = [0, 1, 2].map((part) => md5(content.subarray(part * MULTIPART_PART_SIZE, (part + 1) * MULTIPART_PART_SIZE)));
    expect(digest.multipartEtag).toBe(`${md5(parts).toString('hex')}-3`);
    expect(digest.md5).toBeUndefined();
  });
});
