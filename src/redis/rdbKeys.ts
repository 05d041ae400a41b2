/**
 * Walks an RDB file's keys as it streams by (format of Redis 7.x `rdb.c`): how many keys each
 * database holds and the first few keys with their type and expiry, for a drill to look for on
 * the restored server. Values are skipped, never held; only one encoded string at a time is.
 * A value type this walk cannot skip (module data, the hash-field-expiry types of 7.4) stops it:
 * the count is then unknown, never guessed. Every length a record declares is checked against the
 * rest of the file and a cap before anything is read into memory for it (rdbReader.ts).
 */
import { withoutFinalPeriod } from '../base/format.js';
import { ChunkReader, DamagedRdb, MOST_STRING_BYTES, Unwalkable, type RdbBytes } from './rdbReader.js';

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

const OP = {
  FUNCTION2: 0xf5,
  MODULE_AUX: 0xf7,
  IDLE: 0xf8,
  FREQ: 0xf9,
  AUX: 0xfa,
  RESIZEDB: 0xfb,
  EXPIRE_MS: 0xfc,
  EXPIRE: 0xfd,
  SELECTDB: 0xfe,
  EOF: 0xff,
};
const SLOT_INFO = 0xf4;

const TYPE_NAMES: Record<number, string> = {
  0: 'string',
  1: 'list',
  10: 'list',
  14: 'list',
  18: 'list',
  2: 'set',
  11: 'set',
  20: 'set',
  3: 'zset',
  5: 'zset',
  12: 'zset',
  17: 'zset',
  4: 'hash',
  9: 'hash',
  13: 'hash',
  16: 'hash',
  15: 'stream',
  19: 'stream',
  21: 'stream',
};

/** One key of an RDB file as the walk meets it. */
export interface RdbEntry {
  readonly db: number;
  /** The key's bytes, when asked for. */
  readonly key?: Buffer;
  readonly type: string;
  /** Absolute expiry in ms since the epoch, when the key has one. */
  readonly expiresAtMs?: number;
  /** The type byte and the value's raw encoding — a DUMP payload's body — when asked for and at most `valueKeepUpTo` bytes. */
  readonly value?: Buffer;
  /** How long that encoding is, when values are asked for (also when it was too long to keep). */
  readonly valueBytes?: number;
  /** The file's RDB format version (a DUMP payload carries it). */
  readonly version: number;
}

export interface WalkOptions {
  /** Whether to keep the key of the entry about to be read (its position in the file). */
  keepKey(index: number): boolean;
  /** Keep every value's raw encoding (for RESTORE) and say its size; values are skipped otherwise. */
  values: boolean;
  /**
   * The longest value encoding kept (default MOST_STRING_BYTES): a longer one is only measured,
   * so memory never holds more than this of one value. 0 measures every value and keeps none.
   */
  valueKeepUpTo?: number;
}

/** Keys up to this long are read even when not kept, to name them when their value is damaged. */
const NAMED_KEY_BYTES = 256;
const ALWAYS = Number.POSITIVE_INFINITY;
const NEVER = -1;

/**
 * Every key of an RDB file in order, with its database, type and expiry (and its bytes and raw
 * value when asked). Returns the file's RDB version. Throws Unwalkable on a record it cannot step
 * over, DamagedRdb on one that contradicts itself or the file, before allocating anything for it.
 */
export async function* walkRdb(content: RdbBytes, options: WalkOptions): AsyncGenerator<RdbEntry, number> {
  const reader = new ChunkReader(content);
  try {
    const header = (await reader.take(9)).toString('latin1');
    if (!/^REDIS\d{4}$/.test(header)) throw reader.damaged('the file does not start with a REDIS header');
    const version = Number(header.slice(5));
    let db = 0;
    let index = 0;
    let expiresAtMs: number | undefined;
    // Where the walk is, for messages: worked out only when one is needed.
    let stage: 'between keys' | 'in a name' | 'in a value' = 'between keys';
    let last: { key?: Buffer; index: number; db: number } | undefined;
    reader.place = () => {
      const named = last && `key ${last.key ? shownKey(last.key) : `number ${last.index + 1}`} (database ${last.db})`;
      if (stage === 'in a value') return `in the value of ${named}`;
      if (stage === 'in a name') return `in the name of the key ${named ? `after ${named}` : 'first in the file'}`;
      return named ? `after ${named}` : 'before the first key';
    };
    for (;;) {
      const opcode = await reader.byte();
      if (opcode === OP.EOF) return version;
      if (opcode === OP.AUX) {
        await reader.string(NEVER);
        await reader.string(NEVER);
      } else if (opcode === OP.SELECTDB) {
        db = await reader.number();
      } else if (opcode === OP.RESIZEDB) {
        await reader.number();
        await reader.number();
      } else if (opcode === OP.EXPIRE_MS) {
        expiresAtMs = Number((await reader.take(8)).readBigUInt64LE(0));
      } else if (opcode === OP.EXPIRE) {
        expiresAtMs = (await reader.take(4)).readUInt32LE(0) * 1000;
      } else if (opcode === OP.IDLE) {
        await reader.number();
      } else if (opcode === OP.FREQ) {
        await reader.pass(1);
      } else if (opcode === OP.FUNCTION2) {
        await reader.string(NEVER);
      } else if (opcode === SLOT_INFO) {
        for (let field = 0; field < 3; field += 1) await reader.number();
      } else if (opcode === OP.MODULE_AUX) {
        throw new Unwalkable('module data');
      } else {
        const type = TYPE_NAMES[opcode];
        if (type === undefined) throw new Unwalkable(`value type ${opcode} (module data, or a type newer than this tool knows)`);
        const keep = options.keepKey(index);
        stage = 'in a name';
        const key = await reader.string(keep ? ALWAYS : NAMED_KEY_BYTES);
        last = { key, index, db };
        stage = 'in a value';
        if (options.values) reader.startCapture(Buffer.from([opcode]), options.valueKeepUpTo ?? MOST_STRING_BYTES);
        await skipValue(reader, opcode);
        const { value, bytes } = options.values ? reader.endCapture() : { value: undefined, bytes: undefined };
        yield { db, key: keep ? key : undefined, type, expiresAtMs, value, valueBytes: bytes, version };
        stage = 'between keys';
        index += 1;
        expiresAtMs = undefined;
      }
    }
  } finally {
    await reader.close();
  }
}

/** A key as messages show it: quoted, escaped, cut short. */
export function shownKey(key: Buffer): string {
  const text = key.toString('utf8');
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
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

async function skipValue(reader: ChunkReader, type: number): Promise<void> {
  const strings = async (count: number) => {
    for (let index = 0; index < count; index += 1) await reader.string(NEVER);
  };
  switch (type) {
    case 0:
    case 9:
    case 10:
    case 11:
    case 12:
    case 13:
    case 16:
    case 17:
    case 20:
      return void (await reader.string(NEVER)); // one string: the value or its packed encoding
    case 1:
    case 2:
    case 14:
      return strings(await reader.count('a list or set of strings'));
    case 4:
      return strings(2 * (await reader.count('a hash', 2)));
    case 3:
      for (let count = await reader.count('a sorted set', 2); count > 0; count -= 1) {
        await reader.string(NEVER);
        const size = await reader.byte(); // a double as text: 253-255 are nan, +inf, -inf
        if (size < 253) await reader.pass(size);
      }
      return;
    case 5:
      for (let count = await reader.count('a sorted set', 9); count > 0; count -= 1) {
        await reader.string(NEVER);
        await reader.pass(8);
      }
      return;
    case 18:
      for (let count = await reader.count('a quicklist', 2); count > 0; count -= 1) {
        await reader.number(); // container: plain or packed
        await reader.string(NEVER);
      }
      return;
    default:
      return skipStream(reader, type);
  }
}

/** Streams: their listpacks, then metadata, consumer groups, pending entries and consumers (types 15, 19, 21). */
async function skipStream(reader: ChunkReader, type: number): Promise<void> {
  for (let count = await reader.count("a stream's listpacks", 2); count > 0; count -= 1) {
    await reader.string(NEVER);
    await reader.string(NEVER);
  }
  const lengths = async (count: number) => {
    for (let index = 0; index < count; index += 1) await reader.number();
  };
  await lengths(3); // items, last id
  if (type >= 19) await lengths(5); // first id, max deleted id, entries added
  for (let groups = await reader.count("a stream's consumer groups", 5); groups > 0; groups -= 1) {
    await reader.string(NEVER);
    await lengths(type >= 19 ? 3 : 2); // last id (and entries read)
    for (let pending = await reader.count("a consumer group's pending entries", 25); pending > 0; pending -= 1) {
      await reader.pass(16 + 8); // entry id, delivery time
      await reader.number(); // delivery count
    }
    for (let consumers = await reader.count("a consumer group's consumers", 10); consumers > 0; consumers -= 1) {
      await reader.string(NEVER);
      await reader.pass(type >= 21 ? 16 : 8); // seen time (and active time)
      await reader.pass(16 * (await reader.count("a consumer's pending entries", 16)));
    }
  }
}
