import { readManifest, sizeProblem } from '../archive/reader.js';
import { printable } from '../base/format.js';
import { LockedArchiveError, type Keyring } from '../age/header.js';
import { openedWith } from './offsite.js';
import { localShelf, type ArchiveShelf } from './archiveShelf.js';

export interface ArchiveListing {
  /** A local path or an s3:// URL. */
  file: string;
  name: string;
  bytes: number;
  modifiedMs: number;
  environment?: string;
  createdAt?: string;
  components?: string[];
  /** Why the archive is not sound (manifest unreadable, size not what the manifest implies); it is still listed. */
  problem?: string;
  /** An encrypted archive no key given opens: why (its manifest is unknown; it is not broken). */
  locked?: string;
}

/** Manifests read at once: each is one short read (a ranged GET off-site). */
const READ_AHEAD = 8;

/**
 * The archives of a folder or an s3:// prefix (default ./backups/), newest first, described
 * from their manifests and sizes alone: nothing beyond the first member of each is read.
 */
export async function listArchives(place: string | ArchiveShelf, keyring?: Keyring): Promise<ArchiveListing[]> {
  const shelf = typeof place === 'string' ? localShelf(place) : place;
  const entries = await shelf.entries();
  const listings = new Array<ArchiveListing>(entries.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < entries.length; index = next++) {
      const entry = entries[index];
      const base = { file: entry.reference, name: entry.name, bytes: entry.bytes, modifiedMs: entry.modifiedMs };
      listings[index] = entry.bytes === 0 ? { ...base, problem: 'empty file (0 bytes)' } : await described(shelf, entry, base, keyring);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_AHEAD, entries.length) }, worker));
  return listings.sort(newestFirst);
}

/** By the manifest's createdAt, then by modification time (unreadable archives have no createdAt). */
export function newestFirst(a: ArchiveListing, b: ArchiveListing): number {
  return (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.modifiedMs - a.modifiedMs;
}

async function described(
  shelf: ArchiveShelf,
  entry: Parameters<ArchiveShelf['open']>[0],
  base: ArchiveListing,
  keyring: Keyring | undefined,
): Promise<ArchiveListing> {
  try {
    const location = await openedWith(await shelf.open(entry), keyring);
    try {
      const { manifest } = await readManifest(location);
      const problem = await sizeProblem(location, manifest);
      return {
        ...base,
        environment: printable(manifest.environment),
        createdAt: printable(manifest.createdAt),
        components: manifest.components.map(printable),
        problem: problem && printable(problem),
      };
    } finally {
      await location.close();
    }
  } catch (error) {
    if (error instanceof LockedArchiveError) return { ...base, locked: printable(error.message) };
    return { ...base, problem: printable((error as Error).message) };
  }
}

/** The newest archive that is sound and opens (`drill latest`), or undefined; the secrets half of a split backup is not one to drill alone. */
export function newestSound(listings: readonly ArchiveListing[]): ArchiveListing | undefined {
  return [...listings]
    .sort(newestFirst)
    .find((listing) => !listing.problem && !listing.locked && !/-secrets\.tar\.gz(\.age)?$/.test(listing.name));
}
