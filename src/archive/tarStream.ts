import { createReadStream } from 'node:fs';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { finished } from 'node:stream/promises';
import { entries, type ReadEntry } from 'tar';
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
  const trailer = new TrailerGuard();
  let failure: Error | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    trailer.destroy(error); // the reader, or the body being read, gets it from its next read
  };
  source.on('error', fail);
  decompressed.on('error', fail);
  trailer.on('error', (error: Error) => (failure ??= error));
  decompressed.pipe(trailer);
  // The reader stops at the end marker and lets go of its input; the guard still checks what follows.
  const reader = entries(trailer.iterator({ destroyOnReturn: false }), { strict: true });
  let count = 0;
  try {
    for await (const entry of reader) {
      count += 1;
      if (count > MAX_ENTRIES) throw new HostileArchiveError(`more than ${MAX_ENTRIES.toLocaleString('en-US')} entries`);
      yield entry;
      if (failure) throw failure; // set by the listeners while the consumer read, whether or not it saw it
    }
    trailer.resume();
    await finished(trailer);
  } finally {
    source.destroy();
    decompressed.destroy();
    trailer.destroy();
  }
}

/**
 * Waits until a consumer that started reading an entry's content (or resumed it to skip it) is
 * done with it, before the next entry is read or the reading stops: the reader skips what is left
 * of a body then, and a stream still pulling that body would fail. A consumer that gives up on a
 * content destroys it.
 */
export async function contentReleased(content: Readable): Promise<void> {
  if (content.readableFlowing === null || content.readableEnded || content.destroyed) return;
  await finished(content).catch(() => undefined); // a damaged archive fails again from the reader
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
 * Passes the tar stream to the parser up to its end marker (a zero block where a header is due,
 * the first of two), found by walking the headers' sizes, then only checks what follows: zero
 * padding is normal, anything else (or more than 1 MiB of it) is reported, and the rest is never
 * decompressed. (The tar parser stops reading at the marker: data hidden after it would
 * otherwise read as sound.)
 */
class TrailerGuard extends Transform {
  /** Bytes of the current 512-byte block seen so far (headers are judged whole). */
  private block = Buffer.alloc(0);
  /** Whole blocks of entry data still to pass before the next header. */
  private dataBlocks = 0;
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
    // The tar parser ends the archive at the first zero block, so an entry after it would go unread: here it is data after the end.
    if (block.every((byte) => byte === 0)) this.ended = true;
    else this.dataBlocks = Math.ceil(entrySize(block) / 512);
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
