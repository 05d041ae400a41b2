import { RdbChecker, type RdbCheck } from './rdb.js';
import { walkRdb } from './rdbKeys.js';
import { Unwalkable, type RdbBytes } from './rdbReader.js';

/** What an online restore needs to know of an RDB before its first change. */
export interface RdbSurvey {
  /** The RDB format version, when the walk reached the end. */
  readonly version?: number;
  readonly keysPerDb: ReadonlyMap<number, number>;
  /** The header, EOF marker and whole-file CRC-64, as `verify` checks them. */
  readonly check: RdbCheck;
  /** Why the walk stopped before the end (a type it cannot convert, or a damaged record). */
  readonly unwalkable?: Unwalkable;
  /** Keys whose RESTORE would send a bulk string (key or DUMP payload) over `maxBulk`: how many, and the largest. */
  readonly oversized: { readonly count: number; readonly largest?: { readonly key: Buffer; readonly bytes: number } };
}

/** A DUMP payload is the value's encoding, 2 bytes of RDB version and an 8-byte CRC-64. */
export const DUMP_TRAILER_BYTES = 10;

/**
 * Reads a whole RDB once: walks its keys (counted per database) and checks the CRC-64 of every
 * byte, including those after the EOF opcode the walk stops at. With `maxBulk`, every value is
 * read (one at a time, as the restore will) to find those a RESTORE could not send.
 */
export async function surveyRdb(content: RdbBytes, maxBulk?: number): Promise<RdbSurvey> {
  const checker = new RdbChecker();
  const source = content[Symbol.asyncIterator]();
  // The size goes along, so the walk checks every declared length against what is left.
  const checked: RdbBytes = {
    get size() {
      return content.size;
    },
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const next = await source.next();
        if (!next.done) checker.push(next.value);
        return next;
      },
      // The walk stops at the EOF opcode: the checksum after it is still read below.
      return: () => Promise.resolve({ done: true as const, value: undefined }),
    }),
  };
  const keysPerDb = new Map<number, number>();
  let oversized: { count: number; largest?: { key: Buffer; bytes: number } } = { count: 0 };
  let version: number | undefined;
  let unwalkable: Unwalkable | undefined;
  try {
    try {
      const withValues = maxBulk !== undefined;
      const walk = walkRdb(checked, { keepKey: () => withValues, values: withValues });
      for (;;) {
        const next = await walk.next();
        if (next.done) {
          version = next.value;
          break;
        }
        const { db, key, value } = next.value;
        keysPerDb.set(db, (keysPerDb.get(db) ?? 0) + 1);
        const bytes = Math.max(key?.length ?? 0, (value?.length ?? 0) + DUMP_TRAILER_BYTES);
        if (maxBulk !== undefined && bytes > maxBulk) {
          const largest = oversized.largest && oversized.largest.bytes >= bytes ? oversized.largest : { key: key!, bytes };
          oversized = { count: oversized.count + 1, largest };
        }
      }
    } catch (error) {
      if (!(error instanceof Unwalkable)) throw error;
      unwalkable = error;
    }
    const rest = checked[Symbol.asyncIterator]();
    while (!(await rest.next()).done);
  } finally {
    await source.return?.();
  }
  return { version, keysPerDb, check: checker.finish(), unwalkable, oversized };
}

/** The first reason a survey says the file is damaged (header, EOF marker, CRC-64), if any. */
export function damage(survey: RdbSurvey): string | undefined {
  return survey.check.problems[0];
}

/** Whether the walk stopped at a value type it cannot convert, rather than at damage. */
export function isUnconvertible(unwalkable: Unwalkable): boolean {
  return /^(module data|value type )/.test(unwalkable.message);
}
