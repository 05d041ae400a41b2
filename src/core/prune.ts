import type { Keyring } from '../age/header.js';
import { listArchives, type ArchiveListing } from './archiveListing.js';
import { localShelf, type ArchiveShelf } from './archiveShelf.js';
import { applyRetention, type RetentionDecision, type RetentionPolicy } from './retention.js';

/**
 * `orkestra-backup-<env>-<UTC YYYYMMDD-HHMMSS>[-secrets][-N].tar.gz[.age]`: only such files are
 * ever pruned. The secrets archives of split backups are a series of their own: the rules apply
 * to each series apart, so data archives never take the secrets archives' keep slots.
 */
const ARCHIVE_NAME = /^orkestra-backup-(.+)-(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)(-secrets)?(?:-\d+)?\.tar\.gz(?:\.age)?$/;

export interface PruneCandidate {
  readonly id: string;
  readonly listing: ArchiveListing;
  readonly createdAt: Date;
  readonly sound: boolean;
  readonly series: 'data' | 'secrets';
}

export interface PrunePlan {
  readonly shelf: ArchiveShelf;
  /** The folder path or s3:// prefix. */
  readonly folder: string;
  readonly environment: string;
  readonly decisions: RetentionDecision<PruneCandidate>[];
  /** Files in the folder that are not this environment's archives by the naming scheme: never touched. */
  readonly ignored: number;
}

/**
 * What a prune of `folder` would keep and remove for one environment, computed from the
 * manifests alone (createdAt in UTC; the name's stamp for an archive whose manifest cannot be
 * read, which is broken and takes no keep slot). Changes nothing.
 */
export async function planPrune(
  place: string | ArchiveShelf,
  environment: string,
  policy: RetentionPolicy,
  options: { removeBroken?: boolean; keyring?: Keyring } = {},
): Promise<PrunePlan> {
  const shelf = typeof place === 'string' ? localShelf(place) : place;
  const candidates: PruneCandidate[] = [];
  let ignored = 0;
  for (const listing of await listArchives(shelf, options.keyring)) {
    const candidate = candidateOf(listing, environment);
    if (candidate) candidates.push(candidate);
    else ignored += 1;
  }
  const series = (name: PruneCandidate['series']) => candidates.filter((candidate) => candidate.series === name);
  const decisions = [...applyRetention(series('data'), policy, options), ...applyRetention(series('secrets'), policy, options)];
  return { shelf, folder: shelf.where, environment, decisions, ignored };
}

/** Removes what the plan removes, one archive at a time; returns the names removed. */
export async function runPrune(plan: PrunePlan): Promise<string[]> {
  const removed: string[] = [];
  for (const { candidate, keep } of plan.decisions) {
    if (keep) continue;
    const { listing } = candidate;
    await plan.shelf.remove({ name: listing.name, reference: listing.file, bytes: listing.bytes, modifiedMs: listing.modifiedMs });
    removed.push(candidate.listing.name);
  }
  return removed;
}

function candidateOf(listing: ArchiveListing, environment: string): PruneCandidate | undefined {
  const match = ARCHIVE_NAME.exec(listing.name);
  if (!match) return undefined;
  const [, nameEnvironment, year, month, day, hour, minute, second, secretsSuffix] = match;
  // An encrypted archive without the key to open it is judged by its name (a backup host holds
  // only the public recipients): sound, unless its size alone shows it damaged.
  const readable = listing.problem === undefined && listing.createdAt !== undefined;
  const sound = listing.bytes > 0 && listing.problem === undefined && (readable || listing.locked !== undefined);
  if ((readable ? listing.environment : nameEnvironment) !== environment) return undefined;
  const createdAt = readable ? new Date(listing.createdAt!) : new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}Z`);
  if (Number.isNaN(createdAt.getTime())) return undefined;
  return { id: listing.name, listing, createdAt, sound, series: secretsSuffix ? 'secrets' : 'data' };
}
