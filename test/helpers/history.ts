import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
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

/** The deployment's history, in its backups/ folder: every recorded run (a failed one too) appends to it. */
export const HISTORY_FILE = HISTORY_FILE_NAME;

/** The names in a folder with the history file left out: what backups, restores and prunes leave besides their record. */
export async function namesBesideHistory(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((name) => name !== HISTORY_FILE);
}

export function historyFile(project: string): string {
  return join(project, 'backups', HISTORY_FILE_NAME);
}

/** The history's record of a backup the test ran, which every backup appends: found by its backupId. */
export async function recordedBackup(project: string, backup: BackupJson): Promise<Record<string, unknown>> {
  const lines = (await readFile(historyFile(project), 'utf8')).split('\n').filter((line) => line.includes(backup.backupId));
  if (lines.length !== 1) throw new Error(`expected one history record of backup ${backup.backupId}, found ${lines.length}`);
  return JSON.parse(lines[0]) as Record<string, unknown>;
}
