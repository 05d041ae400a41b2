import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ComponentSource } from '../core/component.js';
import { MongoArchiveReader, type MongoArchiveSummary } from './archive.js';

/** The mongodump archive (gzip) inside the archive's mongodb/ folder. */
export const MONGO_DUMP_ENTRY = 'mongo.archive.gz';

/** The dump's bytes from the archive, for mongorestore's stdin. */
export function dumpStream(source: ComponentSource, onBytes?: (bytes: number) => void): Readable {
  return Readable.from(
    (async function* () {
      for await (const entry of source.entries()) {
        if (entry.path !== MONGO_DUMP_ENTRY) continue;
        for await (const chunk of entry.content as AsyncIterable<Buffer>) {
          onBytes?.(chunk.length);
          yield chunk;
        }
      }
    })(),
  );
}

/**
 * Reads the dump inside the archive with the native mongodump-archive reader: only its prelude
 * (the first kilobytes) for a plan, or all of it — counts, sizes, CRC-64 — for inspect/verify.
 */
export async function readDump(source: ComponentSource): Promise<MongoArchiveSummary | undefined> {
  for await (const entry of source.entries()) {
    if (entry.path !== MONGO_DUMP_ENTRY) continue;
    const reader = new MongoArchiveReader();
    // Large output chunks, as for the archive itself: each chunk is a round trip to zlib's thread.
    const gunzip = entry.content.pipe(createGunzip({ chunkSize: 256 * 1024 }));
    try {
      for await (const chunk of gunzip) {
        reader.push(chunk as Buffer);
        if (reader.failed) return reader.summary();
      }
    } catch (error) {
      const summary = reader.summary();
      summary.problems.push(`mongodb/${MONGO_DUMP_ENTRY} is not a complete gzip stream (${(error as Error).message})`);
      return summary;
    } finally {
      gunzip.destroy();
      entry.content.destroy();
    }
    return reader.finish();
  }
  return undefined;
}
