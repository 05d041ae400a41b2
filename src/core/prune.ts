import type { Keyring } from '../age/header.js';
import { listArchives, nameFacts, type ArchiveListing } from './archiveListing.js';
import { localShelf, type ArchiveShelf, type ShelfEntry } from './archiveShelf.js';
import { applyRetention, type RetentionDecision, type RetentionPolicy } from './retention.js';

export interface PruneCandidate {
  readonly id: string;
  readonly listing: ArchiveListing;
  readonly createdAt: Date;
  /** The `-N` of its name: the second backup made in one second is the newer. */
  readonly sequence: number;
  readonly sound: boolean;
  /** Why its soundness is unknown (encrypted, no key, no record that vouches for it), when it is. */
  readonly soundnessUnknown?: string;
  /**
   * The rules apply to each series apart: the secrets archives of split backups are one, and
   * every other set of components another, so a partial archive (`-c redis`) never takes a full
   * backup's keep slot, and full backups never take the partial archives'.
   */
  readonly series: string;
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

const SECRETS_SERIES = 'secrets archives of split backups';

/**
 * What a prune of `folder` would keep and remove for one environment, computed from the
 * manifests alone (createdAt in UTC; the name's stamp for an archive whose manifest cannot be
 * read, which is broken and takes no keep slot). An encrypted archive no key opens takes a
 * slot only on its record's word: its size when listed, and its SHA-256 once the plan would
 * remove something because of the slot it holds. Changes nothing.
 */
export async function planPrune(
  place: string | ArchiveShelf,
  environment: string,
  policy: RetentionPolicy,
  options: { removeBroken?: boolean; keyring?: Keyring; anomalous?: ReadonlySet<string> } = {},
): Promise<PrunePlan> {
  const shelf = typeof place === 'string' ? localShelf(place) : place;
  const candidates: PruneCandidate[] = [];
  let ignored = 0;
  for (const listing of await listArchives(shelf, options.keyring)) {
    const candidate = candidateOf(listing, environment);
    if (candidate) candidates.push(candidate);
    else ignored += 1;
  }
  const seriesNames = [...new Set(candidates.map((candidate) => candidate.series))].sort();
  const decisions: RetentionDecision<PruneCandidate>[] = [];
  for (const name of seriesNames) {
    const series = candidates.filter((candidate) => candidate.series === name);
    decisions.push(...keepLastGood(await decideOnRecords(shelf, series, policy, options), options.anomalous ?? new Set()));
  }
  return { shelf, folder: shelf.where, environment, decisions, ignored };
}

/**
 * The rules over one series. When they would remove something, the archives that fill its keep
 * slots on their records' word alone are the ones relied on: each is hashed (once), and one
 * that no longer matches becomes unknown and the rules run again without it.
 */
async function decideOnRecords(
  shelf: ArchiveShelf,
  series: readonly PruneCandidate[],
  policy: RetentionPolicy,
  options: { removeBroken?: boolean },
): Promise<RetentionDecision<PruneCandidate>[]> {
  const hashed = new Set<string>();
  let judged = series;
  for (;;) {
    const decisions = applyRetention(judged, policy, options);
    if (decisions.every((decision) => decision.keep)) return decisions;
    const relied = decisions.filter(
      ({ candidate, keep }) => keep && candidate.sound && candidate.listing.record && !hashed.has(candidate.id),
    );
    if (relied.length === 0) return decisions;
    let changed = false;
    for (const { candidate } of relied) {
      hashed.add(candidate.id);
      if (await shelf.matchesRecord(shelfEntry(candidate.listing), candidate.listing.record!)) continue;
      judged = judged.map((other) => (other.id === candidate.id ? hashMismatch(other) : other));
      changed = true;
    }
    if (!changed) return decisions;
  }
}

/**
 * Whatever the rules say, the newest sound archive of a series that had no anomaly (by its path
 * or backupId in `anomalous`, from the history) stays: a run of bad nights never prunes away the
 * last good backup. The decisions come newest first.
 */
function keepLastGood(decisions: RetentionDecision<PruneCandidate>[], anomalous: ReadonlySet<string>): RetentionDecision<PruneCandidate>[] {
  const isAnomalous = ({ listing }: PruneCandidate) =>
    anomalous.has(listing.file) || (listing.backupId !== undefined && anomalous.has(listing.backupId));
  const lastGood = decisions.find(
    ({ candidate }) => candidate.sound && candidate.soundnessUnknown === undefined && !isAnomalous(candidate),
  );
  if (!lastGood || lastGood.keep) return decisions;
  return decisions.map((decision) => (decision === lastGood ? { ...decision, keep: true, reasons: [NEWEST_GOOD_REASON] } : decision));
}

export const NEWEST_GOOD_REASON = 'newest sound archive without anomaly';

/** Removes what the plan removes, one archive at a time (each with its record); returns the names removed. */
export async function runPrune(plan: PrunePlan): Promise<string[]> {
  const removed: string[] = [];
  for (const { candidate, keep } of plan.decisions) {
    if (keep) continue;
    await plan.shelf.remove(shelfEntry(candidate.listing));
    removed.push(candidate.listing.name);
  }
  return removed;
}

function shelfEntry(listing: ArchiveListing): ShelfEntry {
  return { name: listing.name, reference: listing.file, bytes: listing.bytes, modifiedMs: listing.modifiedMs, record: listing.recordFile };
}

function hashMismatch(candidate: PruneCandidate): PruneCandidate {
  const soundnessUnknown = 'its SHA-256 is not the recorded one: changed since the backup (open it with the key to judge)';
  const listing = { ...candidate.listing, soundnessUnknown };
  return { ...candidate, listing, ...verdictOf(listing) };
}

/**
 * Whether the listed archive is sound, or why its soundness is unknown. An encrypted archive
 * without the key to open it is sound on its record's word alone, and not once its soundness is unknown.
 */
function verdictOf(listing: ArchiveListing): Pick<PruneCandidate, 'sound' | 'soundnessUnknown'> {
  const readable = listing.problem === undefined && listing.createdAt !== undefined;
  const vouched = readable || (listing.record !== undefined && listing.soundnessUnknown === undefined);
  return { sound: listing.bytes > 0 && listing.problem === undefined && vouched, soundnessUnknown: listing.soundnessUnknown };
}

function candidateOf(listing: ArchiveListing, environment: string): PruneCandidate | undefined {
  const named = nameFacts(listing.name);
  if (!named) return undefined;
  const readable = listing.problem === undefined && listing.createdAt !== undefined;
  if ((readable ? listing.environment : named.environment) !== environment) return undefined;
  const createdAt = readable ? new Date(listing.createdAt!) : named.createdAt;
  if (Number.isNaN(createdAt.getTime())) return undefined;
  const components = listing.components ?? listing.record?.components;
  const series = named.secrets ? SECRETS_SERIES : `components ${components ? [...components].sort().join(',') : '(unknown)'}`;
  return { id: listing.name, listing, createdAt, sequence: named.sequence, series, ...verdictOf(listing) };
}
