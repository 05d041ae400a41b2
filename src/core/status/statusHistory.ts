import type { Anomaly, HistoryRecord } from '../../model/history.js';
import { archiveKeys, historyVerdicts } from '../health/baseline.js';

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

/** The last whole drill: a selective one (`drillSelection`) proves its selection only, not that the archive restores. */
export function lastDrill(records: readonly HistoryRecord[]): LastDrill | undefined {
  const record = records.findLast((candidate) => candidate.command === 'drill' && candidate.drillSelection === undefined);
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
 * `-c redis` backup does not close the nightly full backup's) that the history's verdicts still
 * hold anomalous — not made with --accept-anomaly, and no `accept` record names its archive.
 */
export function openAnomalies(records: readonly HistoryRecord[], environment: string): OpenAnomalies[] {
  const { anomalous } = historyVerdicts(records, environment);
  const newestOfSeries = new Map<string, HistoryRecord>();
  for (const record of records) {
    if (record.command === 'backup' && (record.archives?.length ?? 0) > 0) newestOfSeries.set(seriesOf(record), record);
  }
  return [...newestOfSeries.values()]
    .filter((record) => (record.anomalies ?? []).length > 0 && archiveKeys(record.archives![0]).some((key) => anomalous.has(key)))
    .sort((a, b) => a.endedAt.localeCompare(b.endedAt))
    .map((record) => ({ archive: record.archives![0].location, at: record.endedAt, anomalies: record.anomalies! }));
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

/** The file name of a path or s3:// URL. */
function baseName(location: string): string {
  return location.slice(location.lastIndexOf('/') + 1);
}
