import { posix } from 'node:path';
import { ARCHIVE_FILE } from '../../archive/archiveNames.js';
import { firstBytes } from '../../base/firstBytes.js';
import { HistoryRecordSchema, type HistoryRecord } from '../../model/history.js';
import type { OffsiteStore } from '../../s3/offsite/offsite.js';
import { offsiteChild, type OffsiteUrl } from '../../s3/offsite/offsiteUrl.js';

/**
 * A backup's history record kept beside its archive in an s3:// folder (`<archive>.history.json`),
 * so that any host reading that folder sees the run that wrote it. `list` and `prune` take only
 * archive names, so they never mistake it for one; `prune` removes it with its archive.
 */
const HISTORY_COPY_SUFFIX = '.history.json';
/** A record is a few kilobytes (a shape with thousands of collections: some hundreds); more is not one. */
const HISTORY_COPY_LIMIT = 4 * 1024 * 1024;

/** Where an archive's record copy is: the archive's name, path or key with `.history.json` added. */
export function historyCopyNameOf(archive: string): string {
  return `${archive}${HISTORY_COPY_SUFFIX}`;
}

export async function writeHistoryCopy(
  store: OffsiteStore,
  archive: OffsiteUrl,
  record: HistoryRecord,
  signal?: AbortSignal,
): Promise<void> {
  const url: OffsiteUrl = { bucket: archive.bucket, key: historyCopyNameOf(archive.key), folder: false };
  await store.put(url, Buffer.from(`${JSON.stringify(HistoryRecordSchema.parse(record), null, 2)}\n`), 'application/json', signal);
}

export interface HistoryCopies {
  /** Oldest first; with a limit, only the newest `limit`. */
  readonly records: HistoryRecord[];
  /** Copies that are not records (too large, not JSON, another schema): skipped. */
  readonly unreadable: number;
}

/**
 * The record copies of an s3:// folder, oldest first by when each was stored (after its backup
 * ended): with a limit only the newest `limit` copies are read, so a split backup's two copies,
 * one run, count twice against it.
 */
export async function readHistoryCopies(store: OffsiteStore, folder: OffsiteUrl, limit?: number): Promise<HistoryCopies> {
  const copies = (await store.list(folder)).filter((object) => {
    const name = object.key.slice(folder.key.length);
    return name.endsWith(HISTORY_COPY_SUFFIX) && ARCHIVE_FILE.test(name.slice(0, -HISTORY_COPY_SUFFIX.length)) && !name.startsWith('.');
  });
  copies.sort((left, right) => left.modifiedMs - right.modifiedMs);
  const chosen = limit === undefined ? copies : copies.slice(Math.max(0, copies.length - limit));
  const records: HistoryRecord[] = [];
  // Both archives of a split backup carry the same record: it is one run.
  const runs = new Set<string>();
  let unreadable = 0;
  for (const object of chosen) {
    const url = offsiteChild(folder, posix.basename(object.key));
    const bytes = await firstBytes((await store.readFrom(url, object.etag, 0)).body, HISTORY_COPY_LIMIT + 1);
    const record = bytes.length > HISTORY_COPY_LIMIT ? undefined : parseCopy(bytes.toString('utf8'));
    if (!record) unreadable += 1;
    else if (!runs.has(runOf(record))) {
      runs.add(runOf(record));
      records.push(record);
    }
  }
  records.sort((left, right) => left.startedAt.localeCompare(right.startedAt));
  return { records, unreadable };
}

function runOf(record: HistoryRecord): string {
  return `${record.host} ${record.startedAt} ${record.archives?.[0]?.location ?? ''}`;
}

function parseCopy(text: string): HistoryRecord | undefined {
  try {
    const parsed = HistoryRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
