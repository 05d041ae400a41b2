import type { Readable } from 'node:stream';

/**
 * The stream's first `count` bytes (fewer when it ends sooner). Reading stops as soon as there
 * are enough and the stream is destroyed, so memory stays within `count` plus one chunk whatever
 * the stream holds.
 */
export async function firstBytes(stream: Readable, count: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= count) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, count);
}
