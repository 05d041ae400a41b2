import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ComponentSource } from '../archive/componentSource.js';
import type { IndexedFile } from '../archive/fileIndex.js';
import { MongoArchiveReader, type MongoArchiveSummary } from './archive.js';

/** Older archives: mongodump's `--gzip` output, kept whole as one file of the mongodb/ folder. */
export const MONGO_DUMP_ENTRY = 'mongo.archive.gz';
const PART_PATH = /^dump\/part-\d{8,}$/;

/** The dump's part `sequence` (from 0): parts in name order concatenate to a mongodump archive. */
export function dumpPartPath(sequence: number): string {
  return `dump/part-${String(sequence).padStart(8, '0')}`;
}

export function isDumpPart(path: string): boolean {
  return PART_PATH.test(path);
}

/** How the archive keeps its dump: parts of plain BSON (see DumpSplitter), or one gzip file. */
export type DumpLayout = 'parts' | 'gzip';

/** Whether an archived file is the dump or a part of it. */
function isDumpFile(path: string): boolean {
  return path === MONGO_DUMP_ENTRY || isDumpPart(path);
}

/**
 * The dump's bytes as the archive keeps them, for mongorestore's stdin (`--gzip` for the `gzip`
 * layout). Once `cut` is aborted the stream ends where it is: the tool reads an archive that
 * stops short, fails and exits by itself, so its exit can be awaited before anything else
 * touches the server.
 */
export function dumpStream(source: ComponentSource, onBytes?: (bytes: number) => void, cut?: AbortSignal): Readable {
  return Readable.from(storedDump(source, { onBytes, cut }));
}

async function* storedDump(
  source: ComponentSource,
  options: { wanted?: (file: IndexedFile) => boolean } & Counting,
): AsyncGenerator<Buffer> {
  for await (const entry of source.entries(options.wanted)) {
    if (isDumpFile(entry.path)) yield* counted(entry.content, options);
  }
}

interface Counting {
  readonly onBytes?: (bytes: number) => void;
  readonly cut?: AbortSignal;
}

/** A file's content, counted; it stops where `cut` finds it. */
async function* counted(content: AsyncIterable<unknown>, { onBytes, cut }: Counting): AsyncGenerator<Buffer> {
  for await (const chunk of content as AsyncIterable<Buffer>) {
    if (cut?.aborted) return;
    onBytes?.(chunk.length);
    yield chunk;
  }
}

/**
 * The dump as plain mongodump archive bytes, whichever way the archive keeps it: the parts
 * `wanted` takes, in order, or the older gzip file inflated (`chunkSize`: each chunk is a round
 * trip to zlib's thread).
 */
async function* plainDump(
  source: ComponentSource,
  options: { wanted?: (file: IndexedFile) => boolean; chunkSize?: number; onFile?: (path: string) => void } & Counting,
): AsyncGenerator<Buffer> {
  for await (const entry of source.entries(options.wanted)) {
    if (isDumpFile(entry.path)) options.onFile?.(entry.path);
    if (isDumpPart(entry.path)) {
      yield* counted(entry.content, options);
    } else if (entry.path === MONGO_DUMP_ENTRY) {
      // Uncounted, the content goes to gunzip as it is: a read of the prelude alone reads ahead no further.
      const stored = options.onBytes || options.cut ? Readable.from(counted(entry.content, options), { objectMode: false }) : entry.content;
      const gunzip = stored.pipe(createGunzip({ chunkSize: options.chunkSize ?? 256 * 1024 }));
      stored.once('error', (error) => gunzip.destroy(error));
      try {
        yield* gunzip as AsyncIterable<Buffer>;
      } catch (error) {
        throw new DumpReadError(`mongodb/${MONGO_DUMP_ENTRY} is not a complete gzip stream (${(error as Error).message})`);
      } finally {
        gunzip.destroy();
      }
    }
  }
}

/** The dump could not be read to its end; the message names the file and why. */
class DumpReadError extends Error {}

/**
 * The dump cut down to the namespaces `keep` takes (see ArchiveForward), as a plain mongodump
 * archive for `mongorestore --archive`: only the parts `wanted` takes are read (the prelude and
 * the selected collections' parts), and only their framing is walked. An older archive's gzip
 * dump is inflated whole to be cut: the 186 MB dump of the 2 GB bench (474 MB of BSON) takes
 * 1.3–1.7 s. Each chunk is passed on before the next is read: memory holds a chunk and a header.
 * A dump whose framing breaks ends where it breaks: the tool reads an archive cut short and fails.
 */
export function selectedDumpStream(
  source: ComponentSource,
  keep: (db: string, collection: string) => boolean,
  wanted: (file: IndexedFile) => boolean,
  onBytes?: (bytes: number) => void,
  cut?: AbortSignal,
): Readable {
  return Readable.from(
    (async function* () {
      let kept: Buffer[] = [];
      const reader = new MongoArchiveReader({ forward: { keep, write: (bytes) => kept.push(bytes) } });
      try {
        for await (const chunk of plainDump(source, { wanted, onBytes, cut })) {
          reader.push(chunk);
          if (kept.length > 0) yield kept.length === 1 ? kept[0] : Buffer.concat(kept);
          kept = [];
          if (reader.failed) return;
        }
      } catch (error) {
        // Cut short by `cut`, the dump no longer reads to its end: the stream ends where it is, as dumpStream's does.
        if (!cut?.aborted) throw error;
      }
    })(),
  );
}

/** The dump's plain bytes from the start, for mongorestore --dryRun, which reads the prelude alone. */
export function plainDumpStream(source: ComponentSource): Readable {
  return Readable.from(plainDump(source, { chunkSize: 64 * 1024 }));
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
 * Reads the prelude and the parts `wanted` takes, as a restore of a selection reads them: the
 * documents, sizes and CRC-64 of the namespaces those parts hold, nothing of the others.
 */
export function readDumpParts(source: ComponentSource, wanted: (file: IndexedFile) => boolean): Promise<MongoArchiveSummary | undefined> {
  return readArchivedDump(source, false, wanted);
}

/**
 * Reads only the dump's prelude (header and collection metadata, the first kilobytes): the
 * namespaces and their types, never the documents (each counts 0; a time-series collection's
 * buckets, which have no metadata, are not named). `preludeComplete` says whether it was whole.
 */
export function readDumpPrelude(source: ComponentSource): Promise<MongoArchiveSummary | undefined> {
  return readArchivedDump(source, true);
}

async function readArchivedDump(
  source: ComponentSource,
  preludeOnly: boolean,
  wanted?: (file: IndexedFile) => boolean,
): Promise<MongoArchiveSummary | undefined> {
  const reader = new MongoArchiveReader({ preludeOnly });
  let file: string | undefined;
  const onFile = (path: string) => (file ??= isDumpPart(path) ? 'dump/' : path);
  // A prelude of a few collections fits in one small chunk: a read of it alone inflates no more.
  const dump = plainDump(source, { wanted, chunkSize: preludeOnly ? 64 * 1024 : 256 * 1024, onFile });
  try {
    for await (const chunk of dump) {
      reader.push(chunk);
      if (reader.failed || (preludeOnly && reader.preludeRead)) return { ...reader.summary(), file };
    }
  } catch (error) {
    if (!(error instanceof DumpReadError)) throw error;
    const summary = reader.summary();
    summary.problems.push(error.message);
    return { ...summary, file };
  } finally {
    await dump.return(undefined);
  }
  return file === undefined ? undefined : { ...reader.finish(), file };
}
