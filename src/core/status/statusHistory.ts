import type { Anomaly, HistoryArchive, HistoryRecord } from '../../model/history.js';

/** The last drill of the environment, as the history recorded it. */
export interface LastDrill {
  readonly at: string;
  /** The archive drilled (path or URL), when recorded. */
  readonly archive?: string;
  readonly ok: boolean;
  /** Measured restore seconds of each component in that drill. */
  readonly restoreSeconds: Readonly<Record<string, number>>;
  /** The failure's one line, when the run itself failed. */
  readonly error?: string;
}

/** Anomalies of a backup that nothing has accepted since. */
export interface OpenAnomalies {
  /** The backup's archive (path or URL). */
  readonly archive: string;
  readonly at: string;
  readonly anomalies: readonly Anomaly[];
}

/** The records of one environment: a history file may hold the runs of several (a restore of another environment's archive). */
export function recordsOf(records: readonly HistoryRecord[], environment: string): HistoryRecord[] {
  return records.filter((record) => record.environment === environment);
}

export function lastDrill(records: readonly HistoryRecord[]): LastDrill | undefined {
  const record = records.findLast((candidate) => candidate.command === 'drill');
  if (!record) return undefined;
  const restoreSeconds: Record<string, number> = {};
  for (const [name, component] of Object.entries(record.components ?? {})) {
    if (component.seconds !== undefined) restoreSeconds[name] = component.seconds;
  }
  return {
    at: record.endedAt,
    archive: record.archives?.[0]?.location,
    ok: record.result === 'success' && record.drillOk !== false,
    restoreSeconds,
    error: record.error,
  };
}

/**
 * The anomalies still open: those of the newest backup of each set of components (an hourly
 * `-c redis` backup does not close the nightly full backup's), unless that backup was made with
 * --accept-anomaly or an `accept` record naming its archive follows it.
 */
export function openAnomalies(records: readonly HistoryRecord[]): OpenAnomalies[] {
  const newestOfSeries = new Map<string, number>();
  records.forEach((record, index) => {
    if (record.command === 'backup' && (record.archives?.length ?? 0) > 0) newestOfSeries.set(seriesOf(record), index);
  });
  const open: OpenAnomalies[] = [];
  for (const index of [...newestOfSeries.values()].sort((a, b) => a - b)) {
    const record = records[index];
    const anomalies = record.anomalies ?? [];
    if (anomalies.length === 0 || record.accepted === true) continue;
    const accepted = records
      .slice(index + 1)
      .some((later) => later.command === 'accept' && (later.archives ?? []).some((named) => sameArchive(named, record.archives ?? [])));
    if (!accepted) open.push({ archive: record.archives![0].location, at: record.endedAt, anomalies });
  }
  return open;
}

/**
 * How long the backup that wrote this archive took for each component, from its record: found
 * by the backup's id, else by the archive's file name (a path or URL may be written differently).
 */
export function backupSeconds(records: readonly HistoryRecord[], archive: { name: string; backupId?: string }): Record<string, number> {
  const record = records.findLast(
    (candidate) =>
      candidate.command === 'backup' &&
      (candidate.archives ?? []).some(
        (written) =>
          (archive.backupId !== undefined && written.backupId === archive.backupId) || baseName(written.location) === archive.name,
      ),
  );
  const seconds: Record<string, number> = {};
  for (const [name, component] of Object.entries(record?.components ?? {})) {
    if (component.seconds !== undefined) seconds[name] = component.seconds;
  }
  return seconds;
}

/** The components a backup wrote, sorted: its series. */
function seriesOf(record: HistoryRecord): string {
  const names = Object.keys(record.components ?? record.shape?.components ?? {});
  return names.sort().join(',');
}

function sameArchive(named: HistoryArchive, archives: readonly HistoryArchive[]): boolean {
  return archives.some(
    (archive) =>
      (named.backupId !== undefined && named.backupId === archive.backupId) ||
      named.location === archive.location ||
      baseName(named.location) === baseName(archive.location),
  );
}

/** The file name of a path or s3:// URL. */
function baseName(location: string): string {
  return location.slice(location.lastIndexOf('/') + 1);
}
