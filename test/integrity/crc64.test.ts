import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Crc64 } from '../../src/integrity/crc64.js';

/** Bit by bit with BigInt: slow, obviously right, and shares no table with the code under test. */
function reference(bytes: Uint8Array, reflectedPolynomial: bigint, invert: boolean): bigint {
  const mask = (1n << 64n) - 1n;
  let crc = invert ? mask : 0n;
  for (const byte of bytes) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1n ? (crc >> 1n) ^ reflectedPolynomial : crc >> 1n;
  }
  return invert ? crc ^ mask : crc;
}

const ECMA_POLYNOMIAL = 0xc96c5795d7870f42n;
const JONES_POLYNOMIAL = 0x95ac9329ac4bc9b5n;

describe('Crc64', () => {
  it('gives the published check values of CRC-64/XZ (mongodump) and Redis (Jones) for "123456789"', () => {
    const text = Buffer.from('123456789');
    expect(Crc64.ecma().update(text).digest()).toBe(0x995dc9bbdf1939fan);
    expect(Crc64.jones().update(text).digest()).toBe(0xe9c6d914c4b8d9can);
  });

  it('agrees with a bit-by-bit reference at every length around the 8-byte steps', () => {
    const bytes = randomBytes(67);
    for (let length = 0; length <= bytes.length; length += 1) {
      const part = bytes.subarray(0, length);
      expect(Crc64.ecma().update(part).digest()).toBe(reference(part, ECMA_POLYNOMIAL, true));
      expect(Crc64.jones().update(part).digest()).toBe(reference(part, JONES_POLYNOMIAL, false));
    }
  });

  it('gives the same checksum however the bytes are split into updates', () => {
    const bytes = randomBytes(4096 + 5);
    const whole = Crc64.ecma().update(bytes).digest();
    for (const step of [1, 3, 7, 8, 9, 1000]) {
      const crc = Crc64.ecma();
      for (let offset = 0; offset < bytes.length; offset += step) crc.update(bytes.subarray(offset, offset + step));
      expect(crc.digest()).toBe(whole);
    }
  });
});
