import { Crc64 } from '../integrity/crc64.js';
import { walkRdb } from './rdbKeys.js';
import { DamagedRdb, Unwalkable, type RdbBytes } from './rdbReader.js';

const TRAILER = 8;
const EOF_OPCODE = 0xff;

export interface RdbCheck {
  /** RDB format version from the header (`REDIS0011` → 11). */
  version?: number;
  checksum: 'ok' | 'disabled' | 'mismatch' | 'unchecked';
  problems: string[];
}

/**
 * Checks an RDB file as it streams by: the `REDIS<4 digits>` header, the EOF opcode and the
 * trailing CRC-64 (Jones) of everything before it. A checksum of 0 means Redis ran with
 * `rdbchecksum no`. Only the last eight bytes are ever held back.
 */
export class RdbChecker {
  private readonly crc = Crc64.jones();
  private head = Buffer.alloc(0);
  private tail = Buffer.alloc(0);
  private size = 0;

  push(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.head.length < 9) this.head = Buffer.concat([this.head, chunk.subarray(0, 9 - this.head.length)]);
    const joined = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
    // Hold back the checksum and the EOF opcode before it.
    const settled = Math.max(0, joined.length - TRAILER - 1);
    this.crc.update(joined.subarray(0, settled));
    this.tail = Buffer.from(joined.subarray(settled));
  }

  finish(): RdbCheck {
    const match = /^REDIS(\d{4})$/.exec(this.head.toString('latin1'));
    if (!match) return { checksum: 'unchecked', problems: ['the RDB file does not start with a REDIS header'] };
    const version = Number(match[1]);
    if (version < 5) return { version, checksum: 'unchecked', problems: [] };
    if (this.size < 9 + 1 + TRAILER) return { version, checksum: 'unchecked', problems: ['the RDB file is truncated'] };
    if (this.tail[0] !== EOF_OPCODE) return { version, checksum: 'unchecked', problems: ['the RDB file is truncated (no EOF marker)'] };
    this.crc.update(this.tail.subarray(0, 1));
    const stored = this.tail.readBigUInt64LE(1);
    if (stored === 0n) return { version, checksum: 'disabled', problems: [] };
    return this.crc.digest() === stored
      ? { version, checksum: 'ok', problems: [] }
      : { version, checksum: 'mismatch', problems: ['the RDB file fails its CRC-64 checksum (truncated or damaged)'] };
  }
}

/**
 * Checks an RDB file in one pass: the header, EOF marker and CRC-64 (RdbChecker), and every
 * record as the key walk reads it, so a length past the end of the file or a compressed string
 * that cannot expand to what it declares is found here, as the restore would meet it. A record
 * the walk cannot step over (module data) is not damage: the rest is then checked by its CRC alone.
 */
export async function checkRdb(content: AsyncIterable<Buffer>, size?: number): Promise<RdbCheck> {
  const checker = new RdbChecker();
  const chunks = content[Symbol.asyncIterator]();
  // Every chunk goes to the checker as the walk takes it; the walk never sees a chunk twice.
  const walked: RdbBytes = {
    size,
    async *[Symbol.asyncIterator]() {
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
        checker.push(next.value);
        yield next.value;
      }
    },
  };
  let damage: string | undefined;
  try {
    const walk = walkRdb(walked, { keepKey: () => false, values: false });
    while (!(await walk.next()).done);
  } catch (error) {
    if (error instanceof DamagedRdb) damage = `${error.where}: ${error.what} (damaged or hostile archive)`;
    else if (!(error instanceof Unwalkable)) throw error;
  }
  // What the walk left (the checksum after the EOF opcode, or everything after a record it cannot step over).
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) checker.push(next.value);
  const check = checker.finish();
  // A damaged file also fails its checksum, most often: that one problem is enough.
  return damage && check.problems.length === 0 ? { ...check, problems: [damage] } : check;
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
