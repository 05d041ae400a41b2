import { Crc64 } from '../../src/integrity/crc64.js';

/** The RDB with `record` added before its EOF opcode, its CRC-64 recomputed: sound to the checksum. */
export function withRecord(rdb: Buffer, record: Buffer): Buffer {
  const body = Buffer.concat([rdb.subarray(0, rdb.length - 9), record, Buffer.from([0xff])]);
  const crc = Crc64.jones();
  crc.update(body);
  const checksum = Buffer.alloc(8);
  checksum.writeBigUInt64LE(crc.digest());
  return Buffer.concat([body, checksum]);
}

/**
 * The RDB with one more string key, "big", before its EOF: LZF bytes that expand to 72 kB at most
 * (the literal "a", then 273 back-references of 264 bytes) declaring 2 GB. CRC-64 recomputed.
 */
export function withLzfBomb(rdb: Buffer): Buffer {
  const compressed = Buffer.concat([Buffer.from([0x00, 0x61]), ...Array.from({ length: 273 }, () => Buffer.from([0xe0, 0xff, 0x00]))]);
  const lengths = Buffer.alloc(1 + 2 + 1 + 4);
  lengths.writeUInt16BE(0x4000 | compressed.length, 1); // 14-bit length
  lengths[0] = 0xc3; // LZF string encoding
  lengths[3] = 0x80; // 32-bit length
  lengths.writeUInt32BE(2 ** 31, 4);
  return withRecord(rdb, Buffer.concat([Buffer.from([0x00, 0x03]), Buffer.from('big'), lengths, compressed]));
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
