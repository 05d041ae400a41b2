import { Readable } from 'node:stream';
import { contentPadding, directoryHeader, END_OF_ARCHIVE, fileHeader } from './tarEntry.js';

export type PackEntry =
  | { type: 'directory'; path: string; mode?: number }
  | { type: 'file'; path: string; size: number; content: AsyncIterable<Buffer> | Iterable<Buffer>; mode?: number };

/**
 * A plain tar stream made on the fly from entries, for the Docker archive API (`putArchive`).
 * Content flows through as it is read; a file that does not match its announced size fails the stream.
 */
export function packTar(entries: AsyncIterable<PackEntry> | Iterable<PackEntry>): Readable {
  return Readable.from(generateTar(entries), { objectMode: false });
}

async function* generateTar(entries: AsyncIterable<PackEntry> | Iterable<PackEntry>): AsyncGenerator<Buffer> {
  const now = new Date();
  // for await takes plain arrays too; the cast only tells the type checker so.
  for await (const entry of entries as AsyncIterable<PackEntry>) {
    if (entry.type === 'directory') {
      yield directoryHeader(entry.path, now, entry.mode ?? 0o755);
      continue;
    }
    yield fileHeader(entry.path, entry.size, now, entry.mode ?? 0o644);
    let seen = 0;
    for await (const chunk of entry.content as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > entry.size) throw new Error(`${entry.path}: more bytes than announced`);
      yield chunk;
    }
    if (seen !== entry.size) throw new Error(`${entry.path}: ${seen} of ${entry.size} bytes`);
    yield contentPadding(entry.size);
  }
  yield END_OF_ARCHIVE;
}
