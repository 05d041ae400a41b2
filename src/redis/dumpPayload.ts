import { Crc64 } from '../integrity/crc64.js';

/** What a DUMP payload adds to the value's encoding: 2 bytes of RDB version and an 8-byte CRC-64. */
export const DUMP_TRAILER_BYTES = 10;

/** A DUMP payload: the value's RDB encoding, the RDB version (2 bytes LE), the CRC-64 of both (8 bytes LE). */
export function dumpPayload(value: Buffer, version: number): Buffer {
  const payload = Buffer.alloc(value.length + DUMP_TRAILER_BYTES);
  value.copy(payload);
  payload.writeUInt16LE(version, value.length);
  const crc = Crc64.jones();
  crc.update(payload.subarray(0, value.length + 2));
  payload.writeBigUInt64LE(crc.digest(), value.length + 2);
  return payload;
}
