import { formatBytes, formatDuration, plural, printable } from '../../base/format.js';
import type { HistoryRecord } from '../../model/history.js';
import type { ReportLine } from '../reports.js';
import type { BackupStatus, Destination, NewestBackup } from './backupStatus.js';

/** BACKUP: the time the backup spent on the component; RESTORE: its restore time in the last drill. */
const HEADINGS = ['COMPONENT', 'WHERE', 'NEWEST SOUND BACKUP', 'AGE', 'SIZE', 'BACKUP', 'RESTORE'];

/** The status for people: a table of components, then the drill, the keys, the anomalies and the verdict with its reasons. */
export function statusLines(status: BackupStatus): ReportLine[] {
  const lines: ReportLine[] = [{ text: `Backups of environment ${status.environment}, checked ${status.checkedAt}` }];
  for (const destination of status.destinations) {
    const where = destination.destination === 'offsite' ? `off-site ${destination.where}` : `local ${destination.where}`;
    lines.push({
      text:
        destination.error === undefined
          ? `${where}: ${plural(destination.soundArchives, 'sound archive')}`
          : `${where}: cannot be read: ${destination.error}`,
      failure: destination.error !== undefined,
    });
  }
  lines.push(...componentTable(status));
  lines.push(drillLine(status), keyDriftLine(status), anomaliesLine(status));
  if (status.unreadableHistoryLines > 0) {
    lines.push({ text: `History: ${status.unreadableHistoryLines} unreadable line(s) skipped` });
  }
  if (status.reasons.length === 0) lines.push({ text: 'Healthy.' });
  else lines.push(...status.reasons.map((reason) => ({ text: `UNHEALTHY: ${reason}`, failure: true })));
  return lines.map((line) => ({ ...line, text: printable(line.text) }));
}

export function statusText(status: BackupStatus): string {
  return `${statusLines(status)
    .map((line) => line.text)
    .join('\n')}\n`;
}

/** The last runs of the history, newest first: when, command, result, archive. */
export function lastRunLines(records: readonly HistoryRecord[]): ReportLine[] {
  if (records.length === 0) return [{ text: 'No run recorded yet.' }];
  return [...records].reverse().map((record) => {
    const archive = record.archives?.[0]?.location;
    const what = record.result === 'success' ? 'success' : `FAILED (exit ${record.exitCode})${record.error ? `: ${record.error}` : ''}`;
    const name = archive === undefined ? '' : `  ${archive.slice(archive.lastIndexOf('/') + 1)}`;
    return { text: printable(`${record.endedAt}  ${record.command.padEnd(7)}  ${what}${name}`), failure: record.result !== 'success' };
  });
}

function componentTable(status: BackupStatus): ReportLine[] {
  if (status.components.length === 0) return [{ text: 'No sound backup of any component.', failure: true }];
  const rows = status.components.flatMap((component) =>
    (Object.entries(component.newest) as [Destination, NewestBackup][]).map(([destination, newest]) => {
      const restore = status.lastDrill?.restoreSeconds[component.name];
      const stale = newest.ageSeconds > status.maxAgeHours * 3600;
      return {
        stale,
        cells: [
          component.name,
          destination,
          newest.archive + (newest.vouchedBy === 'record' ? ' (encrypted, by its record)' : ''),
          `${age(newest.ageSeconds)}${stale ? ' STALE' : ''}`,
          newest.bytes === undefined ? '?' : formatBytes(newest.bytes),
          newest.backupSeconds === undefined ? '-' : formatDuration(newest.backupSeconds * 1000),
          restore === undefined ? '-' : formatDuration(restore * 1000),
        ],
      };
    }),
  );
  const widths = HEADINGS.map((heading, column) => Math.max(heading.length, ...rows.map((row) => row.cells[column].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  return [{ text: '' }, { text: line(HEADINGS) }, ...rows.map((row) => ({ text: line(row.cells), failure: row.stale })), { text: '' }];
}

function drillLine({ lastDrill }: BackupStatus): ReportLine {
  if (!lastDrill) return { text: 'Last drill: none recorded (orkestra-backup drill latest proves the newest archive restores)' };
  const of = lastDrill.archive === undefined ? '' : ` of ${lastDrill.archive.slice(lastDrill.archive.lastIndexOf('/') + 1)}`;
  if (lastDrill.ok) return { text: `Last drill: passed${of} at ${lastDrill.at}` };
  return { text: `Last drill: FAILED${of} at ${lastDrill.at}${lastDrill.error ? `: ${lastDrill.error}` : ''}`, failure: true };
}

function keyDriftLine({ keyDrift }: BackupStatus): ReportLine {
  switch (keyDrift.state) {
    case 'match':
      return { text: `Key drift: none; docker/.env's encryption keys match those of ${keyDrift.archive}` };
    case 'drift':
      return {
        text: `Key drift: docker/.env's encryption keys differ from those of ${keyDrift.archive}: ${keyDrift.keys.map(({ name, change }) => `${name} (${change})`).join(', ')}`,
        failure: true,
      };
    case 'unknown':
      return { text: `Key drift: unknown (${keyDrift.reason})` };
  }
}

function anomaliesLine({ openAnomalies }: BackupStatus): ReportLine {
  const count = openAnomalies.reduce((sum, open) => sum + open.anomalies.length, 0);
  if (count === 0) return { text: 'Anomalies: none open' };
  return { text: `Anomalies: ${count} open (orkestra-backup accept <archive> once the change is known to be intended)`, failure: true };
}

/** "3 min", "5.2 h", "4.0 d". */
function age(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}
