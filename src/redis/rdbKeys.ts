/**
 * Walks an RDB file's keys as it streams by (format of Redis 7.x `rdb.c`): how many keys each
 * database holds and the first few keys with their type and expiry, for a drill to look for on
 * the restored server. Values are skipped, never held; only one encoded string at a time is.
 * A value type this walk cannot skip (module data, the hash-field-expiry types of 7.4) stops it:
 * the count is then unknown, never guessed. Every length a record declares is checked against the
 * rest of the file and a cap before anything is read into memory for it (rdbReader.ts).
 */
import { withoutFinalPeriod } from '../base/format.js';
import { ChunkReader, DamagedRdb, Unwalkable, type RdbBytes } from './rdbReader.js';
import { END, PASSED, RdbWalk, type RdbEntry, type WalkOptions } from './rdbWalk.js';

export { shownKey, type RdbEntry, type WalkOptions } from './rdbWalk.js';

export interface RdbKeySample {
  readonly db: number;
  readonly key: string;
  /** As Redis's TYPE command names it. */
  readonly type: string;
  /** Absolute expiry in ms since the epoch, when the key has one. */
  readonly expiresAtMs?: number;
}

export interface RdbKeyScan {
  /** Keys per database; undefined when the walk could not reach the end. */
  readonly keysPerDb?: ReadonlyMap<number, number>;
  readonly sample: readonly RdbKeySample[];
  /** Why the walk stopped early. */
  readonly stopped?: string;
  /** Whether it stopped at a damaged record (rather than one it cannot step over). */
  readonly damaged?: boolean;
  /** The keys by expiry, against the times given to the scan. */
  readonly expiry: ExpiryCounts;
}

/** Two moments a server's keys are judged at: keys expired before the first cannot be there, keys unexpired at the second must. */
export interface ExpiryTimes {
  readonly startedBeforeMs: number;
  readonly countedAtMs: number;
}

/** Keys without an expiry; keys unexpired at `countedAtMs`; keys that expired between the two moments. */
export interface ExpiryCounts {
  persistent: number;
  volatile: number;
  expiring: number;
}

/** Adds a key with this expiry to the counts; false when it had expired before `startedBeforeMs` (not counted). */
export function countExpiry(counts: ExpiryCounts, times: ExpiryTimes, expiresAtMs: number | undefined): boolean {
  if (expiresAtMs === undefined) counts.persistent += 1;
  else if (expiresAtMs > times.countedAtMs) counts.volatile += 1;
  else if (expiresAtMs > times.startedBeforeMs) counts.expiring += 1;
  else return false;
  return true;
}

/**
 * Every key of an RDB file in order (those `select` gives), with its database, type and expiry
 * (and its bytes and raw value when asked). Returns the file's RDB version. Throws Unwalkable on
 * a record it cannot step over, DamagedRdb on one that contradicts itself or the file, before
 * allocating anything for it.
 */
export async function* walkRdb(content: RdbBytes, options: WalkOptions): AsyncGenerator<RdbEntry, number> {
  const reader = new ChunkReader(content);
  try {
    const walk = await RdbWalk.start(reader, options);
    for (;;) {
      const next = walk.buffered() ?? (await walk.step());
      if (next === END) return walk.version;
      if (next !== PASSED) yield next;
    }
  } finally {
    await reader.close();
  }
}

/**
 * `walkRdb` handing each entry to `onEntry`, awaited only when it returns a promise: a pass over
 * every key costs no promise per key. Returns the file's RDB version.
 */
export async function eachRdbEntry(
  content: RdbBytes,
  options: WalkOptions,
  onEntry: (entry: RdbEntry) => void | Promise<void>,
): Promise<number> {
  const reader = new ChunkReader(content);
  try {
    const walk = await RdbWalk.start(reader, options);
    for (;;) {
      const next = walk.buffered() ?? (await walk.step());
      if (next === END) return walk.version;
      if (next === PASSED) continue;
      const handled = onEntry(next);
      if (handled) await handled;
    }
  } finally {
    await reader.close();
  }
}

/** Counts the keys of every database, and by expiry against `times`, and samples the first `sampleSize` keys. */
export async function scanRdbKeys(
  content: RdbBytes,
  sampleSize = 20,
  times: ExpiryTimes = { startedBeforeMs: -Infinity, countedAtMs: Date.now() },
): Promise<RdbKeyScan> {
  const keysPerDb = new Map<number, number>();
  const sample: RdbKeySample[] = [];
  const expiry: ExpiryCounts = { persistent: 0, volatile: 0, expiring: 0 };
  try {
    for await (const entry of walkRdb(content, { keepKey: (index) => index < sampleSize, values: false })) {
      const { db, key, type, expiresAtMs } = entry;
      countExpiry(expiry, times, expiresAtMs);
      // Keys that are not UTF-8 cannot be asked for through redis-cli's argv: they are counted, not sampled.
      if (key && Buffer.from(key.toString('utf8')).equals(key)) sample.push({ db, key: key.toString('utf8'), type, expiresAtMs });
      keysPerDb.set(db, (keysPerDb.get(db) ?? 0) + 1);
    }
    return { keysPerDb, sample, expiry };
  } catch (error) {
    if (error instanceof Unwalkable) return { sample, expiry, stopped: error.message };
    if (error instanceof DamagedRdb) return { sample, expiry, stopped: withoutFinalPeriod(error.message), damaged: true };
    throw error;
  }
}
