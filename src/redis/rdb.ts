import { Crc64 } from '../integrity/crc64.js';

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
