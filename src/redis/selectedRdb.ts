import { join } from 'node:path';
import { PrivateSpool } from '../archive/privateSpool.js';
import { createPrivateFolder, removeTemporary } from '../base/temporaryFiles.js';
import type { RdbEntry } from './rdbKeys.js';
import type { RdbBytes } from './rdbReader.js';

const SELECTDB = 0xfe;
const EXPIRE_MS = 0xfc;
const EOF = 0xff;

/**
 * The selected keys of an archive's RDB, written as an RDB file of their own while the keep pass
 * walks the archive: the restore then reads them from here instead of reading the archive again.
 * A private spool (0600, under a throwaway key, removed on exit), so the values never sit on the
 * disk readable. Values only the walk measured (too long to keep) cannot go in: `complete` is
 * then false and the restore reads the archive.
 */
export class SelectedRdb {
  private db = -1;
  private started = false;
  private usable = true;
  private entries = 0;

  private constructor(
    private readonly folder: string,
    private readonly spool: PrivateSpool,
  ) {}

  static async create(): Promise<SelectedRdb> {
    const folder = await createPrivateFolder('orkestra-keys-');
    return new SelectedRdb(folder, await PrivateSpool.create(join(folder, 'selected.rdb')));
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
    await this.spool.write(Buffer.concat(parts));
    this.entries += 1;
  }

  /** Ends the file: the end marker and an unset checksum (RDB's "not computed"). */
  async finish(): Promise<void> {
    if (!this.started) await this.spool.write(Buffer.from('REDIS0009', 'latin1'));
    this.started = true;
    await this.spool.write(Buffer.concat([Buffer.from([EOF]), Buffer.alloc(8)]));
    await this.spool.close();
  }

  /** The file's bytes, for the restore's walk. */
  bytes(): RdbBytes {
    return { size: this.spool.size, [Symbol.asyncIterator]: () => this.spool.chunks() };
  }

  async remove(): Promise<void> {
    await this.spool.remove();
    await removeTemporary(this.folder);
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
