import { readdir } from 'node:fs/promises';

/** The deployment's history, in its backups/ folder: every recorded run (a failed one too) appends to it. */
export const HISTORY_FILE = '.orkestra-backup-history.jsonl';

/** The names in a folder with the history file left out: what backups, restores and prunes leave besides their record. */
export async function namesBesideHistory(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((name) => name !== HISTORY_FILE);
}
