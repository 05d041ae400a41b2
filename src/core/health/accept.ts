import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Keyring } from '../../age/header.js';
import type { Manifest } from '../../archive/manifest.js';
import { readManifest, sizeProblem } from '../../archive/reader.js';
import { UsageError } from '../../base/errors.js';
import type { HistoryRecord } from '../../model/history.js';
import type { OffsiteStore } from '../../s3/offsite/offsite.js';
import { isOffsiteUrl } from '../../s3/offsite/offsiteUrl.js';
import { appendHistory, historyPath } from '../history/historyFile.js';
import { openArchiveReference } from '../offsite.js';

export interface Acceptance {
  readonly record: HistoryRecord;
  readonly manifest: Manifest;
  /** Where the record went. */
  readonly historyFile: string;
}

/**
 * `accept <archive>`: the archive's differences from its baseline were intended (old data
 * cleaned up). Its manifest is read and its size checked — only a sound archive is a baseline —
 * then an `accept` record naming it (path or URL, backupId) and holding its shape is appended to
 * the history, so the next backup is compared with it.
 */
export async function acceptArchive(
  reference: string,
  backupsDir: string,
  openStore: () => OffsiteStore,
  keyring?: Keyring,
): Promise<Acceptance> {
  const started = new Date();
  const location = isOffsiteUrl(reference) ? reference : resolve(reference);
  const bytes = await openArchiveReference(location, openStore, keyring);
  let manifest: Manifest;
  try {
    manifest = (await readManifest(bytes)).manifest;
    const problem = await sizeProblem(bytes, manifest);
    if (problem)
      throw new UsageError(`${reference} is not sound: ${problem}.`, {
        hint: 'Only a sound archive can be a baseline; nothing was recorded.',
      });
  } finally {
    await bytes.close();
  }
  const fileBytes = isOffsiteUrl(location) ? undefined : (await stat(location)).size;
  const record: HistoryRecord = {
    version: 1,
    command: 'accept',
    startedAt: started.toISOString(),
    endedAt: new Date().toISOString(),
    result: 'success',
    exitCode: 0,
    environment: manifest.environment,
    host: hostname(),
    archives: [{ location, bytes: fileBytes, backupId: manifest.backupId, split: manifest.split }],
    components: Object.fromEntries(manifest.components.map((name) => [name, {}])),
    shape: manifest.shape,
    accepted: true,
  };
  const historyFile = historyPath(backupsDir);
  await appendHistory(historyFile, record);
  return { record, manifest, historyFile };
}
