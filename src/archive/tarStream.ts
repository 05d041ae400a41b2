import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import { PassThrough, type Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import type { ArchiveLocation } from './pinned.js';

/**
 * The entries of a `.tar.gz` file, one at a time, with backpressure: the next entry is read
 * only when the current one has been consumed (or is skipped, which drains it). Any damage —
 * not gzip, truncated, a corrupt header — surfaces as an error from the iteration and from the
 * entry being read at that moment.
 */
export function tarEntries(file: ArchiveLocation): AsyncGenerator<ReadEntry> {
  const source = typeof file === 'string' ? createReadStream(file, { highWaterMark: 1 << 20 }) : file.stream();
  return tarStreamEntries(source, { gzip: true });
}

/** The same for a tar stream that is not a file: the Docker archive API's output, say. */
export async function* tarStreamEntries(source: Readable, options: { gzip: boolean }): AsyncGenerator<ReadEntry> {
  // Large output chunks: each chunk is a round trip to zlib's thread, and 16 KiB ones halve the speed.
  const gunzip = options.gzip ? createGunzip({ chunkSize: 256 * 1024 }) : new PassThrough();
  const parser = new Parser({ strict: true });
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
    if (current && !current.emittedEnd) current.destroy(error);
    notify();
  };
  parser.on('entry', (entry: ReadEntry) => {
    queue.push(entry);
    notify();
  });
  parser.on('end', () => {
    finished = true;
    notify();
  });
  source.on('error', fail);
  gunzip.on('error', fail);
  parser.on('error', fail);
  source.pipe(gunzip).pipe(parser);
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
    gunzip.destroy();
  }
}
