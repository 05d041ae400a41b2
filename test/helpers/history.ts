import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readManifest } from '../../src/archive/reader.js';
import { HISTORY_FILE_NAME } from '../../src/core/history/historyFile.js';

/** What `backup --json` prints, as far as the history's record of it goes. */
export interface BackupJson {
  ok: boolean;
  archive: string;
  bytes: number;
  backupId: string;
  environment: string;
  createdAt: string;
  components: string[];
  anomalies: { component?: string; kind: string; message: string }[];
  baseline?: string;
  accepted: boolean;
  secrets?: { archive: string; bytes: number };
}

export function historyFile(project: string): string {
  return join(project, 'backups', HISTORY_FILE_NAME);
}

/**
 * Makes sure the history holds the record of a backup the test ran: the record the history
 * feature appends after every run (archive, shape, anomalies, baseline, accepted), written here
 * only when the run did not append one for its backupId itself.
 */
export async function ensureBackupRecorded(project: string, backup: BackupJson): Promise<void> {
  const file = historyFile(project);
  const text = await readFile(file, 'utf8').catch(() => '');
  if (text.includes(backup.backupId)) return;
  const { manifest } = await readManifest(backup.archive);
  const secrets = backup.secrets && (await readManifest(backup.secrets.archive)).manifest;
  const archives = secrets
    ? [
        { location: backup.archive, bytes: backup.bytes, backupId: backup.backupId, split: 'data' },
        { location: backup.secrets!.archive, bytes: backup.secrets!.bytes, backupId: backup.backupId, split: 'secrets' },
      ]
    : [{ location: backup.archive, bytes: backup.bytes, backupId: backup.backupId }];
  // Both halves of a split backup in one shape, as the backup's outcome compares them.
  const shape =
    secrets?.shape && manifest.shape
      ? { ...manifest.shape, components: { ...manifest.shape.components, ...secrets.shape.components } }
      : manifest.shape;
  const record = {
    version: 1,
    command: 'backup',
    startedAt: backup.createdAt,
    endedAt: backup.createdAt,
    result: backup.ok ? 'success' : 'failure',
    exitCode: backup.ok ? 0 : 1,
    environment: backup.environment,
    host: 'test-host',
    archives,
    components: Object.fromEntries([...backup.components, ...(secrets?.components ?? [])].map((name) => [name, {}])),
    shape,
    anomalies: backup.anomalies,
    baseline: backup.baseline,
    accepted: backup.accepted || undefined,
  };
  await mkdir(join(project, 'backups'), { recursive: true });
  await appendFile(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
}
