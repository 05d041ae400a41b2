import { parseRecord, recordNameOf, type ArchiveRecord } from '../archive/archiveRecord.js';
import { readManifest, sizeProblem } from '../archive/reader.js';
import { formatBytes, printable } from '../base/format.js';
import { LockedArchiveError, type Keyring } from '../age/header.js';
import type { ArchiveShape } from '../model/shape.js';
import { openedWith } from './offsite.js';
import { localShelf, type ArchiveShelf, type ShelfEntry } from './archiveShelf.js';

export interface ArchiveListing {
  /** A local path or an s3:// URL. */
  file: string;
  name: string;
  bytes: number;
  modifiedMs: number;
  environment?: string;
  createdAt?: string;
  components?: string[];
  /** The manifest's backupId (shared by both archives of a split backup). */
  backupId?: string;
  /** What each component held (absent in archives of older versions), for anomaly checks. */
  shape?: ArchiveShape;
  /** Why the archive is not sound (manifest unreadable, size not what the manifest implies); it is still listed. */
  problem?: string;
  /** An encrypted archive no key given opens: why (its manifest is unknown; it is not broken). */
  locked?: string;
  /**
   * A locked archive whose soundness cannot be known without its key: why (no record beside
   * it, or one it does not match). It is neither sound nor broken: it fills no keep slot and no
   * prune removes it.
   */
  soundnessUnknown?: string;
  /** A locked archive's record, its size matching: what `prune` checks the SHA-256 against before relying on it. */
  record?: ArchiveRecord;
  /** Where the archive's record is, when there is one (removed with the archive). */
  recordFile?: string;
}

/** Manifests read at once: each is one short read (a ranged GET off-site). */
const READ_AHEAD = 8;

/**
 * `orkestra-backup-<env>-<UTC YYYYMMDD-HHMMSS>[-secrets][-N].tar.(gz|zst)[.age]`, the names backup
 * gives; `-N` is the backup's sequence within one second (the second is `-2`).
 */
const ARCHIVE_NAME = /^orkestra-backup-(.+)-(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)(-secrets)?(?:-(\d+))?\.tar\.(?:gz|zst)(?:\.age)?$/;

export interface NameFacts {
  readonly environment: string;
  readonly createdAt: Date;
  readonly secrets: boolean;
  readonly sequence: number;
}

/** What an archive's name says, when it is in the naming scheme. */
export function nameFacts(name: string): NameFacts | undefined {
  const match = ARCHIVE_NAME.exec(name);
  if (!match) return undefined;
  const [, environment, year, month, day, hour, minute, second, secrets, sequence] = match;
  const createdAt = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}Z`);
  if (Number.isNaN(createdAt.getTime())) return undefined;
  return { environment, createdAt, secrets: secrets !== undefined, sequence: sequence === undefined ? 1 : Number(sequence) };
}

/** The `-N` of a name in the scheme (1 without one): archives of the same second are ordered by it. */
function archiveSequence(name: string): number {
  return nameFacts(name)?.sequence ?? 1;
}

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
      const base = { file: entry.reference, name: entry.name, bytes: entry.bytes, modifiedMs: entry.modifiedMs, recordFile: entry.record };
      listings[index] = entry.bytes === 0 ? { ...base, problem: 'empty file (0 bytes)' } : await described(shelf, entry, base, keyring);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_AHEAD, entries.length) }, worker));
  return listings.sort(newestFirst);
}

/**
 * By the manifest's createdAt (the name's stamp when the manifest is unknown), then by the
 * name's sequence (`…-2` is the second backup of that second), then by modification time and
 * name: the same archives are always in the same order.
 */
export function newestFirst(a: ArchiveListing, b: ArchiveListing): number {
  return (
    timeOf(b) - timeOf(a) ||
    archiveSequence(b.name) - archiveSequence(a.name) ||
    b.modifiedMs - a.modifiedMs ||
    b.name.localeCompare(a.name)
  );
}

function timeOf(listing: ArchiveListing): number {
  const created = listing.createdAt === undefined ? Number.NaN : Date.parse(listing.createdAt);
  return Number.isNaN(created) ? (nameFacts(listing.name)?.createdAt.getTime() ?? 0) : created;
}

async function described(
  shelf: ArchiveShelf,
  entry: ShelfEntry,
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
        backupId: manifest.backupId,
        shape: manifest.shape,
        problem: problem && printable(problem),
      };
    } finally {
      await location.close();
    }
  } catch (error) {
    if (error instanceof LockedArchiveError) return { ...base, locked: printable(error.message), ...(await recorded(shelf, entry)) };
    return { ...base, problem: printable((error as Error).message) };
  }
}

/** A locked archive's record, when its size matches the archive's; else why its soundness is unknown. */
async function recorded(shelf: ArchiveShelf, entry: ShelfEntry): Promise<{ record: ArchiveRecord } | { soundnessUnknown: string }> {
  const text = await shelf.recordText(entry).catch(() => undefined);
  if (text === undefined) {
    const why = entry.record === undefined ? `no record (${recordNameOf(entry.name)}) beside it` : 'its record cannot be read';
    return { soundnessUnknown: `${why}, so its soundness is not known without the key` };
  }
  const record = parseRecord(text, entry.name);
  if (!record)
    return {
      soundnessUnknown: `its record ${recordNameOf(entry.name)} does not describe it, so its soundness is not known without the key`,
    };
  if (record.bytes !== entry.bytes) {
    return {
      soundnessUnknown: `its size (${formatBytes(entry.bytes)}, ${entry.bytes} bytes) is not the recorded ${record.bytes} bytes: changed or cut since the backup (open it with the key to judge)`,
    };
  }
  return { record };
}

/** The newest archive that is sound and opens (`drill latest`), or undefined; the secrets half of a split backup is not one to drill alone. */
export function newestSound(listings: readonly ArchiveListing[]): ArchiveListing | undefined {
  return [...listings]
    .sort(newestFirst)
    .find((listing) => !listing.problem && !listing.locked && !/-secrets\.tar\.(gz|zst)(\.age)?$/.test(listing.name));
}
