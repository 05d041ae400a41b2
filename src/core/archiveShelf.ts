import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchiveBytes } from '../archive/location.js';
import { PinnedArchive } from '../archive/pinned.js';
import type { OffsiteStore } from '../s3/offsite.js';
import { offsiteChild, offsiteUrlText, type OffsiteUrl } from '../s3/offsiteUrl.js';
import { RemoteArchive } from '../s3/remoteArchive.js';

export interface ShelfEntry {
  readonly name: string;
  /** A local path or an s3:// URL. */
  readonly reference: string;
  readonly bytes: number;
  readonly modifiedMs: number;
}

/** A place archives are kept — a local folder or an S3 prefix — as `list` and `prune` see it. */
export interface ArchiveShelf {
  /** The folder path or the s3:// prefix URL. */
  readonly where: string;
  /** The `.tar.gz`/`.tgz` archives (and their encrypted `.age` forms) directly in it, hidden files aside. */
  entries(): Promise<ShelfEntry[]>;
  open(entry: ShelfEntry): Promise<ArchiveBytes>;
  remove(entry: ShelfEntry): Promise<void>;
  close(): void;
}

const ARCHIVE_FILE = /\.(tar\.gz|tgz)(\.age)?$/;

export function localShelf(folder: string): ArchiveShelf {
  return {
    where: folder,
    async entries() {
      const names = (await readdir(folder).catch(() => [])).filter((name) => !name.startsWith('.') && ARCHIVE_FILE.test(name));
      const entries = await Promise.all(
        names.map(async (name) => {
          const reference = join(folder, name);
          const info = await stat(reference).catch(() => undefined);
          return info?.isFile() ? { name, reference, bytes: info.size, modifiedMs: info.mtimeMs } : undefined;
        }),
      );
      return entries.filter((entry) => entry !== undefined);
    },
    open: (entry) => PinnedArchive.open(entry.reference),
    remove: (entry) => unlink(entry.reference),
    close() {},
  };
}

/** An s3://bucket/prefix/ folder of the off-site store; the shelf owns the store's client. */
export function offsiteShelf(store: OffsiteStore, folder: OffsiteUrl): ArchiveShelf {
  const urls = new Map<string, { url: OffsiteUrl; etag: string }>();
  return {
    where: offsiteUrlText(folder),
    async entries() {
      const objects = await store.list(folder);
      return objects.flatMap((object) => {
        const name = object.key.slice(folder.key.length);
        if (name.startsWith('.') || !ARCHIVE_FILE.test(name)) return [];
        const url = offsiteChild(folder, name);
        urls.set(name, { url, etag: object.etag });
        return [{ name, reference: offsiteUrlText(url), bytes: object.size, modifiedMs: object.modifiedMs }];
      });
    },
    open: (entry) => RemoteArchive.listed(store, urls.get(entry.name)!.url, entry.bytes, urls.get(entry.name)!.etag),
    remove: (entry) => store.remove(urls.get(entry.name)!.url),
    close: () => store.destroy(),
  };
}
