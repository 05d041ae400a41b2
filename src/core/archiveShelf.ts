import { createReadStream } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { firstBytes } from '../base/firstBytes.js';
import { ARCHIVE_FILE } from '../archive/archiveNames.js';
import { RECORD_LIMIT, recordNameOf, type ArchiveRecord } from '../archive/archiveRecord.js';
import type { ArchiveBytes } from '../archive/location.js';
import { PinnedArchive } from '../archive/pinned.js';
import { sha256Of } from '../integrity/sha256.js';
import type { OffsiteStore } from '../s3/offsite/offsite.js';
import { offsiteChild, offsiteUrlText, type OffsiteUrl } from '../s3/offsite/offsiteUrl.js';
import { RemoteArchive } from '../s3/offsite/remoteArchive.js';
import { historyCopyNameOf } from './history/historyCopy.js';

export interface ShelfEntry {
  readonly name: string;
  /** A local path or an s3:// URL. */
  readonly reference: string;
  readonly bytes: number;
  readonly modifiedMs: number;
  /** Where the archive's record (`<name>.record.json`) is, when there is one beside it. */
  readonly record?: string;
}

/** A place archives are kept — a local folder or an S3 prefix — as `list` and `prune` see it. */
export interface ArchiveShelf {
  /** The folder path or the s3:// prefix URL. */
  readonly where: string;
  /** The `.tar.gz`/`.tgz`/`.tar.zst` archives (and their encrypted `.age` forms) directly in it, hidden files aside. */
  entries(): Promise<ShelfEntry[]>;
  open(entry: ShelfEntry): Promise<ArchiveBytes>;
  /** The text of the entry's record (at most RECORD_LIMIT bytes), or undefined when it has none or it is larger. */
  recordText(entry: ShelfEntry): Promise<string | undefined>;
  /** Whether the archive's bytes are still those its record describes: the SHA-256 of every byte (an S3 object: the same ETag). */
  matchesRecord(entry: ShelfEntry, record: ArchiveRecord): Promise<boolean>;
  /**
   * Removes the archive, then its record and its history record copy: a record left alone by an
   * interruption describes nothing and is ignored.
   */
  remove(entry: ShelfEntry): Promise<void>;
  close(): void;
}

export function localShelf(folder: string): ArchiveShelf {
  return {
    where: folder,
    async entries() {
      const all = new Set(await readdir(folder).catch(() => [] as string[]));
      const names = [...all].filter((name) => !name.startsWith('.') && ARCHIVE_FILE.test(name));
      const entries = await Promise.all(
        names.map(async (name) => {
          const reference = join(folder, name);
          const info = await stat(reference).catch(() => undefined);
          if (!info?.isFile()) return undefined;
          const record = all.has(recordNameOf(name)) ? recordNameOf(reference) : undefined;
          return { name, reference, bytes: info.size, modifiedMs: info.mtimeMs, record };
        }),
      );
      return entries.filter((entry) => entry !== undefined);
    },
    open: (entry) => PinnedArchive.open(entry.reference),
    async recordText(entry) {
      if (entry.record === undefined) return undefined;
      // A record removed since the listing is no record.
      const bytes = await firstBytes(createReadStream(entry.record), RECORD_LIMIT + 1).catch(() => undefined);
      return bytes && recordFrom(bytes);
    },
    async matchesRecord(entry, record) {
      return (await sha256Of(createReadStream(entry.reference))) === record.sha256;
    },
    async remove(entry) {
      await unlink(entry.reference);
      if (entry.record !== undefined) await unlink(entry.record).catch(ignoreMissing);
      await unlink(historyCopyNameOf(entry.reference)).catch(ignoreMissing);
    },
    close() {},
  };
}

/** An s3://bucket/prefix/ folder of the off-site store; the shelf owns the store's client. */
export function offsiteShelf(store: OffsiteStore, folder: OffsiteUrl): ArchiveShelf {
  const objects = new Map<string, { url: OffsiteUrl; etag: string }>();
  const object = (reference: string) => objects.get(reference)!;
  return {
    where: offsiteUrlText(folder),
    async entries() {
      const listed = await store.list(folder);
      for (const { key, etag } of listed) {
        const url = offsiteChild(folder, key.slice(folder.key.length));
        objects.set(offsiteUrlText(url), { url, etag });
      }
      return listed.flatMap(({ key, size, modifiedMs }) => {
        const name = key.slice(folder.key.length);
        if (name.startsWith('.') || !ARCHIVE_FILE.test(name)) return [];
        const reference = offsiteUrlText(offsiteChild(folder, name));
        const record = objects.has(recordNameOf(reference)) ? recordNameOf(reference) : undefined;
        return [{ name, reference, bytes: size, modifiedMs, record }];
      });
    },
    open: (entry) => RemoteArchive.listed(store, object(entry.reference).url, entry.bytes, object(entry.reference).etag),
    async recordText(entry) {
      if (entry.record === undefined) return undefined;
      const { url, etag } = object(entry.record);
      return recordFrom(await firstBytes((await store.readFrom(url, etag, 0)).body, RECORD_LIMIT + 1));
    },
    async matchesRecord(entry, record) {
      const { url, etag } = object(entry.reference);
      // The store keeps an object's bytes as they were completed: the same ETag is the same object.
      if (record.etag !== undefined && record.etag === etag) return true;
      const archive = await RemoteArchive.listed(store, url, entry.bytes, etag);
      return (await sha256Of(archive.stream())) === record.sha256;
    },
    async remove(entry) {
      await store.remove(object(entry.reference).url);
      if (entry.record !== undefined) await store.remove(object(entry.record).url);
      const copy = objects.get(historyCopyNameOf(entry.reference));
      if (copy) await store.remove(copy.url);
    },
    close: () => store.destroy(),
  };
}

/** The record's text, or undefined when it is larger than any record (read only one byte past the limit). */
function recordFrom(bytes: Buffer): string | undefined {
  return bytes.length > RECORD_LIMIT ? undefined : bytes.toString('utf8');
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
