import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import type { ComponentSource } from '../archive/componentSource.js';
import { MongoArchiveReader, type MongoArchiveSummary } from './archive.js';

/** The mongodump archive (gzip) inside the archive's mongodb/ folder. */
export const MONGO_DUMP_ENTRY = 'mongo.archive.gz';

/**
 * The dump's bytes from the archive, for mongorestore's stdin. Once `cut` is aborted the stream
 * ends where it is: the tool reads an archive that stops short, fails and exits by itself, so
 * its exit can be awaited before anything else touches the server.
 */
export function dumpStream(source: ComponentSource, onBytes?: (bytes: number) => void, cut?: AbortSignal): Readable {
  return Readable.from(
    (async function* () {
      for await (const entry of source.entries()) {
        if (entry.path !== MONGO_DUMP_ENTRY) continue;
        for await (const chunk of entry.content as AsyncIterable<Buffer>) {
          if (cut?.aborted) return;
          onBytes?.(chunk.length);
          yield chunk;
        }
      }
    })(),
  );
}

/**
 * The dump from the archive cut down to the namespaces `keep` takes (see ArchiveForward), gzip
 * again for `mongorestore --archive --gzip`: inflated, only the framing walked, what is kept
 * deflated at level 1 (fewer bytes through an exec than plain BSON, for a few milliseconds per
 * megabyte). Each chunk is passed on before the next is read: memory holds a chunk and a header.
 * Inflating is the cost: the 186 MB dump of the 2 GB bench (474 MB of BSON) takes 1.3–1.7 s here.
 * A dump whose framing breaks ends where it breaks: the tool reads an archive cut short and fails.
 */
export function selectedDumpStream(
  source: ComponentSource,
  keep: (db: string, collection: string) => boolean,
  onBytes?: (bytes: number) => void,
  cut?: AbortSignal,
): Readable {
  const selected = Readable.from(
    (async function* () {
      let kept: Buffer[] = [];
      const reader = new MongoArchiveReader({ forward: { keep, write: (bytes) => kept.push(bytes) } });
      const gunzip = createGunzip({ chunkSize: 256 * 1024 });
      pipeline(dumpStream(source, onBytes, cut), gunzip).catch(() => undefined); // a read failure destroys `gunzip` with it
      try {
        for await (const chunk of gunzip) {
          reader.push(chunk as Buffer);
          if (kept.length > 0) yield kept.length === 1 ? kept[0] : Buffer.concat(kept);
          kept = [];
          if (reader.failed) return;
        }
      } catch (error) {
        // Cut short by `cut`, the dump no longer inflates to its end: the stream ends where it is, as dumpStream's does.
        if (!cut?.aborted) throw error;
      } finally {
        gunzip.destroy();
      }
    })(),
  );
  const gzip = createGzip({ level: 1 });
  pipeline(selected, gzip).catch(() => undefined); // a failure destroys `gzip` with it: its reader sees it
  return gzip;
}

/** The namespaces ("db.collection") a gzip-compressed mongodump archive file holds, from its prelude alone. */
export async function preludeNamespaces(file: string): Promise<string[]> {
  const reader = new MongoArchiveReader();
  const gunzip = createReadStream(file).pipe(createGunzip());
  try {
    for await (const chunk of gunzip) {
      reader.push(chunk as Buffer);
      if (reader.failed || reader.summary().preludeComplete) break;
    }
  } finally {
    gunzip.destroy();
  }
  const summary = reader.summary();
  if (!summary.preludeComplete)
    throw new Error(`${file} does not begin with a complete mongodump prelude (${summary.problems[0] ?? 'cut short'})`);
  return summary.namespaces.map((namespace) => `${namespace.db}.${namespace.collection}`);
}

/**
 * Reads the dump inside the archive with the native mongodump-archive reader, all of it —
 * counts, sizes, CRC-64 — for a plan without recorded counts, inspect and verify.
 */
export function readDump(source: ComponentSource): Promise<MongoArchiveSummary | undefined> {
  return readArchivedDump(source, false);
}

/**
 * Reads only the dump's prelude (header and collection metadata, the first kilobytes): the
 * namespaces and their types, never the documents (each counts 0; a time-series collection's
 * buckets, which have no metadata, are not named). `preludeComplete` says whether it was whole.
 */
export function readDumpPrelude(source: ComponentSource): Promise<MongoArchiveSummary | undefined> {
  return readArchivedDump(source, true);
}

async function readArchivedDump(source: ComponentSource, preludeOnly: boolean): Promise<MongoArchiveSummary | undefined> {
  for await (const entry of source.entries()) {
    if (entry.path !== MONGO_DUMP_ENTRY) continue;
    const reader = new MongoArchiveReader({ preludeOnly });
    // Large output chunks, as for the archive itself: each chunk is a round trip to zlib's thread.
    // A prelude of a few collections fits in one small chunk: a read of it alone inflates no more.
    const gunzip = entry.content.pipe(createGunzip({ chunkSize: preludeOnly ? 64 * 1024 : 256 * 1024 }));
    try {
      for await (const chunk of gunzip) {
        reader.push(chunk as Buffer);
        if (reader.failed || (preludeOnly && reader.preludeRead)) return reader.summary();
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
