/**
 * CRC-64 as Go's hash/crc64 computes it with the ECMA table — the checksum mongodump writes
 * into each namespace's EOF header (also known as CRC-64/XZ: reflected ECMA-182 polynomial,
 * all-ones initial value and final XOR). Kept in two 32-bit halves: BigInt per byte is far slower.
 */
const POLY_HI = 0xc96c5795;
const POLY_LO = 0xd7870f42;
const TABLE_HI = new Uint32Array(256);
const TABLE_LO = new Uint32Array(256);

for (let index = 0; index < 256; index += 1) {
  let hi = 0;
  let lo = index;
  for (let bit = 0; bit < 8; bit += 1) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi >>>= 1;
    if (carry) {
      hi = (hi ^ POLY_HI) >>> 0;
      lo = (lo ^ POLY_LO) >>> 0;
    }
  }
  TABLE_HI[index] = hi;
  TABLE_LO[index] = lo;
}

export class Crc64 {
  // The running value, kept inverted between updates as the algorithm wants.
  private hi = 0xffffffff;
  private lo = 0xffffffff;

  update(bytes: Uint8Array): this {
    let hi = this.hi;
    let lo = this.lo;
    for (let index = 0; index < bytes.length; index += 1) {
      const slot = (lo ^ bytes[index]) & 0xff;
      lo = (((lo >>> 8) | (hi << 24)) ^ TABLE_LO[slot]) >>> 0;
      hi = ((hi >>> 8) ^ TABLE_HI[slot]) >>> 0;
    }
    this.hi = hi;
    this.lo = lo;
    return this;
  }

  /** The checksum as an unsigned 64-bit value. */
  digest(): bigint {
    return (BigInt((~this.hi) >>> 0) << 32n) | BigInt((~this.lo) >>> 0);
  }
}
