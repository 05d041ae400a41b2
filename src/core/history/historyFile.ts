import { constants, createReadStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { HistoryRecordSchema, type HistoryRecord } from '../../model/history.js';

/** The history of one deployment: a line per run, in the project's backup folder. */
export const HISTORY_FILE_NAME = '.orkestra-backup-history.jsonl';

export function historyPath(backupsDir: string): string {
  return join(backupsDir, HISTORY_FILE_NAME);
}

/**
 * Appends one record as one line in a single write to a file opened for appending: the kernel
 * places each such write whole at the end, so concurrent runs never tear or lose a line.
 */
export async function appendHistory(path: string, record: HistoryRecord): Promise<void> {
  const line = Buffer.from(`${JSON.stringify(HistoryRecordSchema.parse(record))}\n`);
  await mkdir(dirname(path), { recursive: true });
  // Never through a symbolic link: the chmod and the line would land in the file it names.
  const file = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    await file.chmod(0o600);
    const { bytesWritten } = await file.write(line);
    if (bytesWritten !== line.length) throw new Error(`only ${bytesWritten} of ${line.length} bytes of the history record were written.`);
  } finally {
    await file.close();
  }
}

export interface HistoryReading {
  /** Oldest first; with a limit, only the newest `limit`. */
  readonly records: HistoryRecord[];
  /** Lines that are not records (a foreign edit, a disk that filled mid-line): skipped. */
  readonly unreadable: number;
}

/** Reads the history line by line, keeping only the newest `limit` records when given. A missing file is an empty history. */
export async function readHistory(path: string, limit?: number): Promise<HistoryReading> {
  const records: HistoryRecord[] = [];
  let unreadable = 0;
  const input = createReadStream(path, { encoding: 'utf8' });
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (line.trim() === '') continue;
      const record = parseRecord(line);
      if (!record) {
        unreadable += 1;
        continue;
      }
      records.push(record);
      if (limit !== undefined && records.length > limit) records.shift();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], unreadable: 0 };
    throw error;
  } finally {
    input.destroy();
  }
  return { records, unreadable };
}

function parseRecord(line: string): HistoryRecord | undefined {
  try {
    const parsed = HistoryRecordSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
