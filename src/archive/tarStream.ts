import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { decompressed as decompressedBytes } from './compression.js';
import type { ArchiveLocation } from './location.js';

/**
 * The entries of a `.tar.gz` or `.tar.zst` file (told by its first bytes), one at a time, with backpressure: the next entry is read
 * only when the current one has been consumed (or is skipped, which drains it). Any damage —
 * not compressed, truncated, a corrupt header — surfaces as an error from the iteration and from the
 * entry being read at that moment.
 */
export function tarEntries(file: ArchiveLocation): AsyncGenerator<ReadEntry> {
  const source = typeof file === 'string' ? createReadStream(file, { highWaterMark: 1 << 20 }) : file.stream();
  return tarStreamEntries(source, { compressed: true });
}

/** The same for a tar stream that is not a file: the Docker archive API's output, say. */
export async function* tarStreamEntries(source: Readable, options: { compressed: boolean }): AsyncGenerator<ReadEntry> {
  const decompressed = options.compressed ? decompressedBytes(source) : source.pipe(new PassThrough());
  const parser = new Parser({ strict: true });
  const trailer = new TrailerGuard();
  let entries = 0;
  const queue: ReadEntry[] = [];
  let current: ReadEntry | undefined;
  let failure: Error | undefined;
  let finished = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const fail = (error: Error) => {
    failure ??= error;
    if (current && !current.emittedEnd) {
      // A consumer between two reads has no listener on the entry; the failure reaches it through the iteration.
      current.on('error', () => undefined);
      current.destroy(error);
    }
    notify();
  };
  parser.on('entry', (entry: ReadEntry) => {
    entries += 1;
    if (entries > MAX_ENTRIES) {
      fail(new HostileArchiveError(`more than ${MAX_ENTRIES.toLocaleString('en-US')} entries`));
      return;
    }
    queue.push(entry);
    notify();
  });
  parser.on('end', () => {
    finished = true;
    notify();
  });
  source.on('error', fail);
  decompressed.on('error', fail);
  trailer.on('error', fail);
  parser.on('error', fail);
  decompressed.pipe(trailer).pipe(parser);
  try {
    for (;;) {
      if (failure) throw failure;
      const entry = queue.shift();
      if (entry) {
        current = entry;
        yield entry;
        const failedMeanwhile = failure as Error | undefined; // set by the listeners while the consumer read
        if (failedMeanwhile) throw failedMeanwhile;
        if (!entry.emittedEnd) {
          entry.resume();
          await Promise.race([once(entry, 'end'), once(entry, 'error')]);
        }
        continue;
      }
      if (finished) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    source.destroy();
    decompressed.destroy();
    trailer.destroy();
  }
}

/** The most entries an archive may have: far above a million objects, far below what exhausts memory. */
const MAX_ENTRIES = 5_000_000;
/** Zero padding allowed after the end marker (tar pads to records; 1 MiB is a hundred times GNU tar's). */
const MAX_TRAILER_BYTES = 1 << 20;

/** Damage that looks made on purpose to exhaust time or memory; refused like any bad archive. */
export class HostileArchiveError extends Error {
  constructor(detail: string) {
    super(`damaged or hostile archive: ${detail}`);
  }
}

/**
 * Passes the tar stream to the parser up to its end marker (two zero blocks where a header is
 * due), found by walking the headers' sizes, then only checks what follows: zero padding is
 * normal, anything else (or more than 1 MiB of it) is reported, and the rest is never
 * decompressed. (The tar parser appends whatever follows the marker to a buffer, which took
 * quadratic time on a gzip of 10 GB of zeros, and the archive still read as sound.)
 */
class TrailerGuard extends Transform {
  /** Bytes of the current 512-byte block seen so far (headers are judged whole). */
  private block = Buffer.alloc(0);
  /** Whole blocks of entry data still to pass before the next header. */
  private dataBlocks = 0;
  private zeroBlocks = 0;
  private ended = false;
  private trailing = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let offset = 0;
    while (offset < chunk.length && !this.ended) {
      if (this.dataBlocks > 0 && this.block.length === 0) {
        // Entry data passes in whole blocks without being looked at.
        const whole = Math.min(Math.floor((chunk.length - offset) / 512), this.dataBlocks);
        if (whole > 0) {
          this.push(chunk.subarray(offset, offset + whole * 512));
          offset += whole * 512;
          this.dataBlocks -= whole;
          continue;
        }
      }
      const take = Math.min(chunk.length - offset, 512 - this.block.length);
      this.block = Buffer.concat([this.block, chunk.subarray(offset, offset + take)]);
      offset += take;
      if (this.block.length < 512) break;
      const block = this.block;
      this.block = Buffer.alloc(0);
      this.push(block);
      if (this.dataBlocks > 0)
        this.dataBlocks -= 1; // the end of a data block that straddled chunks
      else this.header(block);
    }
    if (this.ended && offset < chunk.length) {
      const rest = chunk.subarray(offset);
      this.trailing += rest.length;
      if (rest.some((byte) => byte !== 0)) return callback(new HostileArchiveError('data after the end of the tar archive'));
      if (this.trailing > MAX_TRAILER_BYTES) return callback(new HostileArchiveError('more than 1 MiB after the end of the tar archive'));
    }
    callback();
  }

  private header(block: Buffer): void {
    if (block.every((byte) => byte === 0)) {
      this.zeroBlocks += 1;
      if (this.zeroBlocks === 2) this.ended = true;
      return;
    }
    this.zeroBlocks = 0;
    this.dataBlocks = Math.ceil(entrySize(block) / 512);
  }
}

/** The size field of a tar header: octal, or base-256 for large sizes (GNU). */
function entrySize(header: Buffer): number {
  const field = header.subarray(124, 136);
  if (field[0] & 0x80) {
    let size = 0;
    for (let index = 1; index < field.length; index += 1) size = size * 256 + field[index];
    return size;
  }
  return (
    parseInt(
      field
        .toString('latin1')
        .replace(/[\0 ]+$/, '')
        .trim() || '0',
      8,
    ) || 0
  );
}
