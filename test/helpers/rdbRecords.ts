import { Crc64 } from '../../src/integrity/crc64.js';

/**
 * Crafted RDB bytes for tests: records written by hand (hostile lengths, module data) inside
 * files whose CRC-64 is valid, so that only the record itself is wrong.
 */

/** An RDB length: 6 bits, 14 bits, 32 bits or 64 bits (big-endian). */
export function rdbLength(value: number): Buffer {
  if (value < 64) return Buffer.from([value]);
  if (value < 16384) return Buffer.from([0x40 | (value >> 8), value & 0xff]);
  if (value < 2 ** 32) return Buffer.concat([Buffer.from([0x80]), Buffer.from(value.toString(16).padStart(8, '0'), 'hex')]);
  const wide = Buffer.alloc(9);
  wide[0] = 0x81;
  wide.writeBigUInt64BE(BigInt(value), 1);
  return wide;
}

/** A plain RDB string: its length, then its bytes. */
export function rdbString(text: string): Buffer {
  return Buffer.concat([rdbLength(Buffer.byteLength(text)), Buffer.from(text)]);
}

/** An LZF-encoded string whose record declares `declared` bytes uncompressed. */
export function lzfString(compressed: Buffer, declared: number): Buffer {
  return Buffer.concat([Buffer.from([0xc3]), rdbLength(compressed.length), rdbLength(declared), compressed]);
}

/** Valid LZF: the literal "a", then `references` back-references of 264 bytes each (3 bytes apiece, the most LZF writes). */
export function lzfOfRepeatedA(references: number): Buffer {
  const reference = Buffer.from([0xe0, 0xff, 0x00]); // length 7 + 255 + 2, distance 1
  return Buffer.concat([Buffer.from([0x00, 0x61]), ...Array.from({ length: references }, () => reference)]);
}

/** A string key record (type 0): `key` and `value` are encoded strings (rdbString, lzfString). */
export function stringKey(key: Buffer, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x00]), key, value]);
}

/** A key of a module type (7), "m", followed by bytes no walk can read: Redis cannot load it without the module. */
export const MODULE_KEY = Buffer.from([0x07, 0x01, 0x6d, 0x01, 0x00]);

/** `body` (up to and with its EOF opcode) followed by its CRC-64. */
function withChecksum(body: Buffer): Buffer {
  const crc = Crc64.jones();
  crc.update(body);
  const checksum = Buffer.alloc(8);
  checksum.writeBigUInt64LE(crc.digest());
  return Buffer.concat([body, checksum]);
}

/** A whole RDB file: header, database 0, the records, EOF and a valid CRC-64. */
export function rdbFile(...records: Buffer[]): Buffer {
  return withChecksum(Buffer.concat([Buffer.from('REDIS0011'), Buffer.from([0xfe, 0x00]), ...records, Buffer.from([0xff])]));
}

/** The RDB with `record` added before its EOF opcode, its CRC-64 recomputed: sound to the checksum. */
export function withRecord(rdb: Buffer, record: Buffer): Buffer {
  return withChecksum(Buffer.concat([rdb.subarray(0, rdb.length - 9), record, Buffer.from([0xff])]));
}

/**
 * The RDB with one more string key, "big", before its EOF: LZF bytes that expand to 72 kB at most
 * (the literal "a", then 273 back-references of 264 bytes) declaring 2 GB. CRC-64 recomputed.
 */
export function withLzfBomb(rdb: Buffer): Buffer {
  return withRecord(rdb, stringKey(rdbString('big'), lzfString(lzfOfRepeatedA(273), 2 ** 31)));
}

/** A set record (type 2) named `key` with `members` members of one byte each (a 0x01 length, then the byte): it gzips small. */
export function setOfOneByteMembers(key: string, members: number): Buffer {
  const head = Buffer.concat([Buffer.from([0x02, key.length]), Buffer.from(key), Buffer.from([0x80, 0, 0, 0, 0])]);
  head.writeUInt32BE(members, head.length - 4);
  const body = Buffer.alloc(2 * members);
  for (let index = 0; index < members; index += 1) {
    body[2 * index] = 0x01;
    body[2 * index + 1] = index % 251;
  }
  return Buffer.concat([head, body]);
}
