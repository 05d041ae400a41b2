import type { RdbCheck } from './rdbChecker.js';
import type { RdbBytes } from './rdbReader.js';
import { surveyRdb } from './rdbSurvey.js';

/**
 * Checks an RDB file in one pass (surveyRdb): the header, EOF marker and CRC-64, and every record
 * as the key walk reads it, so a length past the end of the file or a compressed string that
 * cannot expand to what it declares is found here, as the restore would meet it. A record the
 * walk cannot step over (module data) is not damage: the rest is then checked by its CRC alone.
 */
export async function checkRdb(content: AsyncIterable<Buffer>, size?: number): Promise<RdbCheck> {
  const sized: RdbBytes = {
    get size() {
      return size ?? (content as RdbBytes).size;
    },
    [Symbol.asyncIterator]: () => content[Symbol.asyncIterator](),
  };
  return (await surveyRdb(sized)).check;
}

/** The files an AOF manifest names (`file <name> seq <n> type <b|h|i>`), except history files. */
export function aofManifestFiles(text: string): { name: string; type: string }[] {
  const files: { name: string; type: string }[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const name = fields[fields.indexOf('file') + 1];
    const type = fields[fields.indexOf('type') + 1];
    if (fields[0] === 'file' && name && type !== 'h') files.push({ name, type: type ?? '?' });
  }
  return files;
}

/**
 * The newest RDB format a Redis version loads (Redis refuses newer ones): 7.0 wrote version 10,
 * 7.2 version 11, 7.4 and 8.x version 12 (from the `RDB_VERSION` of each release's `rdb.h`).
 */
export function highestRdbVersion(redisVersion: string): number | undefined {
  const match = /^(\d+)\.(\d+)/.exec(redisVersion);
  if (!match) return undefined;
  const version = Number(match[1]) * 100 + Number(match[2]);
  const table: [number, number][] = [
    [704, 12],
    [702, 11],
    [700, 10],
    [500, 9],
    [400, 8],
    [302, 7],
    [208, 6],
  ];
  return table.find(([since]) => version >= since)?.[1] ?? 6;
}
