import { SECRETS } from '../../archive/archiveNames.js';
import type { HistoryRecord } from '../../model/history.js';
import type { ArchiveShape } from '../../model/shape.js';
import type { ArchiveListing } from '../archiveListing.js';
import { nameFacts, newestFirst } from '../archiveListing.js';

/** A backup a new one may be compared with: one that was sound and had no anomaly, or whose anomalies were accepted. */
export interface BaselineCandidate {
  /** The archive's path or s3:// URL (the data archive of a split backup). */
  readonly location: string;
  readonly backupId?: string;
  /** When it was made (ISO 8601): the newest is the baseline. */
  readonly time: string;
  readonly shape?: ArchiveShape;
  /** Bytes of the archive at `location`. */
  readonly bytes?: number;
  /** Every component the backup holds (both halves of a split backup). */
  readonly components: readonly string[];
  readonly split: boolean;
}

/** The new backup, as the choice of its baseline sees it. */
export interface BaselineQuery {
  readonly environment: string;
  readonly backupId?: string;
  readonly components: readonly string[];
  readonly split: boolean;
}

/** Which backups the history calls good (sound, no anomaly or accepted) and which it calls anomalous. */
export interface HistoryVerdicts {
  readonly good: BaselineCandidate[];
  /** Locations and backupIds of backups with anomalies nobody accepted. */
  readonly anomalous: ReadonlySet<string>;
  /** Whether the history holds any successful backup of the environment. */
  readonly hasBackups: boolean;
}

/**
 * Reads the history of one environment: backups without anomalies, or accepted
 * (`--accept-anomaly`, or a later `accept` record naming the archive or its backupId), are good;
 * an `accept` of an archive the history has no backup record of is good on the accept record's
 * own shape. Backups with anomalies nobody accepted are anomalous, also when the run exited 1
 * for them (--fail-on-anomaly keeps the archive).
 */
export function historyVerdicts(records: readonly HistoryRecord[], environment: string): HistoryVerdicts {
  const ours = records.filter((record) => record.environment === environment);
  const accepts = ours.filter((record) => record.command === 'accept' && record.result === 'success');
  const acceptedKeys = new Set(accepts.flatMap((record) => (record.archives ?? []).flatMap(archiveKeys)));
  // An archive was written and compared when the run succeeded, or when it found anomalies.
  const backups = ours.filter(
    (record) => record.command === 'backup' && record.archives?.length && (record.result === 'success' || record.anomalies?.length),
  );
  const good: BaselineCandidate[] = [];
  const anomalous = new Set<string>();
  const known = new Set<string>();
  for (const record of backups) {
    const keys = (record.archives ?? []).flatMap(archiveKeys);
    keys.forEach((key) => known.add(key));
    const accepted = record.accepted === true || keys.some((key) => acceptedKeys.has(key));
    if ((record.anomalies ?? []).length === 0 || accepted) {
      const candidate = candidateOf(record);
      if (candidate) good.push(candidate);
    } else keys.forEach((key) => anomalous.add(key));
  }
  for (const record of accepts) {
    if ((record.archives ?? []).flatMap(archiveKeys).some((key) => known.has(key))) continue;
    const candidate = candidateOf(record);
    if (candidate) good.push(candidate);
  }
  return { good, anomalous, hasBackups: backups.length > 0 };
}

/** Good archives of a folder when there is no history, oldest first: sound, this environment's, not the new backup's, not named anomalous. */
export function listedCandidates(
  listings: readonly ArchiveListing[],
  query: BaselineQuery,
  anomalous: ReadonlySet<string> = new Set(),
): BaselineCandidate[] {
  const oldestFirst = [...listings].sort(newestFirst).reverse();
  return oldestFirst.flatMap((listing) => {
    const facts = nameFacts(listing.name);
    if (!facts || facts.secrets || listing.problem || listing.locked || !listing.createdAt) return [];
    if (listing.environment !== query.environment || isCurrent(listing.backupId, query)) return [];
    if (anomalous.has(listing.file) || (listing.backupId !== undefined && anomalous.has(listing.backupId))) return [];
    // Its secrets half, when it has one, shares its backupId; together they hold the secrets too.
    const split =
      listing.backupId !== undefined &&
      listings.some((other) => other !== listing && other.backupId === listing.backupId && nameFacts(other.name)?.secrets);
    const components = [...(listing.components ?? []), ...(split ? [SECRETS] : [])];
    return [
      {
        location: listing.file,
        backupId: listing.backupId,
        time: listing.createdAt,
        shape: listing.shape,
        bytes: listing.bytes,
        components,
        split,
      },
    ];
  });
}

/**
 * The newest good backup comparable with the new one: one that holds every component the new
 * one holds when there is such a backup (a partial `-c redis` backup does not hide the last full
 * one), else the newest that shares any component. Undefined when none does.
 */
export function chooseBaseline(candidates: readonly BaselineCandidate[], query: BaselineQuery): BaselineCandidate | undefined {
  // Candidates come oldest first: of two made in the same second, the later one in the list is the newer.
  const ordered = candidates
    .filter((candidate) => !isCurrent(candidate.backupId, query))
    .reverse()
    .sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  const covers = ordered.find((candidate) => query.components.every((name) => candidate.components.includes(name)));
  return covers ?? ordered.find((candidate) => query.components.some((name) => candidate.components.includes(name)));
}

/** Archive sizes compare only between backups of the same components, split the same way. */
export function sameComponents(candidate: BaselineCandidate, query: BaselineQuery): boolean {
  const mine = new Set(query.components);
  return (
    candidate.split === query.split && candidate.components.length === mine.size && candidate.components.every((name) => mine.has(name))
  );
}

function candidateOf(record: HistoryRecord): BaselineCandidate | undefined {
  const archives = record.archives ?? [];
  const main = archives.find((archive) => archive.split !== 'secrets') ?? archives[0];
  if (!main) return undefined;
  const components = Object.keys(record.components ?? record.shape?.components ?? {});
  return {
    location: main.location,
    backupId: main.backupId,
    time: record.startedAt,
    shape: record.shape,
    bytes: main.bytes,
    components,
    split: archives.some((archive) => archive.split !== undefined),
  };
}

/** The new backup's own archives are never its baseline. */
function isCurrent(backupId: string | undefined, query: BaselineQuery): boolean {
  return backupId !== undefined && backupId === query.backupId;
}

/** How the history names an archive: its location, and its backupId when recorded. */
export function archiveKeys(archive: { location: string; backupId?: string }): string[] {
  return archive.backupId === undefined ? [archive.location] : [archive.location, archive.backupId];
}
