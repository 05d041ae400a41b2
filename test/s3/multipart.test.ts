import { createHash, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { withRetries } from '../../src/s3/client/retry.js';
import { fixedSizeParts, MULTIPART_PART_SIZE } from '../../src/s3/client/multipart.js';
import { ObjectStore } from '../../src/s3/client/store.js';
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
  it('a part the server fails is sent again through the real retry path; the object is whole and carries its attributes', async () => {
    const stack = engineStack();
    const s3 = containers.track(await startS3(stack, uniqueName('okb-parts'), { accessKey: 'parts-a', secretKey: 'parts-secret' }));
    // A proxy in front of the real server answers the first try of part 2 with a 503, as a
    // store under load does; everything else passes through untouched.
    const seen: string[] = [];
    const proxy = await failingProxy(s3.endpoint, (request) => {
      const part = new URL(request.url ?? '', 'http://x').searchParams.get('partNumber');
      if (part) seen.push(`part ${part}`);
      return part === '2' && seen.filter((entry) => entry === 'part 2').length === 1;
    });
    const store = new ObjectStore({ endpoint: proxy.endpoint, accessKeyId: 'parts-a', secretAccessKey: 'parts-secret' });
    const bytes = randomBytes(2 * MULTIPART_PART_SIZE + 12345);
    const notes: string[] = [];
    const signal = new AbortController().signal;
    // The retry the rustfs component passes in, with short pauses.
    const retry = <T>(work: () => Promise<T>) => withRetries(work, { signal, onRetry: (note) => notes.push(note), backoffMs: [10, 10] });
    try {
      await store.ensureBucket('big');
      await store.putMultipart(
        'big',
        'blob.bin',
        chunksOf(bytes, [65_536, 1000]),
        { contentType: 'application/x-test', metadata: { owner: 'ada' } },
        { retry, signal },
      );
    } finally {
      store.destroy();
      await proxy.close();
    }
    expect(seen.filter((entry) => entry === 'part 2')).toHaveLength(2);
    expect(seen.filter((entry) => entry !== 'part 2').sort()).toEqual(['part 1', 'part 3']);
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

/** An HTTP proxy on loopback that answers 503 to the requests `fails` picks and forwards the rest. */
async function failingProxy(target: string, fails: (request: IncomingMessage) => boolean) {
  const upstream = new URL(target);
  const server = createServer((request, response) => {
    if (fails(request)) {
      request.resume();
      request.on('end', () => {
        response.writeHead(503, { 'Content-Type': 'application/xml' });
        response.end('<?xml version="1.0"?><Error><Code>ServiceUnavailable</Code><Message>busy</Message></Error>');
      });
      return;
    }
    const forwarded = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on('error', () => response.destroy());
    request.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
