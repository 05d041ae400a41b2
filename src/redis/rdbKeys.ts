/**
 * Walks an RDB file's keys as it streams by (format of Redis 7.x `rdb.c`): how many keys each
 * database holds and the first few keys with their type and expiry, for a drill to look for on
 * the restored server. Values are skipped, never held; only one encoded string at a time is.
 * A value type this walk cannot skip (module data, the hash-field-expiry types of 7.4) stops it:
 * the count is then unknown, never guessed.
 */

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

/** A record the walk cannot step over (module data, a value type it does not know): named, never guessed. */
export class Unwalkable extends Error {}

/** Exact reads from a stream of chunks; `skip` drops bytes without keeping them. */
class ChunkReader {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly iterator: AsyncIterator<Buffer>;
  /** While set, every byte consumed is kept here (a value's raw encoding, for a DUMP payload). */
  private captured: Buffer[] | undefined;

  startCapture(first: Buffer): void {
    this.captured = [first];
  }

  endCapture(): Buffer {
    const bytes = Buffer.concat(this.captured ?? []);
    this.captured = undefined;
    return bytes;
  }

  constructor(content: AsyncIterable<Buffer>) {
    this.iterator = content[Symbol.asyncIterator]();
  }

  async take(count: number): Promise<Buffer> {
    if (this.buffer.length < count) {
      // Chunks are gathered and joined once: a large value (read whole for a DUMP payload) is not re-copied per chunk.
      const parts = [this.buffer];
      let have = this.buffer.length;
      while (have < count) {
        const next = await this.iterator.next();
        if (next.done) throw new Unwalkable('the file ends inside a record');
        parts.push(next.value);
        have += next.value.length;
      }
      this.buffer = parts.length === 2 && parts[0].length === 0 ? parts[1] : Buffer.concat(parts, have);
    }
    const taken = this.buffer.subarray(0, count);
    this.buffer = this.buffer.subarray(count);
    this.captured?.push(taken);
    return taken;
  }

  async byte(): Promise<number> {
    return (await this.take(1))[0];
  }

  async skip(count: number): Promise<void> {
    if (this.captured) {
      await this.take(count);
      return;
    }
    while (count > 0) {
      if (this.buffer.length === 0) {
        const next = await this.iterator.next();
        if (next.done) throw new Unwalkable('the file ends inside a record');
        this.buffer = next.value;
      }
      const dropped = Math.min(count, this.buffer.length);
      this.buffer = this.buffer.subarray(dropped);
      count -= dropped;
    }
  }

  /** Lets the rest of the stream go (the caller stops reading). */
  async close(): Promise<void> {
    await this.iterator.return?.();
  }

  /** A length, or a special string encoding (`encoded`: 0 int8, 1 int16, 2 int32, 3 LZF). */
  async length(): Promise<{ value: number; encoded?: number }> {
    const first = await this.byte();
    switch (first >> 6) {
      case 0:
        return { value: first & 0x3f };
      case 1:
        return { value: ((first & 0x3f) << 8) | (await this.byte()) };
      case 2:
        if (first === 0x80) return { value: (await this.take(4)).readUInt32BE(0) };
        if (first === 0x81) return { value: Number((await this.take(8)).readBigUInt64BE(0)) };
        throw new Unwalkable(`unknown length encoding 0x${first.toString(16)}`);
      default:
        return { value: 0, encoded: first & 0x3f };
    }
  }

  async number(): Promise<number> {
    const { value, encoded } = await this.length();
    if (encoded !== undefined) throw new Unwalkable('a string encoding where a length was expected');
    return value;
  }

  /** A string's bytes (`keep`) or just its size skipped. */
  async string(keep: boolean): Promise<Buffer | undefined> {
    const { value, encoded } = await this.length();
    if (encoded === undefined) {
      if (keep) return Buffer.from(await this.take(value));
      await this.skip(value);
      return undefined;
    }
    if (encoded <= 2) {
      const size = [1, 2, 4][encoded];
      const raw = await this.take(size);
      const number = size === 1 ? raw.readInt8(0) : size === 2 ? raw.readInt16LE(0) : raw.readInt32LE(0);
      return Buffer.from(String(number));
    }
    if (encoded === 3) {
      const compressed = await this.number();
      const uncompressed = await this.number();
      if (!keep) {
        await this.skip(compressed);
        return undefined;
      }
      return lzfDecompress(await this.take(compressed), uncompressed);
    }
    throw new Unwalkable(`unknown string encoding ${encoded}`);
  }
}

/** One key of an RDB file as the walk meets it. */
export interface RdbEntry {
  readonly db: number;
  /** The key's bytes, when asked for. */
  readonly key?: Buffer;
  readonly type: string;
  /** Absolute expiry in ms since the epoch, when the key has one. */
  readonly expiresAtMs?: number;
  /** The type byte and the value's raw encoding — a DUMP payload's body — when asked for. */
  readonly value?: Buffer;
  /** The file's RDB format version (a DUMP payload carries it). */
  readonly version: number;
}

export interface WalkOptions {
  /** Whether to keep the key of the entry about to be read (its position in the file). */
  keepKey(index: number): boolean;
  /** Keep every value's raw encoding (for RESTORE); values are skipped otherwise. */
  values: boolean;
}

/**
 * Every key of an RDB file in order, with its database, type and expiry (and its bytes and raw
 * value when asked). Returns the file's RDB version. Throws Unwalkable on a record it cannot step over.
 */
export async function* walkRdb(content: AsyncIterable<Buffer>, options: WalkOptions): AsyncGenerator<RdbEntry, number> {
  const reader = new ChunkReader(content);
  try {
    const header = (await reader.take(9)).toString('latin1');
    if (!/^REDIS\d{4}$/.test(header)) throw new Unwalkable('the file does not start with a REDIS header');
    const version = Number(header.slice(5));
    let db = 0;
    let index = 0;
    let expiresAtMs: number | undefined;
    for (;;) {
      const opcode = await reader.byte();
      if (opcode === OP.EOF) return version;
      if (opcode === OP.AUX) {
        await reader.string(false);
        await reader.string(false);
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
        await reader.skip(1);
      } else if (opcode === OP.FUNCTION2) {
        await reader.string(false);
      } else if (opcode === SLOT_INFO) {
        for (let field = 0; field < 3; field += 1) await reader.number();
      } else if (opcode === OP.MODULE_AUX) {
        throw new Unwalkable('module data');
      } else {
        const type = TYPE_NAMES[opcode];
        if (type === undefined) throw new Unwalkable(`value type ${opcode} (module data, or a type newer than this tool knows)`);
        const key = await reader.string(options.keepKey(index));
        if (options.values) reader.startCapture(Buffer.from([opcode]));
        await skipValue(reader, opcode);
        const value = options.values ? reader.endCapture() : undefined;
        yield { db, key, type, expiresAtMs, value, version };
        index += 1;
        expiresAtMs = undefined;
      }
    }
  } finally {
    await reader.close();
  }
}

/** Counts the keys of every database and samples the first `sampleSize` keys. */
export async function scanRdbKeys(content: AsyncIterable<Buffer>, sampleSize = 20): Promise<RdbKeyScan> {
  const keysPerDb = new Map<number, number>();
  const sample: RdbKeySample[] = [];
  try {
    for await (const entry of walkRdb(content, { keepKey: (index) => index < sampleSize, values: false })) {
      const { db, key, type, expiresAtMs } = entry;
      // Keys that are not UTF-8 cannot be asked for through redis-cli's argv: they are counted, not sampled.
      if (key && Buffer.from(key.toString('utf8')).equals(key)) sample.push({ db, key: key.toString('utf8'), type, expiresAtMs });
      keysPerDb.set(db, (keysPerDb.get(db) ?? 0) + 1);
    }
    return { keysPerDb, sample };
  } catch (error) {
    if (error instanceof Unwalkable) return { sample, stopped: error.message };
    throw error;
  }
}

async function skipValue(reader: ChunkReader, type: number): Promise<void> {
  const strings = async (count: number) => {
    for (let index = 0; index < count; index += 1) await reader.string(false);
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
      return void (await reader.string(false)); // one string: the value or its packed encoding
    case 1:
    case 2:
    case 14:
      return strings(await reader.number());
    case 4:
      return strings(2 * (await reader.number()));
    case 3:
      for (let count = await reader.number(); count > 0; count -= 1) {
        await reader.string(false);
        const size = await reader.byte(); // a double as text: 253-255 are nan, +inf, -inf
        if (size < 253) await reader.skip(size);
      }
      return;
    case 5:
      for (let count = await reader.number(); count > 0; count -= 1) {
        await reader.string(false);
        await reader.skip(8);
      }
      return;
    case 18:
      for (let count = await reader.number(); count > 0; count -= 1) {
        await reader.number(); // container: plain or packed
        await reader.string(false);
      }
      return;
    default:
      return skipStream(reader, type);
  }
}

/** Streams: their listpacks, then metadata, consumer groups, pending entries and consumers (types 15, 19, 21). */
async function skipStream(reader: ChunkReader, type: number): Promise<void> {
  for (let count = await reader.number(); count > 0; count -= 1) {
    await reader.string(false);
    await reader.string(false);
  }
  const lengths = async (count: number) => {
    for (let index = 0; index < count; index += 1) await reader.number();
  };
  await lengths(3); // items, last id
  if (type >= 19) await lengths(5); // first id, max deleted id, entries added
  for (let groups = await reader.number(); groups > 0; groups -= 1) {
    await reader.string(false);
    await lengths(type >= 19 ? 3 : 2); // last id (and entries read)
    for (let pending = await reader.number(); pending > 0; pending -= 1) {
      await reader.skip(16 + 8); // entry id, delivery time
      await reader.number(); // delivery count
    }
    for (let consumers = await reader.number(); consumers > 0; consumers -= 1) {
      await reader.string(false);
      await reader.skip(type >= 21 ? 16 : 8); // seen time (and active time)
      await reader.skip(16 * (await reader.number()));
    }
  }
}

/** LZF as Redis uses it for long strings (liblzf's format). */
function lzfDecompress(input: Buffer, outputSize: number): Buffer {
  const output = Buffer.alloc(outputSize);
  let inIndex = 0;
  let outIndex = 0;
  while (inIndex < input.length) {
    const control = input[inIndex++];
    if (control < 32) {
      const length = control + 1;
      if (outIndex + length > outputSize || inIndex + length > input.length) throw new Unwalkable('a damaged compressed string');
      input.copy(output, outIndex, inIndex, inIndex + length);
      inIndex += length;
      outIndex += length;
    } else {
      let length = control >> 5;
      if (length === 7) length += input[inIndex++];
      const back = outIndex - ((control & 0x1f) << 8) - input[inIndex++] - 1;
      length += 2;
      if (back < 0 || outIndex + length > outputSize) throw new Unwalkable('a damaged compressed string');
      for (let index = 0; index < length; index += 1) output[outIndex++] = output[back + index];
    }
  }
  return output;
}
