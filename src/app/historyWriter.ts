import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { describeError } from '../base/errors.js';
import { firstLine, withoutFinalPeriod } from '../base/format.js';
import { appendHistory, historyPath } from '../core/history/historyFile.js';
import { writeHistoryCopy } from '../core/history/historyCopy.js';
import { maskCredentials } from '../mongo/toolOutput.js';
import type { HistoryArchive, HistoryRecord } from '../model/history.js';
import type { OffsiteStore } from '../s3/offsite/offsite.js';
import type { Project } from '../model/project.js';
import { isOffsiteUrl, parseOffsiteUrl } from '../s3/offsite/offsiteUrl.js';
import { openOffsite } from './session.js';

/** Names of settings whose values are secrets (not paths to them): masked wherever they would appear in a record. */
const SECRET_SETTING = /PASS|SECRET|TOKEN|PRIVATE|CREDENTIAL|(^|_)KEY$/i;
const PATH_SETTING = /_FILE$/i;

/**
 * Appends the record to the project's history (backups/.orkestra-backup-history.jsonl, whatever
 * folder the archive went to), with the failure's one line and no secret value in it; a backup
 * to s3:// also gets a copy of its record beside each archive. Writing the history never fails
 * the run: what cannot be written is one warning line.
 */
export async function writeRunRecord(
  project: Project,
  record: HistoryRecord,
  failure: unknown,
  options: { signal: AbortSignal; warn: (line: string) => void },
): Promise<void> {
  const complete = failure === undefined ? record : { ...record, error: await scrubbed(project, failure) };
  const path = historyPath(project.backupsDir);
  try {
    await appendHistory(path, complete);
  } catch (error) {
    options.warn(`the history of this run could not be written to ${path} (${reasonOf(error)}); the run itself is not affected.`);
  }
  if (complete.command !== 'backup' || complete.result !== 'success') return;
  const offsite = (complete.archives ?? []).filter((archive) => isOffsiteUrl(archive.location));
  if (offsite.length > 0) await storeCopies(project, complete, offsite, options);
}

/** The record beside each s3:// archive of the backup; what cannot be stored is a warning. */
async function storeCopies(
  project: Project,
  record: HistoryRecord,
  archives: readonly HistoryArchive[],
  options: { signal: AbortSignal; warn: (line: string) => void },
): Promise<void> {
  for (const archive of archives) {
    let store: OffsiteStore | undefined;
    try {
      store = openOffsite(
        (key) => project.setting(key),
        () => undefined,
        options.signal,
      );
      await writeHistoryCopy(store, parseOffsiteUrl(archive.location), record, options.signal);
    } catch (error) {
      options.warn(`the copy of this run's record could not be stored beside ${archive.location} (${reasonOf(error)}).`);
    } finally {
      store?.destroy();
    }
  }
}

/** The failure in one line, credentials in URLs and the values of secret settings (docker/.env, environment) masked. */
async function scrubbed(project: Project, failure: unknown): Promise<string> {
  const line = typeof failure === 'string' ? failure : describeError(failure);
  return maskCredentials(firstLine(line), await secretValues(project));
}

async function secretValues(project: Project): Promise<string[]> {
  const text = await readFile(join(project.dockerDir, '.env'), 'utf8').catch(() => '');
  const names = new Set(
    [...Object.keys(parseDotenv(text)), ...Object.keys(process.env)].filter(
      (name) => SECRET_SETTING.test(name) && !PATH_SETTING.test(name),
    ),
  );
  return [...names].map((name) => project.setting(name)).filter((value) => value !== undefined);
}

function reasonOf(error: unknown): string {
  return withoutFinalPeriod(firstLine(error instanceof Error ? error.message : String(error)));
}
