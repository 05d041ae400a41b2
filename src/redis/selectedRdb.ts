import { join } from 'node:path';
import { PrivateSpool } from '../archive/privateSpool.js';
import { createPrivateFolder, removeTemporary } from '../base/temporaryFiles.js';
import type { RdbEntry } from './rdbKeys.js';
import type { RdbBytes } from './rdbReader.js';

const SELECTDB = 0xfe;
const EXPIRE_MS = 0xfc;
const EOF = 0xff;
/** The end marker and the checksum after it. */
const END_BYTES = 9;

/** Where a SelectedRdb's bytes go: a private spool on disk, or memory. */
interface RecordStore {
  readonly size: number;
  write(bytes: Buffer): Promise<void>;
  close(): Promise<void>;
  chunks(): AsyncIterable<Buffer>;
  remove(): Promise<void>;
}

/** The bytes held in memory, joined into one piece once written whole. */
class HeldRecords implements RecordStore {
  private pieces: Buffer[] = [];
  size = 0;

  write(bytes: Buffer): Promise<void> {
    this.pieces.push(bytes);
    this.size += bytes.length;
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.pieces = [Buffer.concat(this.pieces, this.size)];
    return Promise.resolve();
  }

  async *chunks(): AsyncGenerator<Buffer> {
    yield* this.pieces;
  }

  remove(): Promise<void> {
    this.pieces = [];
    return Promise.resolve();
  }
}

/**
 * The selected keys of an archive's RDB, written as an RDB file of their own while a walk of the
 * archive meets them: the restore then reads them from here instead of reading the archive again.
 * Either a private spool (0600, under a throwaway key, removed on exit), so the values never sit
 * on the disk readable, or memory up to `mostBytes` (what the plan holds for the restore). Values
 * only the walk measured (too long to keep), or more than `mostBytes` of them, cannot go in:
 * `complete` is then false and the restore reads the archive.
 */
export class SelectedRdb {
  private db = -1;
  private started = false;
  private usable = true;
  private entries = 0;

  private constructor(
    private readonly store: RecordStore,
    private readonly mostBytes: number,
    private readonly folder?: string,
  ) {}

  static async create(): Promise<SelectedRdb> {
    const folder = await createPrivateFolder('orkestra-keys-');
    return new SelectedRdb(await PrivateSpool.create(join(folder, 'selected.rdb')), Number.POSITIVE_INFINITY, folder);
  }

  /** Held in memory, while the file stays within `mostBytes`. */
  static held(mostBytes: number): SelectedRdb {
    return new SelectedRdb(new HeldRecords(), mostBytes);
  }

  /** Whether every selected key went in. */
  get complete(): boolean {
    return this.usable;
  }

  /** How many keys it holds. */
  get keys(): number {
    return this.entries;
  }

  async add(entry: RdbEntry): Promise<void> {
    if (!this.usable) return;
    if (entry.value === undefined || entry.key === undefined) {
      this.usable = false;
      return;
    }
    const parts: Buffer[] = [];
    if (!this.started) parts.push(Buffer.from(`REDIS${String(entry.version).padStart(4, '0')}`, 'latin1'));
    this.started = true;
    if (entry.db !== this.db) parts.push(Buffer.from([SELECTDB]), rdbLength(entry.db));
    this.db = entry.db;
    if (entry.expiresAtMs !== undefined) {
      const at = Buffer.alloc(9);
      at[0] = EXPIRE_MS;
      at.writeBigUInt64LE(BigInt(entry.expiresAtMs), 1);
      parts.push(at);
    }
    // The value's raw encoding starts with its type byte, which goes before the key.
    parts.push(entry.value.subarray(0, 1), rdbLength(entry.key.length), entry.key, entry.value.subarray(1));
    const record = Buffer.concat(parts);
    if (this.store.size + record.length + END_BYTES > this.mostBytes) {
      this.usable = false;
      await this.store.remove();
      return;
    }
    await this.store.write(record);
    this.entries += 1;
  }

  /** Ends the file: the end marker and an unset checksum (RDB's "not computed"). */
  async finish(): Promise<void> {
    if (!this.started) await this.store.write(Buffer.from('REDIS0009', 'latin1'));
    this.started = true;
    await this.store.write(Buffer.concat([Buffer.from([EOF]), Buffer.alloc(END_BYTES - 1)]));
    await this.store.close();
  }

  /** The file's bytes, for the restore's walk. */
  bytes(): RdbBytes {
    return { size: this.store.size, [Symbol.asyncIterator]: () => this.store.chunks()[Symbol.asyncIterator]() };
  }

  async remove(): Promise<void> {
    await this.store.remove();
    if (this.folder !== undefined) await removeTemporary(this.folder);
  }
}

/** RDB's length encoding: 6, 14, 32 or 64 bits. */
function rdbLength(length: number): Buffer {
  if (length < 1 << 6) return Buffer.from([length]);
  if (length < 1 << 14) return Buffer.from([0x40 | (length >> 8), length & 0xff]);
  if (length <= 0xffffffff) {
    const bytes = Buffer.alloc(5);
    bytes[0] = 0x80;
    bytes.writeUInt32BE(length, 1);
    return bytes;
  }
  const bytes = Buffer.alloc(9);
  bytes[0] = 0x81;
  bytes.writeBigUInt64BE(BigInt(length), 1);
  return bytes;
}
