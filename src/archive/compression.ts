import { Readable, type Transform } from 'node:stream';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { UsageError } from '../base/errors.js';
import { MAX_WINDOW_LOG, ZstdFrameSplitter } from './zstdFrames.js';

/** How an archive's tar stream is compressed. */
export type Codec = 'gzip' | 'zstd';

export interface Compression {
  readonly codec: Codec;
  readonly level: number;
}

/** zstd's own default level: `zstd` with no level. */
export const ZSTD_DEFAULT_LEVEL = 3;
const LEVELS: Record<Codec, { min: number; max: number }> = { gzip: { min: 0, max: 9 }, zstd: { min: 1, max: 19 } };

/** What --compression asked for: a codec, and a level unless the codec's default is wanted. */
export interface CompressionChoice {
  readonly codec: Codec;
  readonly level?: number;
}

/** `gzip`, `gzip:<0-9>`, `zstd` or `zstd:<1-19>` (--compression). */
export function parseCompression(text: string): CompressionChoice {
  const match = /^(gzip|zstd)(?::(-?\d+))?$/.exec(text.trim());
  if (!match) {
    throw new UsageError(`--compression ${text}: unknown compression.`, {
      hint: 'Use gzip, gzip:<0-9>, zstd or zstd:<1-19>. Nothing was written.',
    });
  }
  const codec = match[1] as Codec;
  const { min, max } = LEVELS[codec];
  const level = match[2] === undefined ? undefined : Number(match[2]);
  if (level !== undefined && (level < min || level > max)) {
    throw new UsageError(`--compression ${text}: the ${codec} level must be ${min} to ${max}.`, {
      hint: `Use ${codec}:<${min}-${max}>. Nothing was written.`,
    });
  }
  if (codec === 'zstd') requireZstd('--compression zstd');
  return { codec, level };
}

/** The codec and level to write with: gzip at `gzipLevel` (ORKESTRA_GZIP_LEVEL) unless asked otherwise, zstd at 3 by default. */
export function resolveCompression(choice: CompressionChoice | undefined, gzipLevel: number): Compression {
  const codec = choice?.codec ?? 'gzip';
  return { codec, level: choice?.level ?? (codec === 'gzip' ? gzipLevel : ZSTD_DEFAULT_LEVEL) };
}

/** The archive's extension before any `.age`. */
export function archiveExtension(codec: Codec): string {
  return codec === 'zstd' ? '.tar.zst' : '.tar.gz';
}

/** zstd in node:zlib (Node 22.15 and later); typed here because the type definitions may predate it. */
interface ZstdZlib {
  createZstdCompress?(options?: { params?: Record<number, number>; chunkSize?: number }): Transform;
  createZstdDecompress?(options?: { params?: Record<number, number>; chunkSize?: number }): Transform;
  zstdCompress?(
    buffer: Buffer,
    options: { params?: Record<number, number>; chunkSize?: number },
    callback: (error: Error | null, result: Buffer) => void,
  ): void;
  zstdCompressSync?(buffer: Buffer, options?: { params?: Record<number, number> }): Buffer;
  zstdDecompressSync?(buffer: Buffer, options?: { params?: Record<number, number>; maxOutputLength?: number }): Buffer;
}
const zstdZlib = zlib as unknown as ZstdZlib;
const zstdConstants = zlib.constants as unknown as Record<string, number>;

/** Refuses, as bad input, to use zstd on a Node without it. */
export function requireZstd(what: string): void {
  if (typeof zstdZlib.createZstdDecompress !== 'function') {
    throw new UsageError(`${what} needs Node 22.15 or later (this is ${process.version}).`, {
      hint: 'Run orkestra-backup on Node 22.15+ or 24, or use gzip. Nothing was touched.',
    });
  }
}

/**
 * How a piece of the stream is coded: `deflate` at the writer's level; `huffman` (entropy coding
 * only, no match search) for data where matches gain next to nothing, like base64 values or
 * Redis's LZF-packed RDB; `store` (level 0) for data that is already compressed.
 */
export type Coding = 'deflate' | 'huffman' | 'store';

/**
 * zstd's nearest to each coding: level 1 still entropy-codes (base64: as small as level 3), a
 * negative level skips literal coding (1 MiB of random bytes: 0.9 ms at -7, 3.3 ms at 3).
 */
function zstdLevel(coding: Coding, level: number): number {
  if (coding === 'store') return -7;
  if (coding === 'huffman') return 1;
  return level;
}

function gzipOptions(coding: Coding, level: number): { level: number; strategy?: number } {
  if (coding === 'store') return { level: zlib.constants.Z_NO_COMPRESSION };
  if (coding === 'huffman') return { level, strategy: zlib.constants.Z_HUFFMAN_ONLY };
  return { level };
}

function zstdParams(level: number): Record<number, number> {
  return { [zstdConstants.ZSTD_c_compressionLevel]: level, [zstdConstants.ZSTD_c_checksumFlag]: 1 };
}

const gzipAsync = promisify(zlib.gzip);

/** One independent gzip member or zstd frame of `bytes`, coded as asked (off the main thread). */
export function compressFrame(compression: Compression, coding: Coding, bytes: Buffer, chunkSize: number): Promise<Buffer> {
  if (compression.codec === 'gzip') return gzipAsync(bytes, { ...gzipOptions(coding, compression.level), chunkSize });
  return new Promise((resolve, reject) =>
    zstdZlib.zstdCompress!(bytes, { params: zstdParams(zstdLevel(coding, compression.level)), chunkSize }, (error, result) =>
      error ? reject(error) : resolve(result),
    ),
  );
}

/** The same, on this thread: for the small head (manifest, index pieces). */
export function compressFrameSync(compression: Compression, bytes: Buffer): Buffer {
  if (compression.codec === 'gzip') return zlib.gzipSync(bytes, { level: compression.level });
  return zstdZlib.zstdCompressSync!(bytes, { params: zstdParams(compression.level) });
}

/** The codec the first bytes of an archive announce (gzip's 1f 8b, zstd's frame or skippable-frame magic). */
export function codecOf(start: Buffer): Codec | undefined {
  if (start.length >= 2 && start[0] === 0x1f && start[1] === 0x8b) return 'gzip';
  if (start.length < 4) return undefined;
  const magic = start.readUInt32LE(0);
  if (magic === 0xfd2fb528 || (magic & 0xfffffff0) >>> 0 === 0x184d2a50) return 'zstd';
  return undefined;
}

/** The error a stream that is neither gzip nor zstd fails with. */
export class NotCompressedError extends Error {
  constructor() {
    super('not gzip- or zstd-compressed');
  }
}

/** Output chunks of a quarter megabyte: each chunk is a round trip to zlib's thread, and 16 KiB ones halve the speed. */
const OUTPUT_CHUNK = 256 * 1024;

/**
 * The decompressed bytes of `source`, gzip or zstd as its first bytes say (whatever the name).
 * Anything else fails with `NotCompressedError`. Read as a plain byte stream: a quarter megabyte
 * ahead at most, so memory does not follow the data.
 */
export function decompressed(source: Readable): Readable {
  return Readable.from(decompressedChunks(source), { objectMode: false, highWaterMark: OUTPUT_CHUNK });
}

async function* decompressedChunks(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  // The source's iterator is not returned on the way out: that would destroy the source with an
  // AbortError ahead of the real error. Whoever opened the source destroys it.
  const iterator = source[Symbol.asyncIterator]();
  let start = Buffer.alloc(0);
  while (start.length < 4) {
    const next = await iterator.next();
    if (next.done) break;
    start = Buffer.concat([start, next.value]);
  }
  const codec = codecOf(start);
  if (!codec) throw new NotCompressedError();
  const rest = restOf(start, iterator);
  if (codec === 'gzip') yield* streamed(rest, zlib.createGunzip({ chunkSize: OUTPUT_CHUNK }));
  else yield* zstdFrames(rest);
}

async function* restOf(start: Buffer, iterator: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield start;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
}

/**
 * The decompressed bytes of a zstd stream, frame by frame: each frame has a decompressor of its
 * own, fed as its bytes come, its output read as it is made, so neither side is held whole.
 */
export async function* zstdFrames(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  requireZstd('reading a .tar.zst archive');
  const splitter = new ZstdFrameSplitter();
  let frame: FramePump | undefined;
  try {
    for await (const chunk of source) {
      for (const segment of splitter.split(chunk)) {
        if (segment.first || !frame) frame = new FramePump();
        yield* frame.write(segment.bytes);
        if (segment.last) {
          yield* frame.end();
          frame = undefined;
        }
      }
    }
    splitter.finish();
  } finally {
    frame?.destroy();
  }
}

/** One frame's decompressor, driven with backpressure from a generator. */
class FramePump {
  private readonly stream = zstdZlib.createZstdDecompress!({
    chunkSize: OUTPUT_CHUNK,
    params: { [zstdConstants.ZSTD_d_windowLogMax]: MAX_WINDOW_LOG },
  });
  private failure: Error | undefined;
  private ended = false;
  private needsDrain = false;
  private wake: (() => void) | undefined;

  constructor() {
    const notify = () => {
      this.wake?.();
      this.wake = undefined;
    };
    this.stream.on('error', (error: Error) => {
      this.failure = error;
      notify();
    });
    this.stream.on('readable', notify);
    this.stream.on('drain', () => {
      this.needsDrain = false;
      notify();
    });
    this.stream.on('end', () => {
      this.ended = true;
      notify();
    });
  }

  async *write(bytes: Buffer): AsyncGenerator<Buffer> {
    this.needsDrain = !this.stream.write(bytes);
    while (this.needsDrain) {
      yield* this.available();
      if (!this.needsDrain) break;
      await this.next();
    }
  }

  async *end(): AsyncGenerator<Buffer> {
    this.stream.end();
    while (!this.ended) {
      yield* this.available();
      if (this.ended) break;
      await this.next();
    }
    this.throwIfFailed();
  }

  destroy(): void {
    this.stream.destroy();
  }

  private *available(): Generator<Buffer> {
    this.throwIfFailed();
    for (let chunk = this.stream.read() as Buffer | null; chunk !== null; chunk = this.stream.read() as Buffer | null) yield chunk;
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private next(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve) => (this.wake = resolve));
  }
}

/** A transform's output for the given input, with errors from either side. */
async function* streamed(input: AsyncIterable<Buffer>, transform: Transform): AsyncGenerator<Buffer> {
  const feeding = (async () => {
    for await (const chunk of input) {
      if (!transform.write(chunk)) await drainedOrClosed(transform);
      if (transform.destroyed) return;
    }
    transform.end();
  })();
  feeding.catch((error: unknown) => transform.destroy(error as Error));
  try {
    yield* transform as AsyncIterable<Buffer>;
    await feeding;
  } finally {
    transform.destroy();
  }
}

/** Waits for room in the transform's input, or its end; the listeners go with the wait. */
function drainedOrClosed(transform: Transform): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      transform.off('drain', done);
      transform.off('close', done);
      resolve();
    };
    transform.on('drain', done);
    transform.on('close', done);
  });
}

/** The stream's first zstd frame decoded, refused unless the bytes are exactly one frame (the manifest's). */
export function singleFrame(bytes: Buffer, codec: Codec, maxOutput: number): Buffer {
  if (codec === 'gzip') return zlib.gunzipSync(bytes, { maxOutputLength: maxOutput });
  requireZstd('reading a .tar.zst archive');
  const splitter = new ZstdFrameSplitter();
  const segments = splitter.split(bytes);
  splitter.finish();
  if (splitter.frames !== 1 || segments.length !== 1) throw new Error('not exactly one zstd frame');
  return zstdZlib.zstdDecompressSync!(bytes, {
    maxOutputLength: maxOutput,
    params: { [zstdConstants.ZSTD_d_windowLogMax]: MAX_WINDOW_LOG },
  });
}
