import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { zstdFrames } from '../../src/archive/compression.js';
import { ZstdFormatError, ZstdFrameSplitter, type FrameSegment } from '../../src/archive/zstdFrames.js';

const zstd = zlib as unknown as { zstdCompressSync(bytes: Buffer, options?: { params?: Record<number, number> }): Buffer };
const constants = zlib.constants as unknown as Record<string, number>;

function compress(bytes: Buffer, level = 3, checksum = true): Buffer {
  return zstd.zstdCompressSync(bytes, {
    params: { [constants.ZSTD_c_compressionLevel]: level, [constants.ZSTD_c_checksumFlag]: checksum ? 1 : 0 },
  });
}

/** A skippable frame (magic 0x184D2A5?) holding `payload`. */
function skippable(payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0x184d2a53, 0);
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Splits `stream` cut into pieces of `size` bytes; returns each frame's bytes, joined. */
function framesOf(stream: Buffer, size: number): Buffer[] {
  const splitter = new ZstdFrameSplitter();
  const segments: FrameSegment[] = [];
  for (let offset = 0; offset < stream.length; offset += size) segments.push(...splitter.split(stream.subarray(offset, offset + size)));
  splitter.finish();
  const frames: Buffer[] = [];
  let current: Buffer[] | undefined;
  for (const segment of segments) {
    if (segment.first) {
      expect(current).toBeUndefined();
      current = [];
    }
    current!.push(segment.bytes);
    if (segment.last) {
      frames.push(Buffer.concat(current!));
      current = undefined;
    }
  }
  expect(current).toBeUndefined();
  return frames;
}

/** Digests to compare: vitest's deep equality walks a Buffer byte by byte, seconds per megabyte. */
const digests = (buffers: Buffer[]) => buffers.map((buffer) => `${buffer.length}:${createHash('sha256').update(buffer).digest('hex')}`);

async function decoded(stream: Buffer, size: number): Promise<Buffer> {
  const pieces = [];
  for (let offset = 0; offset < stream.length; offset += size) pieces.push(stream.subarray(offset, offset + size));
  return Buffer.concat(await Readable.from(zstdFrames(Readable.from(pieces))).toArray());
}

describe('zstd frame splitter', () => {
  const parts = [
    Buffer.from('manifest '.repeat(40)),
    randomBytes(140 * 1024), // raw blocks
    Buffer.alloc(300 * 1024, 7), // RLE blocks
    Buffer.from(randomBytes(30 * 1024).toString('base64')), // compressed blocks
    Buffer.alloc(0), // an empty frame
  ];
  const frames = [compress(parts[0]), compress(parts[1], 1, false), compress(parts[2], 19), compress(parts[3]), compress(parts[4])];
  const stream = Buffer.concat([frames[0], skippable(Buffer.from('skip me')), ...frames.slice(1), skippable(Buffer.alloc(0))]);

  it('finds every frame whatever the chunk size, a boundary inside a magic, header, block header or checksum included', () => {
    for (const size of [4096, 65_537, stream.length]) expect(digests(framesOf(stream, size)), `chunks of ${size}`).toEqual(digests(frames));
    // Every boundary position in the small frames' headers, block headers and checksums.
    const small = [compress(parts[0]), compress(Buffer.from('x')), compress(parts[4], 3, false)];
    const smallStream = Buffer.concat([small[0], skippable(Buffer.from('skip me')), small[1], small[2]]);
    for (const size of [1, 2, 3, 5, 7, 13]) expect(framesOf(smallStream, size), `chunks of ${size}`).toEqual(small);
  });

  it('decodes every frame of a multi-frame stream (Node before 24.22 decodes only the first and drops the rest silently)', async () => {
    expect(digests([await decoded(stream, 1000)])).toEqual(digests([Buffer.concat(parts)]));
    expect(digests([await decoded(stream, stream.length)])).toEqual(digests([Buffer.concat(parts)]));
  });

  it('refuses a stream cut inside its last frame, with a clear error instead of silence', async () => {
    for (const cut of [1, 3, 6, 9, 100, frames[4].length + 1]) {
      const truncated = stream.subarray(0, stream.length - 8 - cut);
      expect(() => framesOf(truncated, 4096), `cut ${cut}`).toThrow(/ends inside a zstd frame/);
      await expect(decoded(truncated, 4096)).rejects.toThrow(ZstdFormatError);
    }
    expect(() => framesOf(stream.subarray(0, stream.length - 3), 100)).toThrow(/ends inside a skippable frame/);
  });

  it('refuses bytes that are not a frame, reserved fields, dictionaries and windows over 8 MiB', () => {
    expect(() => framesOf(Buffer.concat([frames[0], Buffer.from('garbage!')]), 64)).toThrow(
      `no zstd frame begins at byte ${frames[0].length}`,
    );
    const reserved = Buffer.from(frames[0]);
    reserved[4] |= 0x08;
    expect(() => framesOf(reserved, 64)).toThrow(/reserved bit/);
    // Magic, descriptor (no single segment, 1-byte dictionary id), window 1 KiB, dictionary 7.
    expect(() => framesOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x01, 0x00, 0x07]), 64)).toThrow(/dictionary/);
    // A window of 2^31 bytes asked for: refused before anything is decoded.
    expect(() => framesOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3]), 64)).toThrow(/window, over the 8 MiB allowed/);
    // Single segment, 4-byte content size of 4 GiB - 1 (an untrusted declared size): refused too.
    expect(() => framesOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0xff, 0xff, 0xff, 0xff]), 64)).toThrow(/window/);
    // A block of the reserved type.
    expect(() => framesOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x07, 0x00, 0x00]), 64)).toThrow(/reserved type/);
  });

  it('passes a damaged block on to the decoder, which refuses it', async () => {
    const damaged = Buffer.from(frames[3]);
    damaged[damaged.length - 20] ^= 0xff;
    await expect(decoded(Buffer.concat([frames[0], damaged]), 4096)).rejects.toThrow();
  });
});
